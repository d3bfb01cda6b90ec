"""`orchestrate graph [TARGETS...] [--format text|dot|json]`: targets and their dependencies."""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Iterable

from orchestrator.commands._output import add_format, write, write_json
from orchestrator.commands._plan_options import loaded_graph
from orchestrator.commands._recipe_errors import reporting
from orchestrator.commands._tree import TextTree, tree_text
from orchestrator.graph import TargetGraph, describe_step, select, with_dependencies
from orchestrator.recipes.model import SECTIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", default=["//..."], help="patterns (default //...)")
    add_format(parser, "text", "dot", "json")


def run(args: argparse.Namespace) -> int:
    loaded = loaded_graph(args)
    with reporting(loaded):
        tg = loaded.graph
        nodes = with_dependencies(tg, select(tg, args.targets))
        if args.format == "json":
            write_json(graph_document(tg, nodes))
        else:
            write(graph_dot(tg, nodes) if args.format == "dot" else graph_text(tg, nodes))
    return 0


def graph_document(tg: TargetGraph, nodes: list[str]) -> dict:
    """The JSON document: nodes, one edge per (from, to, package), third-party packages."""
    keep = set(nodes)
    return {
        "nodes": [_node(tg, n) for n in sorted(keep)],
        "edges": _edge_documents(tg, keep),
        "external": [
            {"package": package, "required_by": [t for t in targets if t in keep]}
            for package, targets in sorted(tg.external.items())
            if keep.intersection(targets)
        ],
    }


def _node(tg: TargetGraph, target: str) -> dict:
    recipe = tg.recipe(target)
    return {
        "target": target,
        "path": recipe.target.removeprefix("//"),  # the target directory, not conda/
        "recipe": recipe.path,
        "outputs": [{"name": o.name, "version": o.version} for o in recipe.outputs],
        "skipped": recipe.skipped,
    }


def _edge_documents(tg: TargetGraph, keep: set[str]) -> list[dict]:
    """One per (dependent, dependency, package) between targets of `keep`, sorted; straight
    from the adjacency dicts (views and a sort of all edges cost more than the rest)."""
    documents = []
    # edges share requirement tuples (a loaded snapshot keeps one per distinct set: 5,000 for
    # 29,000 edges), so each is grouped once, by identity: the graph holds them all meanwhile
    grouped: dict[int, list[tuple[str, list[str]]]] = {}
    for dependent in sorted(keep):
        adjacency = tg.graph._succ[dependent]
        for dependency in sorted(adjacency):
            if dependency not in keep:
                continue
            requirements = adjacency[dependency]["requirements"]
            found = grouped.get(id(requirements))
            if found is None:
                found = grouped[id(requirements)] = _sections_by_package(requirements)
            documents += [{"from": dependent, "to": dependency, "package": package,
                           "sections": sections} for package, sections in found]
    return documents


def _sections_by_package(requirements) -> list[tuple[str, list[str]]]:
    sections: dict[str, list[str]] = {}
    for req in requirements:
        sections.setdefault(req.name, []).append(req.section)
    return [(package, _ordered(found)) for package, found in sorted(sections.items())]


_RANK = {s: i for i, s in enumerate(SECTIONS)}


def _ordered(sections: Iterable[str]) -> list[str]:
    """Known sections in their usual order, then any other, sorted; each once."""
    return list(_ordered_once(tuple(sections)))


@functools.cache
def _ordered_once(sections: tuple[str, ...]) -> tuple[str, ...]:
    """`_ordered` of the few combinations there are (asked once per edge)."""
    return tuple(sorted(set(sections), key=lambda s: (_RANK.get(s, len(_RANK)), s)))


def graph_dot(tg: TargetGraph, nodes: list[str]) -> str:
    """Graphviz DOT text: one node per target (label with its packages), edges with sections."""
    keep = set(nodes)
    lines = ["digraph targets {", "  rankdir=LR;", "  node [shape=box];"]
    for target in sorted(keep):
        outputs = "\n".join(f"{o.name} {o.version}" for o in tg.recipe(target).outputs)
        style = ", style=dashed" if tg.recipe(target).skipped else ""
        lines.append(f"  {_q(target)} [label={_q(target + chr(10) + outputs)}{style}];")
    for a, b in sorted(tg.graph.subgraph(keep).edges):
        label = ", ".join(_ordered({r.section for r in tg.requirements(a, b)}))
        lines.append(f"  {_q(a)} -> {_q(b)} [label={_q(label)}];")
    lines.append("}")
    return "\n".join(lines)


def _q(text: str) -> str:
    """A DOT quoted string (JSON escaping is valid DOT escaping for these characters)."""
    return json.dumps(text)


def graph_text(tg: TargetGraph, nodes: list[str]) -> str:
    """A tree from each target nothing selected depends on; shared subtrees are shown once."""
    keep = set(nodes)
    roots = [n for n in sorted(keep) if not keep.intersection(tg.graph.predecessors(n))]
    shown: set[str] = set()
    trees = []
    for root in roots:
        trees.append(TextTree(root))
        _grow(tg, trees[-1], root, shown)
    return tree_text(*trees) + _externals_line(tg, keep)


def _grow(tg: TargetGraph, tree: TextTree, root: str, shown: set[str]) -> None:
    """Depth first, without recursion (a chain of targets can be thousands long)."""
    shown.add(root)
    stack = [(tree, root, iter(tg.dependencies(root)))]
    while stack:
        branch, target, pending = stack[-1]
        dep = next(pending, None)
        if dep is None:
            stack.pop()
            continue
        step = describe_step(tg.requirements(target, dep))
        again = " (see above)" if dep in shown and tg.graph.out_degree(dep) else ""
        child = branch.add(f"--{step}--> {dep}{again}")
        if not again:
            shown.add(dep)
            stack.append((child, dep, iter(tg.dependencies(dep))))


def _externals_line(tg: TargetGraph, keep: set[str]) -> str:
    names = [p for p, targets in tg.external.items() if keep.intersection(targets)]
    return f"third-party: {', '.join(names)}\n" if names else ""
