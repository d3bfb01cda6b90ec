"""The I/O behind a plan: render, read files and git, resolve git sources, read channels.

`compute_plan` is what `plan`, `why` and `build` call; the decisions are in `plan.py` (pure)
and the hashes in `hashing.py`. Git's view of the files is read once per run and serves
discovery, the render cache keys and the hashes. A warm run reads the graph snapshot and the
target hashes instead of rendering and hashing again (plan_caches.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator import plan_caches, vcs
from orchestrator.channels import read_channels
from orchestrator.errors import RecipeError, RecipeErrors, VcsError, WorkspaceError
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
from orchestrator.plan import Plan, make_plan, select_targets, unsupplied
from orchestrator.recipes.model import Recipe
from orchestrator.recipes.render_keys import RenderKeys
from orchestrator.snapshot import Snapshot
from orchestrator.workspace import WORKSPACE_FILE, TargetSettings, Workspace

GLOBAL_INPUTS = (WORKSPACE_FILE,)  # a change here may concern every target


def compute_plan(
    workspace: Workspace,
    patterns: Sequence[str],
    *,
    changed_since: str | None = None,
    dependents: bool = False,
    full: bool = False,
    offline: bool = False,
) -> tuple[TargetGraph, Plan]:
    """Render the workspace, build its graph and plan `patterns` (default `//...`)."""
    from orchestrator.recipes.render_workspace import render_workspace

    files = git_file_index(workspace.root)
    rendered = render_workspace(workspace, files.digests if files else None)
    if rendered.errors:
        raise RecipeErrors(list(rendered.errors))
    tg = build_graph(rendered.recipes)
    plan = plan_graph(
        workspace, tg, patterns,
        changed_since=changed_since, dependents=dependents, full=full, offline=offline,
        files=files, recipe_digests=rendered.digests,
    )
    return tg, plan


def plan_graph(
    workspace: Workspace,
    tg: TargetGraph,
    patterns: Sequence[str],
    *,
    changed_since: str | None = None,
    dependents: bool = False,
    full: bool = False,
    offline: bool = False,
    files: FileIndex | None = None,
    recipe_digests: Mapping[str, str] | None = None,
    graph_key: str | None = None,
) -> Plan:
    """The plan for an already built graph (what `why` uses after loading it its own way).

    `files`: the file index when the caller read it already; `recipe_digests`: target →
    digest of its rendered recipe (required for recipes without `data`, from the snapshot);
    `graph_key`: the snapshot key the graph was loaded under (then hashes are cached)."""
    check_overrides(workspace, tg)
    if changed_since is not None and not changed_since.strip():
        raise VcsError("--changed-since: the REF is empty (hint: a branch, tag or commit, "
                       "e.g. origin/main)")
    recipes = [tg.recipe(t) for t in tg.graph]
    if files is None:
        files = read_file_index(workspace.root, [*input_directories(recipes), *GLOBAL_INPUTS])
    notices = [files.notice] if files.notice else []
    hashes = hash_workspace(workspace, tg, files, offline, notices, recipe_digests, graph_key)
    changed_files = (
        vcs.changed_files_since(workspace.root, changed_since) if changed_since else files.dirty
    )
    changed = changed_nodes(tg, changed_inputs(_one_per_target(tg), changed_files, GLOBAL_INPUTS))
    selected = select_targets(tg, patterns, changed if changed_since else None, dependents)
    channels = read_channels(
        [workspace.target_channel, *workspace.extra_channels],
        [workspace.platform, "noarch"], workspace.cache_dir, offline,
    )
    plan = make_plan(
        tg, selected, hashes, channels,
        platform=workspace.platform, changed=changed, full=full, notices=notices,
    )
    missing = unsupplied(tg, plan, channels)
    if missing:
        raise RecipeErrors(missing)
    return plan


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


def hash_workspace(
    workspace: Workspace, tg: TargetGraph, files: FileIndex, offline: bool, notices: list[str],
    recipe_digests: Mapping[str, str] | None = None,
    graph_key: str | None = None,
) -> dict[str, str]:
    """The hash of every target of the graph; with `graph_key`, cached under a key of all
    they are a function of (the graph, every file's blob id, the build settings, the
    builder's version, the commits of git sources and the hashing code)."""
    recipes = {t: tg.recipe(t) for t in tg.graph}
    settings = {t: workspace.target_settings(recipes[t].target) for t in tg.graph}
    versions = {s: builder_version(s) for s in set(settings.values())}
    commits = resolve_git_sources(recipes.values(), offline, notices)
    key = graph_key and plan_caches.hashes_key(
        graph_key, files, (workspace.config, sorted(versions.values()), commits))
    cached = plan_caches.read_hashes(workspace.cache_dir, key) if key else None
    if cached is not None:
        return cached
    configs = build_configs(workspace.platform, settings, versions)
    hashes = hash_targets(
        dependencies_first(tg),
        recipes,
        dependencies_in(tg, HASHED_SECTIONS).__getitem__,
        files,
        configs.__getitem__,
        commits,
        recipe_digests,
    )
    if key:
        plan_caches.save_hashes(workspace.cache_dir, key, hashes)
    return hashes


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


def prepare(workspace: Workspace) -> Prepared:
    """Git's files, the render keys and the snapshot if it still holds. Git lists the files in
    its own processes meanwhile the snapshot and the render index are read (2 cores: the
    reads cost nothing more), and the snapshot is used only if its key matches."""
    from orchestrator.recipes.render_cache import load_index
    from orchestrator.recipes.render_workspace import indexed_render_keys

    pending = vcs.start_tree_state(workspace.root)
    saved = plan_caches.read_snapshot(workspace.cache_dir)
    index = load_index(workspace.cache_dir)
    files = git_file_index(workspace.root, pending)
    keys = indexed_render_keys(workspace, files.digests if files else None, index)
    key = plan_caches.snapshot_key(keys.digest())
    return Prepared(files, keys, key, plan_caches.snapshot_under(saved, key))
