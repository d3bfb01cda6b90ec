"""The I/O behind a plan: the one path from a workspace to its graph and to a plan.

`load_graph(workspace, with_data=...)` is the graph every command reads: from the graph snapshot
when it still holds (warm: no renderer imported), else rendered through the render cache, going
on past recipes that fail (kept in `errors`). `plan_graph(loaded, request)` is the plan of a
`plan.PlanRequest` on it: git's changes, hashes, channels; the decisions are in `plan.py` (pure)
and the hashes in `hashing.py`. `compute_plan` is both for callers that stop at any error
(`build`, `pipeline`). Git's view of the files is read once per run and serves discovery, the
render cache keys and the hashes.

The graph snapshot (`cache/render/graph.msgpack`, data only: cachefile.py) is the graph of
the last run with the digest of each rendered recipe, keyed by the render keys of every recipe
(their texts, the files they load, the file lists of their directories) and the code that built
it. Its recipes carry no `data` (hashes use the digests, and hashing refuses a recipe with
neither): what needs `data` (builders, render, lint, updates) asks for `with_data=True`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator import plan_caches, resident, vcs
from orchestrator.channels import read_channels
from orchestrator.errors import (
    OrchestratorError,
    RecipeError,
    RecipeErrors,
    StoppedAfterRecipeErrors,
    VcsError,
    WorkspaceError,
)
from orchestrator.files import changed_paths
from orchestrator.graph import TargetGraph, build_graph
from orchestrator.hashing import (
    HASHED_SECTIONS,
    BuildConfig,
    FileIndex,
    build_config,
    changed_inputs,
    file_index_of,
    hash_targets,
    input_directories,
    read_file_index,
    updated_file_index,
)
from orchestrator.plan import Plan, PlanRequest, make_plan, select_targets, unsupplied
from orchestrator.recipes.model import Recipe
from orchestrator.recipes.render_keys import RenderKeys
from orchestrator.snapshot import Snapshot
from orchestrator.workspace import WORKSPACE_FILE, TargetSettings, Workspace

GLOBAL_INPUTS = (WORKSPACE_FILE,)  # a change here may concern every target


@dataclass(frozen=True)
class LoadedGraph:
    """A workspace's graph and what was read on the way, for planning without reading again."""

    workspace: Workspace
    graph: TargetGraph
    recipes: tuple[Recipe, ...]  # every rendered recipe, those set aside with a cycle too
    render_errors: tuple[RecipeError, ...]  # recipes that failed to render
    digests: Mapping[str, str]  # node id → digest of its rendered recipe (what is hashed)
    files: FileIndex | None  # git's view of the files (None outside git)
    key: str | None  # the snapshot key, when this graph is snapshotted (then hashes are cached)

    @property
    def errors(self) -> tuple[OrchestratorError, ...]:
        """What to report after answering: recipes that failed, then cycles set aside."""
        return (*self.render_errors, *self.graph.notes.errors)

    def check(self) -> None:
        """For a caller that cannot go on past an error (a build, a CI pipeline): raise them."""
        errors = self.errors
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise RecipeErrors(list(errors))


def load_graph(workspace: Workspace, *, with_data: bool = False) -> LoadedGraph:
    """The workspace's graph: from the snapshot when it holds and `data` is not needed, else
    rendered (the render cache), with cycles set aside and failed recipes kept in `errors`; in
    a server, a rendered graph is kept under its key until its snapshot is read back (a graph
    with errors, never snapshotted, stays kept)."""
    prepared = prepare(workspace)
    snapshot, kept = prepared.snapshot, resident.current(workspace.root)
    if snapshot is not None and not with_data:
        if prepared.keys.ahead is not None:  # texts the render index lost: rendered for naught
            prepared.keys.ahead.entries()  # but waited for, so that no pool outlives the run
        if kept is not None:
            kept.loaded = None  # a graph rendered before the snapshot was saved: let go
        graph = snapshot.graph
        recipes = tuple(graph.recipe(t) for t in graph.graph)
        return LoadedGraph(workspace, graph, recipes, (), snapshot.digests, prepared.files,
                           prepared.key)
    if kept is None or with_data:
        return _rendered_graph(workspace, prepared)
    loaded = kept.kept("loaded", (), (prepared.key,),
                       lambda: _rendered_graph(workspace, prepared))
    return replace(loaded, workspace=workspace, files=prepared.files)


