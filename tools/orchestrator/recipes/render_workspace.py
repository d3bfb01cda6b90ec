"""Every recipe of a workspace rendered: keyed (render_keys.py), read from the render cache
(render_cache.py) or rendered where it misses (render_pool.py), then typed results with their
`path:` sources checked. The I/O around the pure renderer (render.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from orchestrator.cachefile import collector_paused
from orchestrator.errors import RecipeError
from orchestrator.recipes import render_cache
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.discover import read_recipe
from orchestrator.recipes.entries import Entry, as_results, digests_of_entry
from orchestrator.recipes.model import RawRecipe, Recipe, node_ids
from orchestrator.recipes.render_keys import (
    Keyed,
    Needs,
    RenderKeys,
    context_for,
    describer,
    render_keys,
)


@dataclass(frozen=True)
class RenderResult:
    recipes: tuple[Recipe, ...]
    errors: tuple[RecipeError, ...]
    digests: Mapping[str, str] = field(default_factory=dict)  # node id → recipe_data_digest


def render_workspace(workspace, listing: Mapping[str, str] | None = None) -> RenderResult:
    """Every recipe of `workspace` rendered (cached by content); failures collected in errors.

    `listing` (every file git sees, workspace-relative path → blob id, working copy included)
    replaces walking the tree and reading the recipes the cache knows."""
    return render_keyed(workspace, indexed_render_keys(workspace, listing))


def indexed_render_keys(
    workspace, listing: Mapping[str, str] | None = None, index: dict[str, Needs] | None = None
) -> RenderKeys:
    """The cache key of every recipe, reading only the recipes the render index does not know
    (`index`: `render_cache.load_index(workspace.cache_dir)` when the caller has read it);
    the index is saved again when this run knows other texts."""
    index = render_cache.load_index(workspace.cache_dir) if index is None else index
    ahead = _Ahead(workspace)
    with collector_paused():  # as render_keyed: the keys and texts live as long as the run
        keys = replace(render_keys(workspace, listing, index, ahead.add), ahead=ahead.pool)
    if keys.index.keys() != index.keys():
        render_cache.save_index(workspace.cache_dir, dict(keys.index))
    return keys


class _Ahead:
    """The recipes whose text the render index does not know, sent to be rendered while the
    others are keyed; the renderer is imported at the first one only (a warm run has none)."""

    def __init__(self, workspace) -> None:
        self.workspace, self.describe, self.pool = workspace, describer(workspace.root), None

    def add(self, keyed: Keyed) -> None:
        if self.pool is None:
            from orchestrator.recipes.render_pool import RenderAhead

            self.pool = RenderAhead()
        self.pool.add(keyed.key, _work(self.workspace, keyed, self.describe))


def render_keyed(workspace, keys: RenderKeys) -> RenderResult:
    """The recipes of `keys`, from the render cache or rendered (in parallel) when missing;
    with the collector paused, as for loading a cache: 5,000 recipes are ~300,000 long-lived
    objects, which each full collection would walk again (a tenth of a cold plan)."""
    with collector_paused():
        entries = _entries(workspace, keys)
        return _result(workspace, keys, entries)


def _entries(workspace, keys: RenderKeys) -> dict[str, Entry]:
    """key → entry of every item of `keys`, the render cache saved again when it changed."""
    cached = render_cache.load_cache(workspace.cache_dir)
    ahead = keys.ahead.entries() if keys.ahead else {}
    fresh = ahead | _rendered(
        workspace, [k for k in keys.items if k.key not in cached and k.key not in ahead])
    entries = {k.key: fresh.get(k.key) or cached[k.key] for k in keys.items}
    if fresh or len(entries) != len(cached):
        render_cache.save_cache(workspace.cache_dir, entries, keys.ahead and keys.ahead.encoded)
    return entries


def _result(workspace, keys: RenderKeys, entries: dict[str, Entry]) -> RenderResult:
    results = [_checked_sources(workspace.root, r) for k in keys.items
               for r in as_results(entries[k.key], k.found.files)]
    digests = [d for k in keys.items for d in digests_of_entry(entries[k.key])]
    recipes = [(r, d) for r, d in zip(results, digests, strict=True) if isinstance(r, Recipe)]
    by_node: dict[str, str] = {}  # hashes look digests up by graph node
    for node, (_, digest) in zip(node_ids([r for r, _ in recipes]), recipes, strict=True):
        if digest is not None:
            by_node.setdefault(node, digest)  # the first, as build_graph keeps it
    return RenderResult(
        tuple(r for r, _ in recipes),
        keys.errors + tuple(r for r in results if isinstance(r, RecipeError)),
        by_node,
    )


def _rendered(workspace, missing: list[Keyed]) -> dict[str, Entry]:
    """key → entry of each recipe the cache missed, rendered (in parallel when many)."""
    if not missing:
        return {}  # the renderer (Jinja, rattler-build) is imported only on a miss
    from orchestrator.recipes.render_pool import render_entries

    describe = describer(workspace.root)
    work = [_work(workspace, k, describe) for k in missing]
    return dict(zip([k.key for k in missing], render_entries(work), strict=True))


def _checked_sources(root, result: Recipe | RecipeError) -> Recipe | RecipeError:
    """`path:` sources resolved on disk (issue 9): a symlink to outside the workspace is an
    error naming both paths; one to inside stands for its target (hashed by its content)."""
    from orchestrator.recipes.paths import OutsideWorkspace, resolve_inside

    if not isinstance(result, Recipe) or not any(s.kind == "path" for s in result.sources):
        return result
    sources = []
    for source in result.sources:
        if source.kind == "path":
            try:
                source = replace(source, path=resolve_inside(root, source.path))
            except OutsideWorkspace as exc:
                return RecipeError(result.path, f"source path {exc.path} resolves to "
                                   f"{exc.target}, outside the workspace")
        sources.append(source)
    return replace(result, sources=tuple(sources))


def _work(workspace, keyed: Keyed, describe) -> tuple[RawRecipe, RenderContext]:
    """What rendering a missing entry takes: the recipe's text and its context."""
    raw = keyed.raw or read_recipe(workspace.root, keyed.found)
    return raw, context_for(raw, workspace.root, keyed, describe)
