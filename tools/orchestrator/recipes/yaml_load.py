"""YAML for recipes: a fast C loader for the happy path, ruamel.yaml only to locate errors.

Like conda-build, numbers and dates stay text (`version: 1.10` is "1.10", not 1.1).
Recipes are untrusted: a document nested deeper than MAX_DEPTH or expanding (through aliases)
to more than MAX_NODES values is refused, before anything walks it recursively.
"""

from __future__ import annotations

import re

import yaml

from orchestrator.errors import RecipeError

MAX_DEPTH = 100  # conda-forge's deepest recipes nest about 8 levels
MAX_NODES = 200_000  # values after alias expansion; the largest corpus recipe has ~1,000
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TextScalarsLoader(_Loader):
    """Safe loader whose implicit ints, floats and timestamps are plain strings."""


_TEXT_TAGS = (":int", ":float", ":timestamp")
_TextScalarsLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith(_TEXT_TAGS)]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, file: str, loader: type = _TextScalarsLoader) -> object:
    """The YAML document in `text`; RecipeError with the line of the first syntax problem, or
    naming the file when the document is too deep or too large once its aliases expand."""
    document = _parsed(text, file, loader)
    problem = bounds_problem(document) if _may_exceed(text) else None
    if problem:
        raise RecipeError(file, problem, hint="aliases and nesting are limited in recipes")
    return document


def load_plain_yaml(text: str, file: str) -> object:
    """Like load_yaml, with YAML's own typing of scalars (for variant files, whose values
    conda-build reads typed: `with_icu: false` is a boolean)."""
    return load_yaml(text, file, _Loader)


_PREFIX = re.compile(r"^[ \-]*", re.M)


def _may_exceed(text: str) -> bool:
    """Whether the document of `text` could break the bounds: only through aliases, or nesting
    deeper than its longest line prefix of spaces and dashes plus its flow brackets allow. A
    recipe is seldom either, and walking every tree costs a tenth of a cold render."""
    if "&" in text:  # no anchor, no alias (an alias of an unknown anchor is a YAML error)
        return True
    brackets = text.count("[") + text.count("{")
    return brackets + max(map(len, _PREFIX.findall(text)), default=0) >= MAX_DEPTH


def bounds_problem(document: object) -> str | None:
    """Why `document` is refused (too deep, too many values counting each alias's expansion),
    or None. Iterative and memoized by identity, so a billion laughs costs a few steps."""
    sizes: dict[int, tuple[int, int]] = {}  # id → (values, depth) of an expanded subtree
    stack: list[tuple[object, bool]] = [(document, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes or not isinstance(node, dict | list):
            continue
        items = list(node.values()) if isinstance(node, dict) else node
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in items)
            continue
        counted = [sizes.get(id(c), (1, 0)) for c in items]
        values = 1 + sum(c[0] for c in counted)
        depth = 1 + max((c[1] for c in counted), default=0)
        if depth > MAX_DEPTH:
            return f"YAML nested deeper than {MAX_DEPTH} levels"
        if values > MAX_NODES:
            return f"YAML expands to more than {MAX_NODES:,} values (through aliases)"
        sizes[id(node)] = (values, depth)
    return None


def _parsed(text: str, file: str, loader: type) -> object:
    try:
        if "&" in text:  # anchors: shared and recursive values, the loader's own business
            return yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
        return _document(loader(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RecipeError(file, f"invalid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise RecipeError(file, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise RecipeError(file, f"YAML nested deeper than {MAX_DEPTH} levels") from None


def _document(loader) -> object:
    """What `loader.get_single_data()` gives, from the same nodes."""
    try:
        node = loader.get_single_node()
        return None if node is None else _constructed(node, loader)
    finally:
        loader.dispose()


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{t}" for t in ("str", "seq", "map"))


def _constructed(node: yaml.Node, loader) -> object:
    """The safe constructor's value of `node` (without anchors), built directly for what
    recipes are made of: maps with plain keys, lists, strings (the constructor's generic,
    two-step path costs a third of a render). Any other node, a boolean or a merge key say,
    is built by the loader itself."""
    tag = node.tag
    if tag == _STR and isinstance(node, yaml.ScalarNode):
        return node.value
    if tag == _SEQ and isinstance(node, yaml.SequenceNode):
        return [_constructed(item, loader) for item in node.value]
    if tag == _MAP and isinstance(node, yaml.MappingNode) and all(
            k.tag == _STR and isinstance(k, yaml.ScalarNode) for k, _ in node.value):
        return {k.value: _constructed(v, loader) for k, v in node.value}
    return loader.construct_document(node)


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
