"""What `updates`, `update` and `lint` share: the selected recipes rendered with their data
(the graph snapshot of `_load` keeps no data), and the recipes that failed to render."""

from __future__ import annotations

from orchestrator.errors import CycleError
from orchestrator.graph import TargetGraph, build_graph, select
from orchestrator.recipes.model import Recipe


def selected_recipes(workspace, patterns: list[str]) -> tuple[list[Recipe], tuple]:
    """The rendered recipes (with `data`) of `patterns`, and the recipes that failed to render."""
    from orchestrator.commands._load import StoppedAfterRecipeErrors
    from orchestrator.errors import PatternError
    from orchestrator.recipes.render_workspace import render_workspace

    rendered = render_workspace(workspace)
    graph = _graph(rendered.recipes)
    try:
        targets = select(graph, patterns)
    except PatternError as exc:
        if rendered.errors:  # the target may be one of the recipes that failed: say which
            raise StoppedAfterRecipeErrors(rendered.errors, exc) from None
        raise
    return [graph.recipe(t) for t in targets], rendered.errors


def _graph(recipes) -> TargetGraph:
    """The graph; with a cycle (the conda-forge corpus has one), only its nodes: these
    commands look at recipes one by one and select them by label or package name."""
    try:
        return build_graph(recipes)
    except CycleError:
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from((r.target, {"recipe": r}) for r in recipes)
        producers = {o.name: r.target for r in recipes for o in r.outputs}
        return TargetGraph(graph, producers, {})
