"""Stand-alone: render the first COUNT recipes of a workspace serially, in this process (what
each worker of a cold `plan` does), so that a profiler sees the rendering itself.

Usage: python render_serial.py WORKSPACE [COUNT]
Only contract functions: recipes.discover.discover_recipes and recipes.render.render_recipe.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(root: str, count: int = 1000) -> None:
    from orchestrator.errors import RecipeError
    from orchestrator.recipes.discover import discover_recipes
    from orchestrator.recipes.render import RenderContext, render_recipe
    from orchestrator.workspace import load_workspace

    workspace = load_workspace(Path(root), explicit=True)
    context = RenderContext(workspace.platform, tuple(sorted(workspace.config.variant.items())))
    failed = 0
    for raw in discover_recipes(workspace)[:count]:
        try:
            render_recipe(raw, context)
        except RecipeError:
            failed += 1
    if failed:
        sys.exit(f"{failed} recipes failed to render")


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:3]))
