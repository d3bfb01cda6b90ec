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
from dataclasses import dataclass
from pathlib import Path

from orchestrator import vcs
from orchestrator.channels import read_channels
from orchestrator.errors import (
    OrchestratorError,
    RecipeError,
    RecipeErrors,
    StoppedAfterRecipeErrors,
    VcsError,
    WorkspaceError,
)
from orchestrator.graph import TargetGraph, build_graph
from orchestrator.hashing import (
    HASHED_SECTIONS,
    BuildConfig,
    FileIndex,
    build_config,
    changed_inputs,
    git_file_index,
    hash_targets,
    input_directories,
    read_file_index,
)
from orchestrator.plan import Plan, PlanRequest, make_plan, select_targets, unsupplied
from orchestrator.recipes.model import Recipe
from orchestrator.recipes.render_cache import RenderKeys
from orchestrator.snapshot import Snapshot, strings_map
from orchestrator.workspace import WORKSPACE_FILE, Workspace

GLOBAL_INPUTS = (WORKSPACE_FILE,)  # a change here may concern every target
BUILDER_DISTRIBUTIONS = {"rattler-build": "py-rattler-build", "conda-build": "conda-build"}


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
    rendered (the render cache), with cycles set aside and failed recipes kept in `errors`."""
    prepared = prepare(workspace)
    files, key, snapshot = prepared.files, prepared.key, prepared.snapshot
    if snapshot is not None and not with_data:
        graph = snapshot.graph
        recipes = tuple(graph.recipe(t) for t in graph.graph)
        return LoadedGraph(workspace, graph, recipes, (), snapshot.digests, files, key)
    from orchestrator.recipes.render import render_keyed  # the heavy part, only when needed

    rendered = render_keyed(workspace, prepared.keys)
    graph = _graph_past_errors(rendered)
    if rendered.errors or graph.notes.errors:
        key = None  # a graph with errors is never saved
    else:
        save_snapshot(workspace.cache_dir, key, graph, rendered.digests)
    return LoadedGraph(workspace, graph, tuple(rendered.recipes), tuple(rendered.errors),
                       rendered.digests, files, key)


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
    changed = changed_nodes(tg, changed_inputs(_one_per_target(tg), changed_files, GLOBAL_INPUTS))
    selected = select_targets(tg, request.patterns, changed if changed_since else None,
                              request.dependents)
    channels = read_channels(
        [workspace.target_channel, *workspace.extra_channels],
        [workspace.platform, "noarch"], workspace.cache_dir, request.offline,
    )
    plan = make_plan(
        tg, selected, hashes, channels,
        platform=workspace.platform, changed=changed, full=request.full, notices=notices,
    )
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
    builder's version, the commits of git sources and the hashing code)."""
    workspace, tg = loaded.workspace, loaded.graph
    version = builder_version(workspace.config.build.builder)
    recipes = {t: tg.recipe(t) for t in tg.graph}
    key = loaded.key and hashes_key(loaded.key, files, (workspace.config, version, commits))
    cached = read_hashes(workspace.cache_dir / HASHES_FILE, key) if key else None
    if cached is not None:
        return cached
    configs = build_configs(workspace, tg, version)
    hashes = hash_targets(
        dependencies_first(tg),
        recipes,
        dependencies_in(tg, HASHED_SECTIONS).__getitem__,
        files,
        configs.__getitem__,
        commits,
        loaded.digests,
    )
    if key:
        save_cached(workspace.cache_dir / HASHES_FILE, HASHES_KIND, key, hashes)
    return hashes


def hashes_key(graph_key: str, files: FileIndex, settings: tuple) -> str:
    import xxhash

    from orchestrator import hashing

    blobs = [files.digests[p] for p in files.paths]
    document = (graph_key, files.paths, blobs, settings, hashing.HASH_VERSION)
    code = Path(hashing.__file__).read_bytes() + Path(__file__).read_bytes()
    return xxhash.xxh3_128_hexdigest(repr(document).encode() + code)


def build_configs(workspace: Workspace, tg: TargetGraph, version: str) -> dict[str, BuildConfig]:
    """The hashed build settings of every target (one object shared by those not overridden)."""
    config = workspace.config
    shared = build_config(config, "", version)
    overrides = config.build.overrides
    labels = {t: tg.recipe(t).target for t in tg.graph}
    return {
        t: build_config(config, labels[t], version) if labels[t] in overrides else shared
        for t in tg.graph
    }


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


