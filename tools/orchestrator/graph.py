"""Rendered recipes → the dependency graph of targets; patterns, orders and queries on it (pure).

An edge goes from a dependent to the target producing a package it needs, and keeps the
requirements (section and spec as written) that made it. Packages no target produces are
third-party (`pip`, `gcc_linux-64`): they are listed in `external`, they are not errors.
"""

from __future__ import annotations

import difflib
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import networkx as nx

from orchestrator.errors import CycleError, PatternError, RecipeError, RecipeErrors
from orchestrator.recipes.model import SECTIONS, Recipe, Requirement

PATH_LIMIT = 100  # paths returned by `paths` / `why` before saying "truncated"
_SECTION_RANK = {s: i for i, s in enumerate(SECTIONS)}


@dataclass(frozen=True)
class TargetGraph:
    graph: nx.DiGraph  # nodes: labels (attribute `recipe`); edges: dependent → dependency
    producers: Mapping[str, str]  # package name → target producing it
    external: Mapping[str, tuple[str, ...]]  # third-party package → targets requiring it

    def recipe(self, target: str) -> Recipe:
        return self.graph.nodes[target]["recipe"]

    def requirements(self, target: str, dependency: str) -> tuple[Requirement, ...]:
        """What `target` asks of `dependency` (a target or a third-party package name)."""
        if self.graph.has_edge(target, dependency):
            return self.graph.edges[target, dependency]["requirements"]
        return tuple(r for r in _needed(self.recipe(target)) if r.name == dependency)


@dataclass(frozen=True)
class Paths:
    paths: tuple[tuple[str, ...], ...]
    truncated: bool


@dataclass(frozen=True)
class Why:
    """Who needs `package` (or `target`) and through which chains of targets."""

    target: str | None  # the target producing it; None for a third-party package
    package: str | None  # None when asked about a target producing several packages
    needed_by: tuple[str, ...]  # every target depending on it, directly or not, sorted
    paths: tuple[tuple[str, ...], ...]  # top-level target … `target` (or a target asking for
    # a third-party package)
    truncated: bool


# ---------------------------------------------------------------- building


def build_graph(recipes: Iterable[Recipe]) -> TargetGraph:
    """The graph of `recipes`; RecipeErrors for duplicate producers, CycleError for a cycle."""
    by_target = {r.target: r for r in sorted(recipes, key=lambda r: r.target)}
    producers = _producers(by_target.values())
    edges, external = _edges(by_target.values(), producers)
    graph = nx.DiGraph()
    graph.add_nodes_from((t, {"recipe": r}) for t, r in by_target.items())
    graph.add_edges_from((a, b, {"requirements": reqs}) for (a, b), reqs in sorted(edges.items()))
    if not nx.is_directed_acyclic_graph(graph):
        raise CycleError(_cycle_steps(graph))
    return TargetGraph(graph, producers, external)


def _producers(recipes: Iterable[Recipe]) -> dict[str, str]:
    producers: dict[str, Recipe] = {}
    errors = []
    for recipe in recipes:
        for name in dict.fromkeys(recipe.package_names):
            first = producers.setdefault(name, recipe)
            if first is not recipe:
                errors.append(_duplicate(name, first, recipe))
    if errors:
        raise RecipeErrors(errors)
    return {name: recipe.target for name, recipe in sorted(producers.items())}


def _duplicate(package: str, first: Recipe, second: Recipe) -> RecipeError:
    return RecipeError(
        second.path,
        f"package '{package}' is also produced by {first.path}",
        hint="rename one of the outputs or remove one recipe",
    )


def _needed(recipe: Recipe) -> tuple[Requirement, ...]:
    """Requirements on other recipes or third parties: none for a skipped recipe, none on itself."""
    if recipe.skipped:
        return ()
    own = set(recipe.package_names)
    reqs = (r for r in recipe.requirements() if r.name not in own)
    return tuple(sorted(reqs, key=lambda r: (_SECTION_RANK.get(r.section, 99), r.name, r.spec)))


