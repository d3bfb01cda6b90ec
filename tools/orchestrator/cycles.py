"""Cycles in the graph of nodes: those conda-forge lives with, and those that stay errors (pure).

A cycle through a test-only requirement (pip needs wheel to build, wheel's test needs pip) is
broken at that edge: the test requirement then comes from the channels. It is said once, as a
warning naming every requirement on the cycle with its file and line (`graph.said_once`: once
for all the variants of the targets on it, whose recipe lines are the same). A cycle of build,
host or run requirements is a CycleError; `strict` raises it, otherwise its nodes are set aside
and the error kept, so that commands answer on the rest and report it at the end.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import networkx as nx

from orchestrator.errors import CycleError
from orchestrator.recipes.model import Requirement, label_of


def settle_cycles(graph: nx.DiGraph, strict: bool) -> tuple[list[str], list[CycleError]]:
    """Make `graph` acyclic in place; (warnings, one per variant a cycle is found in;
    errors)."""
    if nx.is_directed_acyclic_graph(graph):  # the usual case costs what it always did
        return [], []
    errors = _set_aside_hard_cycles(graph, strict)
    warnings = []  # by labels: the same text for each variant it is found in
    while not nx.is_directed_acyclic_graph(graph):
        nodes = cycle_nodes(graph)
        a, b = next((a, b) for a, b in itertools.pairwise(nodes) if _test_only(graph, a, b))
        warnings.append(_broken_text(graph, nodes, (a, b)))
        graph.remove_edge(a, b)
    return warnings, errors


def _test_only(graph: nx.DiGraph, a: str, b: str) -> bool:
    return all(r.section == "test" for r in graph.edges[a, b]["requirements"])


def _set_aside_hard_cycles(graph: nx.DiGraph, strict: bool) -> list[CycleError]:
    errors = []
    while True:
        hard = nx.subgraph_view(graph, filter_edge=lambda a, b: not _test_only(graph, a, b))
        if nx.is_directed_acyclic_graph(hard):
            return errors
        nodes = cycle_nodes(hard)
        error = CycleError(cycle_steps(graph, nodes))
        if strict:
            raise error
        errors.append(error)
        graph.remove_nodes_from(list(_component_of(hard, nodes[0])))


def _component_of(graph, node: str) -> set[str]:
    return next(c for c in nx.strongly_connected_components(graph) if node in c)


def cycle_nodes(graph) -> list[str]:
    """The shortest cycle through the smallest node on any cycle: [start, ..., start]."""
    component = min(
        (c for c in nx.strongly_connected_components(graph) if len(c) > 1), key=min
    )
    start, sub = min(component), graph.subgraph(component)
    backs = [nx.shortest_path(sub, n, start) for n in sorted(sub.successors(start))]
    return [start, *min(backs, key=len)]


def cycle_steps(graph: nx.DiGraph, nodes: list[str]) -> list[tuple[str, str, str]]:
    return [(a, b, located_step(graph.nodes[a]["recipe"].path, graph.edges[a, b]["requirements"]))
            for a, b in itertools.pairwise(nodes)]


def located_step(path: str, requirements: Iterable[Requirement]) -> str:
    """`host: b (recipes/a/meta.yaml:12)`: the requirements of one step, where written (the
    file:line only when the line is known)."""
    return ", ".join(f"{r.section}: {r.spec}" + (f" ({path}:{r.line})" if r.line else "")
                     for r in requirements)


def _broken_text(graph: nx.DiGraph, nodes: list[str], edge: tuple[str, str]) -> str:
    """The warning, naming targets by label: the same in every variant it is found in."""
    steps = " ".join(f"{label_of(a)} --{req}-->" for a, _, req in cycle_steps(graph, nodes))
    tested, needed = label_of(edge[0]), label_of(edge[1])
    return (f"cycle through a test requirement: {steps} {label_of(nodes[0])}: the test of "
            f"{tested} takes "
            f"{', '.join(sorted({r.name for r in graph.edges[edge]['requirements']}))} "
            f"from the channels (the edge {tested} -> {needed} is left out)")