def builder_version(builder: str) -> str:
    """The installed version of the builder's distribution ("unknown" when not installed here,
    e.g. conda-build, which only exists inside its production container)."""
    from importlib import metadata

    try:
        return metadata.version(BUILDER_DISTRIBUTIONS.get(builder, builder))
    except metadata.PackageNotFoundError:
        return "unknown"


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


# ---------------------------------------------------------------- graph snapshot

SNAPSHOT_FILE = "render/graph.msgpack"
HASHES_FILE = "render/hashes.msgpack"


def snapshot_key(render_keys_digest: str) -> str:
    """The render keys and the code that turns rendered recipes into a graph."""
    import xxhash

    from orchestrator import cachefile, cycles, edges, graph, snapshot
    from orchestrator.recipes.render_cache import CODE_VERSION

    modules = (graph, edges, cycles, cachefile, snapshot)
    code = b"".join(Path(m.__file__).read_bytes() for m in modules)
    code += Path(__file__).read_bytes()
    return xxhash.xxh3_128_hexdigest(repr((render_keys_digest, CODE_VERSION)).encode() + code)


@dataclass(frozen=True)
class Prepared:
    """What a command reads before it knows whether the graph snapshot still holds."""

    files: FileIndex | None  # git's view of the files; None outside git
    keys: RenderKeys
    key: str  # the snapshot key of this state of the workspace
    snapshot: Snapshot | None  # the snapshot saved under `key`, if any


def prepare(workspace: Workspace) -> Prepared:
    """Git's files, the render keys and the snapshot if it still holds. Git lists the files in
    its own processes meanwhile the snapshot and the render index are read (2 cores: the
    reads cost nothing more), and the snapshot is used only if its key matches."""
    from orchestrator import cachefile
    from orchestrator.recipes.render_cache import collector_paused, load_index, render_keys

    pending = vcs.start_tree_state(workspace.root)
    with collector_paused():
        saved = cachefile.read(workspace.cache_dir / SNAPSHOT_FILE, SNAPSHOT_KIND, tuples=True)
    index = load_index(workspace.cache_dir)
    files = git_file_index(workspace.root, pending)
    keys = render_keys(workspace, files.digests if files else None, index)
    key = snapshot_key(keys.digest())
    snapshot = decode_snapshot(saved[1]) if saved is not None and saved[0] == key else None
    return Prepared(files, keys, key, snapshot)


SNAPSHOT_KIND = "graph-snapshot"
HASHES_KIND = "target-hashes"


def save_snapshot(cache_dir: Path, key: str, tg: TargetGraph, digests: Mapping[str, str]) -> None:
    """The graph without the recipes' `data` (the bulk of it), as plain arrays."""
    from orchestrator import snapshot

    save_cached(cache_dir / SNAPSHOT_FILE, SNAPSHOT_KIND, key, snapshot.encode(tg, digests))


def decode_snapshot(value) -> Snapshot | None:
    """The snapshot saved by `save_snapshot`; None when it is of another shape."""
    from orchestrator import snapshot
    from orchestrator.cachefile import SHAPE_ERRORS

    try:
        return snapshot.decode(value)
    except SHAPE_ERRORS:
        return None


def read_hashes(file: Path, key: str) -> dict[str, str] | None:
    """The target hashes saved under `key`; None when absent, under another key or malformed."""
    from orchestrator import cachefile

    saved = cachefile.read(file, HASHES_KIND, key)
    try:
        return strings_map(saved[1]) if saved is not None else None
    except cachefile.SHAPE_ERRORS:
        return None


def save_cached(file: Path, kind: str, key: str, value: object) -> None:
    """`value` saved under `key` (in the header, so a reader can check it alone): check, lock,
    check again, then replace the file atomically; readers never wait for the lock."""
    from filelock import FileLock

    from orchestrator import cachefile
    from orchestrator.errors import FileWriteError

    if cachefile.read_key(file, kind) == key:
        return
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{file}.lock"):
            if cachefile.read_key(file, kind) != key:
                cachefile.write(file, kind, key, value)
    except FileWriteError:
        raise
    except OSError as exc:  # the lock file: a full disk or a read-only cache/
        raise FileWriteError(f"{file}.lock", exc) from None
