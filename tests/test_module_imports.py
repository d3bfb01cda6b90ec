"""Given the package's source, when every `import` of orchestrator modules is read (lazy ones
inside functions too), then no module reaches itself again: imports flow one way (docs/
CONTRACTS.md), and the rendering modules in the order keys → renderer → pool → store."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import orchestrator

PACKAGE = Path(orchestrator.__file__).parent


def module_name(file: Path) -> str:
    parts = file.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST) -> set[str]:
    """Every orchestrator module a source imports: `from a.b import c` names a.b, and a.b.c when
    that is a module."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orchestrator"):
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("orchestrator")}
    return names


def import_graph() -> nx.DiGraph:
    files = {module_name(f): f for f in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    for name, file in files.items():
        graph.add_node(name)
        for target in imported(ast.parse(file.read_text(encoding="utf-8"))) & files.keys():
            if target != name and not name.startswith(f"{target}."):  # a package's __init__
                graph.add_edge(name, target)
    return graph


def test_no_module_imports_itself_back():
    cycles = [" -> ".join([*c, c[0]]) for c in nx.simple_cycles(import_graph())]
    assert cycles == []


def test_rendering_modules_import_in_the_order_data_flows():
    order = ["render_keys", "render", "entries", "render_pool", "render_cache", "render_workspace"]
    graph = import_graph()
    for position, name in enumerate(order):
        later = {f"orchestrator.recipes.{n}" for n in order[position + 1:]}
        assert not set(graph.successors(f"orchestrator.recipes.{name}")) & later, name
    assert "orchestrator.recipes.render_cache" not in set(
        graph.successors("orchestrator.hashing"))
