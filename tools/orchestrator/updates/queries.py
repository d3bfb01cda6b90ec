"""Rendered recipes of a workspace → the `Query` each checker reads (the recipe's data kept)."""

from __future__ import annotations

from orchestrator.recipes.model import Recipe
from orchestrator.updates import Query


def current_version(recipe: Recipe) -> str:
    package = recipe.data.get("package") if isinstance(recipe.data, dict) else None
    version = package.get("version") if isinstance(package, dict) else None
    return str(version) if version else recipe.outputs[0].version


def upstream_of(recipe: Recipe) -> tuple[tuple[str, str], ...]:
    extra = recipe.data.get("extra") if isinstance(recipe.data, dict) else None
    upstream = extra.get("upstream") if isinstance(extra, dict) else None
    if not isinstance(upstream, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in upstream.items()))


def query_of(recipe: Recipe) -> Query:
    urls = tuple(s.url for s in recipe.sources if s.kind == "url" and s.url)
    return Query(recipe.target, recipe.path, current_version(recipe), urls, upstream_of(recipe))
