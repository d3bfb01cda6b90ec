"""The I/O behind a plan: render, read files and git, resolve git sources, read channels.

`compute_plan` is what `plan`, `why` and `build` call; the decisions are in `plan.py` (pure)
and the hashes in `hashing.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from orchestrator import vcs
from orchestrator.channels import read_channels
from orchestrator.errors import RecipeErrors
from orchestrator.graph import TargetGraph, build_graph, direct_deps
from orchestrator.hashing import (
    HASHED_SECTIONS,
    FileIndex,
    build_config,
    changed_inputs,
    hash_targets,
    input_directories,
    read_file_index,
)
from orchestrator.plan import Plan, make_plan, select_targets
from orchestrator.recipes.model import Recipe
from orchestrator.workspace import WORKSPACE_FILE, Workspace

GLOBAL_INPUTS = (WORKSPACE_FILE,)  # a change here may concern every target
BUILDER_DISTRIBUTIONS = {"rattler-build": "py-rattler-build", "conda-build": "conda-build"}


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
    from orchestrator.recipes.render import render_workspace

    rendered = render_workspace(workspace)
    if rendered.errors:
        raise RecipeErrors(list(rendered.errors))
    tg = build_graph(rendered.recipes)
    plan = plan_graph(
        workspace, tg, patterns,
        changed_since=changed_since, dependents=dependents, full=full, offline=offline,
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
) -> Plan:
    """The plan for an already built graph (what `why` uses after loading it its own way)."""
    recipes = [tg.recipe(t) for t in tg.graph]
    files = read_file_index(workspace.root, [*input_directories(recipes), *GLOBAL_INPUTS])
    notices = [files.notice] if files.notice else []
    hashes = hash_workspace(workspace, tg, files, offline, notices)
    changed_files = (
        vcs.changed_files_since(workspace.root, changed_since) if changed_since else files.dirty
    )
    changed = changed_inputs(recipes, changed_files, GLOBAL_INPUTS)
    selected = select_targets(tg, patterns, changed if changed_since else None, dependents)
    channels = read_channels(
        [workspace.target_channel, *workspace.extra_channels],
        [workspace.platform, "noarch"], workspace.cache_dir, offline,
    )
    return make_plan(
        tg, selected, hashes, channels,
        platform=workspace.platform, changed=changed, full=full, notices=notices,
    )


def hash_workspace(
    workspace: Workspace, tg: TargetGraph, files: FileIndex, offline: bool, notices: list[str]
) -> dict[str, str]:
    """The hash of every target of the graph."""
    version = builder_version(workspace.config.build.builder)
    recipes = {t: tg.recipe(t) for t in tg.graph}
    return hash_targets(
        dependencies_first(tg),
        recipes,
        lambda t: direct_deps(tg, t, HASHED_SECTIONS),
        files,
        lambda t: build_config(workspace.config, t, version),
        resolve_git_sources(recipes.values(), offline, notices),
    )


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
    """(url, rev) → commit for every git source; offline, the rev as written (with a notice)."""
    wanted = sorted({
        (s.url or "", s.git_rev or "HEAD")
        for r in recipes for s in r.sources if s.kind == "git"
    })
    commits = {}
    for url, rev in wanted:
        if offline and not vcs.is_commit_id(rev):
            notices.append(f"offline: git source {url} '{rev}' not resolved to a commit")
            commits[url, rev] = rev
        else:
            commits[url, rev] = vcs.resolve_remote_rev(url, rev)
    return commits
