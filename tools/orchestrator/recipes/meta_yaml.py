"""conda-build `meta.yaml`: selectors, then Jinja with conda-build's context, then YAML.

Like conda-build, selectors are applied before Jinja (so `{% set x = 1 %}  # [win]` works)
and again after it. Blanked lines keep their place, so errors point at the written line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from orchestrator.errors import RecipeError
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.jinja_context import meta_context, meta_environment, render_template
from orchestrator.recipes.model import RawRecipe
from orchestrator.recipes.selectors import apply_selectors
from orchestrator.recipes.yaml_load import load_yaml

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Rendered:
    tree: dict
    text: str  # the text the tree was read from (for locating errors)
    names: frozenset[str]  # names the selectors and templates read
    loaded: frozenset[str]  # files read by load_file_data


def render_meta_yaml(raw: RawRecipe, context: RenderContext) -> Rendered:
    """Selectors, Jinja, YAML; a recipe reading PKG_NAME / PKG_VERSION / PKG_BUILDNUM is
    rendered twice, the second time with the values the first found (as conda-build does)."""
    if "PKG_" not in raw.text:
        return _render(raw, context)
    first = _render(raw, context)
    return _render(raw, replace(context, package=_package_of(first.tree)))


def _package_of(tree: dict) -> tuple[str, str, str]:
    package = tree.get("package") if isinstance(tree.get("package"), dict) else {}
    build = tree.get("build") if isinstance(tree.get("build"), dict) else {}
    return (str(package.get("name") or ""), str(package.get("version") or ""),
            str(build.get("number") or 0))


def _render(raw: RawRecipe, context: RenderContext) -> Rendered:
    names = context.selector_names()
    text, used = apply_selectors(raw.text, names, raw.path)
    loaded: set[str] = set()
    if "{{" in text or "{%" in text:
        used |= {m for s in _JINJA.findall(text) for m in IDENTIFIER.findall(s)}
        jinja_names = meta_context(context, raw.directory, loaded)
        text = render_template(meta_environment(), text, jinja_names, raw.path)
        text, again = apply_selectors(text, names, raw.path)
        used |= again
    tree = load_yaml(text, raw.path)
    if not isinstance(tree, dict):
        raise RecipeError(raw.path, "a recipe must be a YAML mapping (package:, source:, ...)", 1)
    return Rendered(tree, text, frozenset(used), frozenset(loaded))