def _edges(recipes: Iterable[Recipe], producers: Mapping[str, str]):
    edges: dict[tuple[str, str], list[Requirement]] = defaultdict(list)
    external: dict[str, set[str]] = defaultdict(set)
    for recipe in recipes:
        for req in _needed(recipe):
            producer = producers.get(req.name)
            if producer is not None:
                edges[recipe.target, producer].append(req)
            else:
                external[req.name].add(recipe.target)
    return (
        {key: tuple(reqs) for key, reqs in edges.items()},
        {name: tuple(sorted(targets)) for name, targets in sorted(external.items())},
    )


def _cycle_steps(graph: nx.DiGraph) -> list[tuple[str, str, str]]:
    """The shortest cycle through the smallest target on any cycle, as (from, to, requirement)."""
    component = min(
        (c for c in nx.strongly_connected_components(graph) if len(c) > 1), key=min
    )
    start, sub = min(component), graph.subgraph(component)
    backs = [nx.shortest_path(sub, n, start) for n in _sorted_succ(sub, start)]
    nodes = [start, *min(backs, key=len)]
    steps = itertools.pairwise(nodes)
    return [(a, b, describe_step(graph.edges[a, b]["requirements"])) for a, b in steps]


def describe_step(requirements: Iterable[Requirement]) -> str:
    """`host: b >=1, run: b` — the requirements behind one step, as written."""
    return ", ".join(f"{r.section}: {r.spec}" for r in requirements)


# ---------------------------------------------------------------- patterns and orders


def select(tg: TargetGraph, patterns: Iterable[str]) -> list[str]:
    """Targets matching any pattern (`//...`, `//recipes/...`, a label, a package name), sorted."""
    selected: set[str] = set()
    for pattern in patterns:
        matched = _matches(tg, pattern)
        if not matched and pattern != "//...":  # an empty workspace is not an error
            raise PatternError(f"no target matches '{pattern}'{_close_names(tg, pattern)}")
        selected.update(matched)
    return sorted(selected)


def _matches(tg: TargetGraph, pattern: str) -> list[str]:
    if pattern == "//...":
        return list(tg.graph)
    if pattern.startswith("//") and pattern.endswith("/..."):
        prefix = pattern[: -len("...")]
        return [t for t in tg.graph if t.startswith(prefix) or t == prefix.rstrip("/")]
    if pattern.startswith("//"):
        return [pattern.rstrip("/")] if pattern.rstrip("/") in tg.graph else []
    return [tg.producers[pattern]] if pattern in tg.producers else []


def _close_names(tg: TargetGraph, pattern: str) -> str:
    """A hint naming up to 3 close names: labels for a path-like pattern, else packages."""
    if "/" in pattern:  # `recipes/six` is most likely a label without its `//`
        pattern = "//" + pattern.lstrip("/")
        names = {label: label for label in tg.graph}
    else:  # a package name, or the directory name of a target (`python-six` → its label)
        names = {label.rsplit("/", 1)[-1]: label for label in tg.graph}
        names.update({name: name for name in [*tg.producers, *tg.external]})
    close = [pattern] if pattern in names else difflib.get_close_matches(pattern, names, 3, 0.6)
    hints = list(dict.fromkeys(names[c] for c in close))
    return f" (hint: did you mean {', '.join(repr(h) for h in hints)}?)" if hints else ""


def resolve_package(tg: TargetGraph, name: str) -> tuple[str | None, str | None]:
    """(target, package) for a label, a package a target produces, or a third-party package."""
    if name.startswith("//"):
        target = select(tg, [name])[0]
        outputs = tg.recipe(target).package_names
        return target, outputs[0] if len(outputs) == 1 else None
    if name in tg.producers:
        return tg.producers[name], name
    if name in tg.external:
        return None, name
    raise PatternError(f"no target or package matches '{name}'{_close_names(tg, name)}")


def with_dependencies(tg: TargetGraph, targets: Iterable[str]) -> list[str]:
    """`targets` and everything they depend on, sorted."""
    targets = set(targets)
    return sorted(targets.union(deps(tg, targets)))


def build_order(tg: TargetGraph, targets: Iterable[str]) -> list[str]:
    """A stable topological order of `targets`, dependencies first."""
    sub = tg.graph.subgraph(targets).reverse(copy=False)
    return list(nx.lexicographical_topological_sort(sub))


# ---------------------------------------------------------------- queries


