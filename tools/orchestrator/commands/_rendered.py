"""What `updates`, `update`, `lint`, `develop` and `new` share: the selected recipes with their
rendered tree (`planning.load_graph(with_data=True)`), and the recipes that failed to render."""

from __future__ import annotations

from orchestrator.graph import select, unlinked_graph
from orchestrator.recipes.model import Recipe


def selected_recipes(workspace, patterns: list[str],
                     every_variant: bool = False) -> tuple[list[Recipe], tuple]:
    """The rendered recipes (with `data`) of `patterns`, and the recipes that failed to render;
    one per target (its first variant: these commands look at the recipe file) unless
    `every_variant`. A recipe on a dependency cycle is selected all the same: these commands
    look at recipes one by one."""
    from orchestrator.errors import PatternError, StoppedAfterRecipeErrors
    from orchestrator.planning import load_graph

    loaded = load_graph(workspace, with_data=True)
    every = unlinked_graph(loaded.recipes)
    try:
        targets = select(every, patterns)
    except PatternError as exc:
        if loaded.render_errors:  # the target may be one of the recipes that failed: say which
            raise StoppedAfterRecipeErrors(loaded.render_errors, exc) from None
        raise
    recipes = [every.recipe(t) for t in targets]
    if not every_variant:
        recipes = list(_first_of_each_target(recipes).values())
    return recipes, loaded.render_errors


def _first_of_each_target(recipes) -> dict[str, Recipe]:
    first: dict[str, Recipe] = {}
    for recipe in recipes:
        first.setdefault(recipe.target, recipe)
    return first
