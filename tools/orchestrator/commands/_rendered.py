"""What `updates`, `update` and `lint` share: the selected recipes rendered with their data
(the graph snapshot of `_load` keeps no data), and the recipes that failed to render."""

from __future__ import annotations

from orchestrator.errors import CycleError
from orchestrator.graph import TargetGraph, build_graph, select, unlinked_graph
from orchestrator.recipes.model import Recipe


def selected_recipes(workspace, patterns: list[str],
                     every_variant: bool = False) -> tuple[list[Recipe], tuple]:
    """The rendered recipes (with `data`) of `patterns`, and the recipes that failed to render;
    one per target (its first variant: these commands look at the recipe file) unless
    `every_variant`."""
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
    recipes = [graph.recipe(t) for t in targets]
    if not every_variant:
        recipes = list(_first_of_each_target(recipes).values())
    return recipes, rendered.errors


def _first_of_each_target(recipes) -> dict[str, Recipe]:
    first: dict[str, Recipe] = {}
    for recipe in recipes:
        first.setdefault(recipe.target, recipe)
    return first


def _graph(recipes) -> TargetGraph:
    """The graph; with a cycle (the conda-forge corpus has one), only its nodes: these
    commands look at recipes one by one and select them by label or package name."""
    try:
        return build_graph(recipes)
    except CycleError:
        return unlinked_graph(recipes)