def deps(tg: TargetGraph, targets: Iterable[str], depth: int | None = None) -> list[str]:
    """What `targets` depend on, transitively or up to `depth` steps, sorted."""
    return _reach(tg.graph.successors, targets, depth)


def rdeps(tg: TargetGraph, targets: Iterable[str], depth: int | None = None) -> list[str]:
    """What depends on `targets`, transitively or up to `depth` steps, sorted."""
    return _reach(tg.graph.predecessors, targets, depth)


def direct_deps(tg: TargetGraph, target: str, sections: Iterable[str] = SECTIONS) -> list[str]:
    """The targets `target` needs through requirements in `sections` (e.g. build and host)."""
    wanted = set(sections)
    return sorted(
        dep
        for dep, edge in tg.graph.succ[target].items()
        if any(r.section in wanted for r in edge["requirements"])
    )


def _reach(step, starts: Iterable[str], depth: int | None) -> list[str]:
    seen: set[str] = set()
    frontier = set(starts)
    while frontier and (depth is None or depth > 0):
        frontier = {n for node in frontier for n in step(node)} - seen
        seen |= frontier
        depth = None if depth is None else depth - 1
    return sorted(seen)


def paths(tg: TargetGraph, source: str, dest: str, limit: int = PATH_LIMIT) -> Paths:
    """Every dependency path from `source` down to `dest` (at most `limit`)."""
    allowed = (nx.descendants(tg.graph, source) | {source}) & (
        nx.ancestors(tg.graph, dest) | {dest}
    )
    if source not in allowed:
        return Paths((), False)
    return _capped_paths(tg.graph, [source], {dest}, allowed, limit)


def why(tg: TargetGraph, name: str, source: str | None = None, limit: int = PATH_LIMIT) -> Why:
    """Who needs `name` (a label, a package of a target or a third-party package) and how.

    Paths start at every top-level target (nothing depends on it), or at `source` if given,
    and end at the target producing the package (for a third-party one: at a target asking
    for it). Asked for one package of a multi-output recipe, only its requirers count.
    """
    target, package = resolve_package(tg, name)
    direct = _direct_requirers(tg, target, package)
    allowed = direct | set(rdeps(tg, direct))
    if source is not None:
        start = target_of(tg, source)
        allowed &= {start, *deps(tg, [start])}
        starts = [start] if start in allowed else []
    else:
        starts = sorted(n for n in allowed if tg.graph.in_degree(n) == 0)
    found = _capped_paths(tg.graph, starts, direct, allowed, limit)
    ending = (target,) if target else ()
    paths = tuple(path + ending for path in found.paths)
    return Why(target, package, tuple(sorted(allowed)), paths, found.truncated)


def _direct_requirers(tg: TargetGraph, target: str | None, package: str | None) -> set[str]:
    if target is None:
        return set(tg.external[package])
    return {
        dependent
        for dependent in tg.graph.predecessors(target)
        if package is None or any(r.name == package for r in tg.requirements(dependent, target))
    }


def target_of(tg: TargetGraph, name: str) -> str:
    """The one target a label or package name stands for; PatternError for anything else."""
    target, _ = resolve_package(tg, name)
    if target is None:
        raise PatternError(f"'{name}' is a third-party package, not a target of this workspace")
    return target


def _capped_paths(graph, sources, ends, allowed, limit: int) -> Paths:
    """Paths from `sources` to any node of `ends` inside `allowed` (a DAG, so all are simple).

    Every node of `allowed` leads to an end, so the walk costs in proportion to what it finds.
    """
    found: list[tuple[str, ...]] = []
    for path in _walk(graph, sources, ends, allowed):
        if len(found) == limit:
            return Paths(tuple(found), True)
        found.append(path)
    return Paths(tuple(found), False)


def _walk(graph, sources, ends, allowed) -> Iterator[tuple[str, ...]]:
    stack = [(s,) for s in reversed(sources)]
    while stack:
        path = stack.pop()
        if path[-1] in ends:
            yield path
        nexts = [n for n in _sorted_succ(graph, path[-1]) if n in allowed]
        stack.extend(path + (n,) for n in reversed(nexts))


def _sorted_succ(graph: nx.DiGraph, node: str) -> list[str]:
    return sorted(graph.successors(node))