def _rendered_graph(workspace: Workspace, prepared: Prepared) -> LoadedGraph:
    """The snapshot missed: the graph of the rendered recipes, snapshotted unless it has
    errors. A server keeps the snapshot as the next command reads it back (decoded, its
    recipes share their requirements and carry no `data`: lighter, and faster to walk) rather
    than this graph."""
    from orchestrator.recipes.render_workspace import render_keyed

    key = prepared.key
    rendered = render_keyed(workspace, prepared.keys)
    graph = _graph_past_errors(rendered)
    if rendered.errors or graph.notes.errors:
        key = None  # a graph with errors is never saved
    else:
        plan_caches.save_snapshot(workspace.cache_dir, key, graph, rendered.digests)
    return LoadedGraph(workspace, graph, tuple(rendered.recipes), tuple(rendered.errors),
                       rendered.digests, prepared.files, key)


def _graph_past_errors(rendered) -> TargetGraph:
    """The graph of what rendered, cycles set aside (answer on the rest); an error that stops
    building the graph (two recipes producing one package) comes with the render errors."""
    try:
        return build_graph(rendered.recipes, strict=False)
    except RecipeErrors as exc:
        raise RecipeErrors([*rendered.errors, *exc.errors]) from None
    except OrchestratorError as exc:
        if rendered.errors:
            raise StoppedAfterRecipeErrors(tuple(rendered.errors), exc) from None
        raise


def compute_plan(workspace: Workspace, request: PlanRequest, *,
                 with_data: bool = False) -> tuple[TargetGraph, Plan]:
    """The graph and the plan of `request`, stopping at any recipe that fails or cycle."""
    loaded = load_graph(workspace, with_data=with_data)
    loaded.check()
    return loaded.graph, plan_graph(loaded, request)


def plan_graph(loaded: LoadedGraph, request: PlanRequest) -> Plan:
    """The plan of `request` on a loaded graph: what changed (git), the hashes, the channels."""
    workspace, tg = loaded.workspace, loaded.graph
    check_overrides(workspace, tg)
    changed_since = _checked_ref(request.changed_since)
    recipes = [tg.recipe(t) for t in tg.graph]
    files = loaded.files or _walked_files(workspace, recipes)
    notices = [files.notice] if files.notice else []
    commits = resolve_git_sources(recipes, request.offline, notices)
    hashes = hash_workspace(loaded, files, commits)
    changed_files = (
        vcs.changed_files_since(workspace.root, changed_since) if changed_since else files.dirty
    )
    channels = read_channels(
        [workspace.target_channel, *workspace.extra_channels],
        [workspace.platform, "noarch"], workspace.cache_dir, request.offline,
    )
    inputs = (request, hashes, channels, frozenset(changed_files), tuple(notices),
              workspace.platform)

    def decide() -> Plan:
        return decided_plan(tg, *inputs)

    kept = resident.current(workspace.root)
    return kept.kept_plan((tg,), inputs, decide) if kept is not None else decide()


def decided_plan(tg: TargetGraph, request: PlanRequest, hashes: Mapping[str, str], channels,
                 changed_files: frozenset[str], notices: tuple[str, ...], platform: str) -> Plan:
    """The plan of `request` once everything it is made of is read (pure)."""
    changed = changed_nodes(tg, changed_inputs(_one_per_target(tg), changed_files, GLOBAL_INPUTS))
    selected = select_targets(tg, request.patterns,
                              changed if request.changed_since else None, request.dependents)
    plan = make_plan(tg, selected, hashes, channels, platform=platform, changed=changed,
                     full=request.full, notices=list(notices))
    missing = unsupplied(tg, plan, channels)
    if missing:
        raise RecipeErrors(missing)
    return plan


