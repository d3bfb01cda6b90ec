"""rattler-build `recipe.yaml` (v1): YAML first, then `context:`, `${{ }}` and `if/then/else`.

Expressions are evaluated with Jinja (one Environment with `${{ }}` delimiters); a string that
is exactly one `${{ expr }}` keeps the expression's type (e.g. a boolean for `skip`).
"""

from __future__ import annotations

from typing import Any

import jinja2

from orchestrator.errors import RecipeError
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.jinja_context import (
    _pin_function,
    cdt,
    compiler,
    jinja_error,
    stdlib,
    v1_expression,
    v1_template,
)
from orchestrator.recipes.meta_yaml import IDENTIFIER, Rendered
from orchestrator.recipes.model import RawRecipe
from orchestrator.recipes.yaml_load import line_of, load_yaml


class _Env:
    """`env.get` / `env.exists`, refused: rattler-build renders a recipe.yaml again at build
    time with the build's environment, so a value read here could differ from what was hashed
    (and a CI token could end up in a package). A variant key says the same thing safely."""

    def __init__(self, environ: dict[str, str]):
        self._environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:
        raise _refused(name)

    def exists(self, name: str) -> bool:
        raise _refused(name)


def _refused(name: str) -> ValueError:
    return ValueError(f"the recipe reads the environment variable {name!r}; orchestrate "
                      "renders and builds without the process environment (use a variant "
                      "key in WORKSPACE.toml [variant] instead)")


def _match(value: object, spec: str) -> bool:
    from rattler import Version, VersionSpec

    return VersionSpec(str(spec)).matches(Version(str(value)))


def v1_names(context: RenderContext) -> dict[str, Any]:
    variant, platform = dict(context.variant), context.platform
    return {
        **context.selector_names(),
        "env": _Env(context.environ()),
        "compiler": lambda language: compiler(language, platform, variant),
        "stdlib": lambda language: stdlib(language, platform, variant),
        "cdt": lambda package: cdt(package, platform, variant),
        "pin_subpackage": _pin_function("subpackage"),
        "pin_compatible": _pin_function("compatible"),
        "match": _match,
        # rattler-build's own script variable: left for the build to expand, as it does
        "PYTHON": "python" if platform.startswith("win") else "$PYTHON",
    }


class _Renderer:
    def __init__(self, raw: RawRecipe, names: dict[str, Any]):
        self.raw, self.names, self.used = raw, names, set()

    def fail(self, exc: Exception, path: tuple) -> RecipeError:
        if isinstance(exc, RecipeError):
            return exc
        return jinja_error(exc, self.raw.path, line_of(self.raw.text, path) or 1)

    def expression(self, text: str, path: tuple) -> Any:
        self.used |= set(IDENTIFIER.findall(text))
        try:
            value = v1_expression(text)(**self.names)
            if isinstance(value, jinja2.Undefined):
                value._fail_with_undefined_error()
            return value
        except Exception as exc:  # noqa: BLE001 - any error inside an expression
            raise self.fail(exc, path) from None

    def string(self, text: str, path: tuple) -> Any:
        if "${{" not in text:
            return text
        inner = text.strip()
        if inner.startswith("${{") and inner.endswith("}}") and inner.count("${{") == 1:
            return self.expression(inner[3:-2], path)
        self.used |= set(IDENTIFIER.findall(text))
        try:
            return v1_template(text).render(self.names)
        except Exception as exc:  # noqa: BLE001
            raise self.fail(exc, path) from None

    def node(self, value: Any, path: tuple) -> Any:
        if path[-2:] == ("build", "skip"):
            return self.skip(value, path)
        if isinstance(value, str):
            return self.string(value, path)
        if isinstance(value, dict):
            return {k: self.node(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return self.items(value, path)
        return value

    def items(self, values: list, path: tuple) -> list:
        out: list = []
        for index, item in enumerate(values):
            where = (*path, index)
            if isinstance(item, dict) and "if" in item:
                out.extend(self.conditional(item, where))
            else:
                out.append(self.node(item, where))
        return out

    def conditional(self, item: dict, path: tuple) -> list:
        if "then" not in item:
            raise RecipeError(self.raw.path, "`if:` needs a `then:`", line_of(self.raw.text, path))
        chosen = item["then"] if self.condition(item["if"], (*path, "if")) else item.get("else")
        if chosen is None:
            return []
        return self.items(chosen if isinstance(chosen, list) else [chosen], path)

    def skip(self, value: Any, path: tuple) -> bool:
        """`skip: [win, match(python, "<3.8")]`: true when any condition holds."""
        conditions = value if isinstance(value, list) else [value]
        return any(self.condition(c, (*path, i)) for i, c in enumerate(conditions))

    def condition(self, value: Any, path: tuple) -> bool:
        if isinstance(value, bool):
            return value
        return bool(self.string(value, path) if "${{" in str(value) else self.expression(
            str(value), path))


def render_recipe_yaml(raw: RawRecipe, context: RenderContext) -> Rendered:
    tree = load_yaml(raw.text, raw.path)
    if not isinstance(tree, dict):
        raise RecipeError(raw.path, "a recipe must be a YAML mapping (package:, source:, ...)", 1)
    renderer = _Renderer(raw, v1_names(context))
    rendered: dict[str, Any] = {}
    context_section = tree.get("context") or {}
    if not isinstance(context_section, dict):
        raise RecipeError(raw.path, "context must be a mapping", line_of(raw.text, ("context",)))
    for key, value in context_section.items():
        renderer.names[key] = renderer.node(value, ("context", key))
    if context_section:
        rendered["context"] = {k: renderer.names[k] for k in context_section}
    for key, value in tree.items():
        if key != "context":
            rendered[key] = renderer.node(value, (key,))
    return Rendered(rendered, raw.text, frozenset(renderer.used), frozenset())
