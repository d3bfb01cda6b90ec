"""The graph snapshot as data: a TargetGraph (recipes without `data`) ⇄ plain arrays.

What a warm `plan`, `why` and `graph` load (plan_caches.py), so decoding is shaped for speed:
each distinct requirement is stored once in a table, and so is each distinct tuple of them,
referred to by its index (5,000 recipes: ~35,000 tuples to rebuild, ~3,000 distinct
requirements), arrays are read as tuples, and records are built the way pickle builds them
(`object.__new__` and the field dict) instead of through the frozen dataclasses' `__init__`,
which costs three times more. Anything of another shape raises one of `cachefile.SHAPE_ERRORS`,
which the caller treats as a miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.edges import Unsatisfied
from orchestrator.graph import GraphNotes, TargetGraph
from orchestrator.recipes.model import Output, Recipe, Requirement, Source


@dataclass(frozen=True)
class Snapshot:
    graph: TargetGraph  # recipes without `data`
    digests: Mapping[str, str]  # node id → digest of its rendered recipe


def encode(tg: TargetGraph, digests: Mapping[str, str]) -> tuple:
    """A graph without cycles set aside (only such a graph is saved): its notes are the
    warnings and the requirements no variant satisfies."""
    table: dict[tuple, int] = {}  # by value with the line (Requirement's == ignores it)
    combos: dict[tuple[int, ...], int] = {}

    def ref(q: Requirement) -> int:
        return table.setdefault((q.name, q.spec, q.section, q.line), len(table))

    def refs(reqs) -> int:
        return combos.setdefault(tuple(map(ref, reqs)), len(combos))

    nodes = [(node, _encode_recipe(r, refs)) for node, r in tg.graph.nodes("recipe")]
    edges = [(a, b, refs(reqs)) for a, b, reqs in tg.graph.edges(data="requirements")]
    unsatisfied = [(u.node, u.path, ref(u.requirement), u.producer, u.offered)
                   for u in tg.notes.unsatisfied]
    return (list(table), list(combos), nodes, edges, dict(tg.producers),
            {k: list(v) for k, v in tg.external.items()}, dict(digests),
            (list(tg.notes.warnings), unsatisfied))


def _encode_recipe(r: Recipe, refs) -> tuple:
    outputs = [(o.name, o.version, o.build_number, o.noarch, refs(o.requirements), o.run_exports)
               for o in r.outputs]
    sources = [(s.kind, s.url, s.sha256, s.path, s.git_rev, s.patches, s.target_directory)
               for s in r.sources]
    return (r.target, r.path, r.format, outputs, sources, r.skipped, r.variant, r.files,
            refs(r.top_requirements))


def decode(value: Any) -> Snapshot:
    """The snapshot from `encode`'s arrays, read back as tuples."""
    import networkx as nx

    requirements, combos, nodes, edges, producers, external, digests, notes = value
    single = [_make(Requirement, dict(zip(_REQUIREMENT, _requirement(q), strict=True)))
              for q in requirements]
    table = [tuple([single[i] for i in combo]) for combo in combos]
    graph = nx.DiGraph()
    _fill(graph, {_node_id(node): _decode_recipe(n, table) for node, n in nodes},
          ((a, b, table[combo]) for a, b, combo in edges))
    external = {name: tuple(targets) for name, targets in external.items()}
    return Snapshot(TargetGraph(graph, strings_map(producers), external,
                                _notes(notes, single)), strings_map(digests))


def _notes(value: tuple, requirements: list[Requirement]) -> GraphNotes:
    warnings, unsatisfied = value
    return GraphNotes(_strings(warnings), tuple(
        Unsatisfied(node, path, requirements[q], producer, _strings(offered))
        for node, path, q, producer, offered in unsatisfied))


def _fill(graph, recipes: dict[str, Recipe], edges) -> None:
    """Nodes and edges written into the new graph's own dicts, as unpickling a DiGraph does:
    `add_edges_from` checks and creates nodes per edge and costs 100 ms for 30,000 edges. The
    dicts are filled in place, so the views networkx made of them stay valid."""
    node, succ, pred = graph._node, graph._succ, graph._pred
    for target, recipe in recipes.items():
        node[target] = {"recipe": recipe}
        succ[target] = {}
        pred[target] = {}
    for a, b, requirements in edges:
        if a not in node or b not in node:
            raise KeyError(f"edge {a} -> {b}: no such node")
        succ[a][b] = pred[b][a] = {"requirements": requirements}


_REQUIREMENT = ("name", "spec", "section", "line")
_OUTPUT = ("name", "version", "build_number", "noarch", "requirements", "run_exports")
_RECIPE = ("target", "path", "format", "outputs", "sources", "skipped", "variant", "files",
           "top_requirements")


def _decode_recipe(node: tuple, table: list[tuple[Requirement, ...]]) -> Recipe:
    fields = dict(zip(_RECIPE, node, strict=True))
    fields["outputs"] = tuple(
        _make(Output, dict(zip(_OUTPUT, (n, v, b, a, table[combo], x), strict=True)))
        for n, v, b, a, combo, x in fields["outputs"])
    fields["sources"] = tuple(Source(*s) for s in fields["sources"])
    fields["top_requirements"] = table[fields["top_requirements"]]
    fields["data"] = {}
    if not isinstance(fields["target"], str) or not isinstance(fields["files"], tuple):
        raise TypeError("not a recipe")
    return _make(Recipe, fields)


def _node_id(node) -> str:
    """A node id as saved: the label of a target's one variant, else `label[key=value]`."""
    if not isinstance(node, str):
        raise TypeError("not a node id")
    return node


def _make(cls, fields: dict):
    """A frozen dataclass instance from its complete field dict, as pickle makes one."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def _requirement(values: tuple) -> tuple:
    if not isinstance(values[3], int):
        raise TypeError("not a line number")
    return (*_strings(values[:3]), values[3])


def _strings(values: tuple) -> tuple:
    if not all(isinstance(v, str) for v in values):
        raise TypeError("not strings")
    return values


def strings_map(mapping: Mapping) -> dict[str, str]:
    """`mapping` when every key and value is a string (a cache's shape check)."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise TypeError("not a map of strings")
    return dict(mapping)