def _checked_ref(ref: str | None) -> str | None:
    if ref is not None and not ref.strip():
        raise VcsError("--changed-since: the REF is empty (hint: a branch, tag or commit, "
                       "e.g. origin/main)")
    return ref


def _walked_files(workspace: Workspace, recipes: list[Recipe]) -> FileIndex:
    """Outside git: only the places the targets read, walked."""
    return read_file_index(workspace.root, [*input_directories(recipes), *GLOBAL_INPUTS])


def _one_per_target(tg: TargetGraph) -> list[Recipe]:
    """A target's variants share their input files: their changes are looked up once."""
    return [tg.recipe(nodes[0]) for nodes in tg.variants.values()]


def changed_nodes(tg: TargetGraph, changed: Mapping[str, tuple[str, ...]]) -> dict:
    """target label → changed inputs, as node id → changed inputs (every variant)."""
    return {node: files for label, files in changed.items() for node in tg.variants[label]}


def check_overrides(workspace: Workspace, tg: TargetGraph) -> None:
    """An override for a target that does not exist is a typo that would silently not apply."""
    unknown = sorted(set(workspace.config.build.overrides) - set(tg.variants))
    if unknown:
        raise WorkspaceError(
            f"{workspace.root / WORKSPACE_FILE}: build.overrides: {', '.join(unknown)} "
            "matches no target (hint: keys are target labels such as //recipes/<directory>)"
        )


