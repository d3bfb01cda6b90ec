"""Rendering the recipes the render cache misses: one by one, or in a process pool when there
are many. Each recipe comes back as a render entry (entries.py) with the digest of its data."""

from __future__ import annotations

import os

from orchestrator.errors import RecipeError
from orchestrator.hashing import recipe_data_digest
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.entries import Entry, decode_entry, encode_entry
from orchestrator.recipes.model import RawRecipe, Requirement
from orchestrator.recipes.render import render_recipes

PARALLEL_FROM = 200  # below this, starting processes costs more than it saves


def render_entry(raw: RawRecipe, context: RenderContext) -> Entry:
    try:
        recipes = render_recipes(raw, context)
        if len(recipes) > 1:  # a recipe.yaml that rattler-build multiplied: one per variant
            return "many", tuple((r, recipe_data_digest(r.data)) for r in recipes)
        return "ok", (recipes[0], recipe_data_digest(recipes[0].data))
    except RecipeError as exc:
        return "error", (exc.file, exc.message, exc.line, exc.hint)


def render_entries(work: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    """Entries for `work`, in order; in a process pool when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(work) < PARALLEL_FROM or workers < 2:
        return _render_chunk(work)
    size = -(-len(work) // (workers * 4))
    chunks = [work[i:i + size] for i in range(0, len(work), size)]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        shared: dict[tuple, Requirement] = {}
        return [decode_entry(e, shared) for done in pool.map(_render_chunk_encoded, chunks)
                for e in done]


def _render_chunk(chunk: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    return [render_entry(raw, context) for raw, context in chunk]


def _render_chunk_encoded(chunk: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    """In a worker: entries as plain tuples, which cross the process boundary much faster."""
    return [encode_entry(entry) for entry in _render_chunk(chunk)]
