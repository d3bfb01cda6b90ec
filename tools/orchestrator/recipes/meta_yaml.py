"""conda-build `meta.yaml`: selectors, then Jinja with conda-build's context, then YAML.

Like conda-build, selectors are applied before Jinja (so `{% set x = 1 %}  # [win]` works)
and again after it. Blanked lines keep their place, so errors point at the written line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