def hash_workspace(loaded: LoadedGraph, files: FileIndex,
                   commits: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """The hash of every target of the graph; for a snapshotted graph, cached under a key of
    all they are a function of (the graph, every file's blob id, the build settings, the
    builder's version, the commits of git sources and the hashing code); in a server, kept,
    and after an edit only the targets owning a changed file and their dependents hashed."""
    workspace, tg = loaded.workspace, loaded.graph
    # a target's settings are [build]'s or one override's: their versions, before any target
    overridden = workspace.config.build.overrides
    distinct = {workspace.target_settings(label) for label in ("", *overridden)}
    versions = {s: builder_version(s) for s in distinct}
    settings = (workspace.config, sorted(versions.values()), commits)
    kept = resident.current(workspace.root) if loaded.key else None
    last = kept.hashes if kept is not None else None
    if last is not None and last.holds((tg,), settings):
        frame, before, hashes = last.value
        if files is not before:
            hashes = frame.rehashed(files, commits, hashes, _stale(tg, before, files))
    else:
        frame = HashFrame.of(loaded, versions)
        hashes = _cached_hashes(loaded, files, frame, commits, settings)
    if kept is not None:
        kept.hashes = resident.Kept((tg,), settings, (frame, files, hashes))
    return hashes


def _cached_hashes(loaded: LoadedGraph, files: FileIndex, frame: HashFrame,
                   commits: Mapping[tuple[str, str], str], settings: tuple) -> dict[str, str]:
    """Every target hashed, or read from the hash cache under the key of all they are made of."""
    cache_dir = loaded.workspace.cache_dir
    key = loaded.key and plan_caches.hashes_key(loaded.key, files, settings)
    cached = plan_caches.read_hashes(cache_dir, key) if key else None
    if cached is not None:
        return cached
    hashes = frame.rehashed(files, commits)
    if key:
        plan_caches.save_hashes(cache_dir, key, hashes)
    return hashes


def _stale(tg: TargetGraph, before: FileIndex, after: FileIndex) -> set[str]:
    """The nodes owning a file that differs between `before` and `after`."""
    changed = changed_paths(before.digests, after.digests)
    return set(changed_nodes(tg, changed_inputs(_one_per_target(tg), changed, GLOBAL_INPUTS)))


@dataclass(frozen=True)
class HashFrame:
    """What hashing a graph needs besides the files and commits: an order, each target's
    recipe, hashed dependencies and build settings (made once per graph and settings)."""

    order: list[str]
    recipes: Mapping[str, Recipe]
    dependencies: Mapping[str, list[str]]
    configs: Mapping[str, BuildConfig]
    digests: Mapping[str, str]

    @classmethod
    def of(cls, loaded: LoadedGraph, versions: Mapping[TargetSettings, str]) -> HashFrame:
        workspace, tg = loaded.workspace, loaded.graph
        recipes = {t: tg.recipe(t) for t in tg.graph}
        settings = {t: workspace.target_settings(recipes[t].target) for t in tg.graph}
        return cls(dependencies_first(tg), recipes, dependencies_in(tg, HASHED_SECTIONS),
                   build_configs(workspace.platform, settings, versions), loaded.digests)

    def rehashed(self, files: FileIndex, commits: Mapping[tuple[str, str], str],
                 previous: Mapping[str, str] | None = None, stale=()) -> dict[str, str]:
        return hash_targets(self.order, self.recipes, self.dependencies.__getitem__, files,
                            self.configs.__getitem__, commits, self.digests, previous, stale)


def build_configs(platform: str, settings: Mapping[str, TargetSettings],
                  versions: Mapping[TargetSettings, str]) -> dict[str, BuildConfig]:
    """The hashed build settings of every target (one object per distinct settings)."""
    made = {s: build_config(platform, s, versions[s]) for s in set(settings.values())}
    return {node: made[s] for node, s in settings.items()}


def dependencies_in(tg: TargetGraph, sections: Iterable[str]) -> dict[str, list[str]]:
    """target → the targets it needs through requirements in `sections`, sorted: what
    `graph.direct_deps` answers for one target, for all of them in one pass over the edges."""
    wanted = set(sections)
    found: dict[str, list[str]] = {t: [] for t in tg.graph}
    for dependent, dependency, reqs in tg.graph.edges(data="requirements"):
        if any(r.section in wanted for r in reqs):
            found[dependent].append(dependency)
    for deps in found.values():
        deps.sort()
    return found


def dependencies_first(tg: TargetGraph) -> list[str]:
    """Any topological order will do for hashing (a hash does not depend on the order), and
    this one costs a tenth of the lexicographic one on 5,000 targets."""
    import networkx as nx

    return list(reversed(list(nx.topological_sort(tg.graph))))


def builder_version(settings: TargetSettings) -> str:
    """The version of what builds a target: rattler-build's, and with conda-build also
    conda-build's (recipe.yaml recipes still go to rattler-build), so that upgrading either
    rebuilds what it built."""
    from importlib import metadata

    try:
        rattler = metadata.version("py-rattler-build")
    except metadata.PackageNotFoundError:
        rattler = "unknown"
    if settings.builder != "conda-build":
        return rattler
    return f"conda-build {conda_build_version(settings.conda_build)}, rattler-build {rattler}"


def conda_build_version(command: str) -> str:
    """conda-build's version in the environment of `command`, read from its dist-info (its
    own environment, not this one; nothing is run), or "unknown"."""
    import shutil

    found = shutil.which(command)
    if found is None:
        return "unknown"
    prefix = Path(found).parent.parent
    infos = sorted(prefix.glob("lib/python*/site-packages/conda_build-*.dist-info"))
    return infos[-1].name.removeprefix("conda_build-").removesuffix(".dist-info") if infos \
        else "unknown"


def resolve_git_sources(
    recipes: Iterable[Recipe], offline: bool, notices: list[str]
) -> dict[tuple[str, str], str]:
    """(url, rev) → commit for every git source; offline, the rev as written (with a notice).
    A source git cannot resolve is an error naming the first recipe that has it."""
    wanted: dict[tuple[str, str], str] = {}
    for r in recipes:
        for s in r.sources:
            if s.kind == "git":
                wanted.setdefault((s.url or "", s.git_rev or "HEAD"), r.path)
    commits = {}
    for url, rev in sorted(wanted):
        if offline and not vcs.is_commit_id(rev):
            notices.append(f"offline: git source {url} '{rev}' not resolved to a commit")
            commits[url, rev] = rev
            continue
        try:
            commits[url, rev] = vcs.resolve_remote_rev(url, rev)
        except VcsError as exc:
            raise RecipeError(wanted[url, rev], f"source: {exc}") from None
    return commits


# ---------------------------------------------------------------- what a command reads first


@dataclass(frozen=True)
class Prepared:
    """What a command reads before it knows whether the graph snapshot still holds."""

    files: FileIndex | None  # git's view of the files; None outside git
    keys: RenderKeys
    key: str  # the snapshot key of this state of the workspace
    snapshot: Snapshot | None  # the snapshot saved under `key`, if any
    tracked: Mapping[str, str] | None = None  # the blob ids of git's index (None outside git)


def prepare(workspace: Workspace) -> Prepared:
    """Git's files, the render keys and the snapshot if it still holds; in a server, the kept
    ones brought up to date with the changes its watch saw."""
    kept = resident.current(workspace.root)
    if kept is None:
        return _prepare(workspace)
    prepared = _updated(workspace, kept, kept.take_changes())
    kept.prepared = prepared
    return prepared


def _prepare(workspace: Workspace, kept: resident.Resident | None = None) -> Prepared:
    """Read afresh. Git lists the files in its own processes meanwhile the snapshot and the
    render index are read (2 cores: the reads cost nothing more), and the snapshot is used
    only if its key matches."""
    from orchestrator.recipes.render_cache import load_index
    from orchestrator.recipes.render_workspace import indexed_render_keys

    pending = vcs.start_tree_state(workspace.root)
    saved = plan_caches.read_snapshot(workspace.cache_dir) if kept is None else None
    index = load_index(workspace.cache_dir)
    state = pending.result()
    files = file_index_of(workspace.root, state)
    keys = indexed_render_keys(workspace, files.digests if files else None, index)
    key = plan_caches.snapshot_key(keys.digest())
    snapshot = (plan_caches.snapshot_under(saved, key) if kept is None
                else _kept_snapshot(workspace, kept, key))
    return Prepared(files, keys, key, snapshot, state.blobs if state else None)


def _updated(workspace: Workspace, kept: resident.Resident, changes) -> Prepared:
    """The kept Prepared after `changes`: the changed files read again; the render keys kept
    while none of what they read changed, else made again (from git's listing, kept)."""
    from orchestrator.recipes.render_cache import load_index
    from orchestrator.recipes.render_keys import keys_hold
    from orchestrator.recipes.render_workspace import indexed_render_keys

    last = kept.prepared
    if last is None or changes.everything or last.files is None or last.tracked is None:
        return _prepare(workspace, kept)
    if not changes.paths:
        return _with_snapshot(workspace, kept, last)
    files = updated_file_index(workspace.root, last.files, last.tracked, changes.paths)
    if files is None:
        return _prepare(workspace, kept)
    if keys_hold(last.keys, last.files.digests, files.digests):
        return _with_snapshot(workspace, kept, replace(last, files=files))
    keys = indexed_render_keys(workspace, files.digests, load_index(workspace.cache_dir))
    key = plan_caches.snapshot_key(keys.digest())
    return Prepared(files, keys, key, _kept_snapshot(workspace, kept, key), last.tracked)


def _with_snapshot(workspace: Workspace, kept: resident.Resident,
                   prepared: Prepared) -> Prepared:
    """`prepared` with its snapshot, which a render may have saved since it was read."""
    if prepared.snapshot is not None:
        return prepared
    return replace(prepared, snapshot=_kept_snapshot(workspace, kept, prepared.key))


def _kept_snapshot(workspace: Workspace, kept: resident.Resident, key: str) -> Snapshot | None:
    """The snapshot under `key`: the kept one, else read (its header first) and kept."""
    if kept.snapshot is not None and kept.snapshot.equal == (key,):
        return kept.snapshot.value
    if plan_caches.saved_key(workspace.cache_dir) != key:
        return None
    snapshot = plan_caches.snapshot_under(plan_caches.read_snapshot(workspace.cache_dir), key)
    if snapshot is not None:
        kept.snapshot = resident.Kept((), (key,), snapshot)
    return snapshot
