"""Rendering the recipes the render cache misses: one by one, or in a process pool when there
are many. Each recipe comes back as a render entry (entries.py) with the digest of its data."""

from __future__ import annotations

import os
from concurrent.futures import Future

from orchestrator.errors import RecipeError
from orchestrator.hashing import recipe_data_digest
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.entries import Entry, decode_entry, encode_entry
from orchestrator.recipes.model import RawRecipe, Requirement
from orchestrator.recipes.render import render_recipes

PARALLEL_FROM = 200  # below this, starting processes costs more than it saves
AHEAD_CHUNK = 125  # recipes per task of RenderAhead: small enough to keep both cores busy

Work = tuple[RawRecipe, RenderContext]


def render_entry(raw: RawRecipe, context: RenderContext) -> Entry:
    try:
        recipes = render_recipes(raw, context)
        if len(recipes) > 1:  # a recipe.yaml that rattler-build multiplied: one per variant
            return "many", tuple((r, recipe_data_digest(r.data)) for r in recipes)
        return "ok", (recipes[0], recipe_data_digest(recipes[0].data))
    except RecipeError as exc:
        return "error", (exc.file, exc.message, exc.line, exc.hint)


def render_entries(work: list[Work]) -> list[Entry]:
    """Entries for `work`, in order; in a process pool when there are many."""
    workers = _workers()
    if len(work) < PARALLEL_FROM or workers < 2:
        return _render_chunk(work)
    size = -(-len(work) // (workers * 4))
    chunks = [work[i:i + size] for i in range(0, len(work), size)]
    with _pool(workers) as pool:
        shared: dict[tuple, Requirement] = {}
        return [decode_entry(e, shared) for done in pool.map(_render_chunk_encoded, chunks)
                for e in done]


class RenderAhead:
    """Recipes rendered in a process pool while the caller goes on (keying the others): a cold
    run keys 5,000 recipes in about a second, which the workers spend rendering. The pool
    starts once PARALLEL_FROM recipes are waiting; fewer are rendered here, one by one."""

    def __init__(self) -> None:
        self._waiting: list[tuple[str, Work]] = []
        self._tasks: list[tuple[list[str], Future]] = []
        self._pool = None
        self.encoded: dict[str, Entry] = {}  # key → entry as the workers sent it (encode_entry)

    def add(self, key: str, work: Work) -> None:
        self._waiting.append((key, work))
        if self._pool is None and len(self._waiting) >= PARALLEL_FROM and _workers() > 1:
            self._pool = _pool(_workers())
        if self._pool is not None and len(self._waiting) >= AHEAD_CHUNK:
            self._submit()

    def entries(self) -> dict[str, Entry]:
        """key → entry of every recipe added, once rendered."""
        if self._pool is None:
            return {key: render_entry(*work) for key, work in self._waiting}
        self._submit()
        shared: dict[tuple, Requirement] = {}
        entries = {}
        try:  # each task decoded as it comes, while the workers render the next ones
            for keys, task in self._tasks:
                for key, entry in zip(keys, task.result(), strict=True):
                    self.encoded[key], entries[key] = entry, decode_entry(entry, shared)
        finally:
            self._pool.shutdown()
        return entries

    def _submit(self) -> None:
        if self._waiting:
            keys, work = zip(*self._waiting, strict=True)
            self._tasks.append((list(keys), self._pool.submit(_render_chunk_encoded, work)))
            self._waiting = []


def _workers() -> int:
    return min(os.cpu_count() or 1, 8)


def _pool(workers: int):
    """Forked workers inherit the renderer, imported above, and collect garbage as usual
    (their parent may be forking them with its collector paused)."""
    import gc
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, initializer=gc.enable)


def _render_chunk(chunk: list[Work]) -> list[Entry]:
    return [render_entry(raw, context) for raw, context in chunk]


def _render_chunk_encoded(chunk: list[Work]) -> list[Entry]:
    """In a worker: entries as plain tuples, which cross the process boundary much faster."""
    return [encode_entry(entry) for entry in _render_chunk(chunk)]
