"""YAML for recipes: a fast C loader for the happy path, ruamel.yaml only to locate errors.

Like conda-build, numbers and dates stay text (`version: 1.10` is "1.10", not 1.1).
"""

from __future__ import annotations

import yaml

from orchestrator.errors import RecipeError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TextScalarsLoader(_Loader):
    """Safe loader whose implicit ints, floats and timestamps are plain strings."""


_TEXT_TAGS = (":int", ":float", ":timestamp")
_TextScalarsLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith(_TEXT_TAGS)]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, file: str) -> object:
    """The YAML document in `text`; RecipeError with the line of the first syntax problem."""
    try:
        return yaml.load(text, Loader=_TextScalarsLoader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RecipeError(file, f"invalid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise RecipeError(file, f"invalid YAML: {exc}") from None


def line_of(text: str, keys: tuple[object, ...]) -> int | None:
    """The 1-based line of the node at `keys` (mapping keys / list indexes) in `text`, or of the
    deepest ancestor that exists; None when the text does not parse. Used on error paths only."""
    from ruamel.yaml import YAML

    try:
        node = YAML(typ="rt", pure=True).load(text)
    except Exception:  # noqa: BLE001 - any parse failure just means "no line known"
        return None
    line = None
    for key in keys:
        position = _position(node, key)
        if position is None:
            break
        line, node = position[0] + 1, node[key]
    return line


def _position(node, key):
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    if isinstance(node, dict) and key in node:
        return lc.key(key)
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return lc.item(key)
    return None
