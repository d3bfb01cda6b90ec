"""Stand-alone: rattler-build rendering the same recipes as v1 `recipe.yaml`, two ways.

Usage: python rattler_render.py V1_ROOT CHANNEL_DIR [multi|stage0]

- `multi` (default, what the goals compare with): py-rattler-build's
  `build_recipes(files, render_only=True, target_platform="linux-64")`, the code path of
  `rattler-build build --render-only --recipe-dir V1_ROOT`: every recipe rendered for every
  variant, then sorted topologically, without solving; the rendered JSON goes to stdout.
- `stage0`: the newer per-recipe API, `Stage0Recipe.from_file(f).render(render_config=...)`
  for each file, with no topological sort: rattler-build's rendering alone.

Every recipe.yaml under V1_ROOT is found first (sorted), as --recipe-dir does. Only stdlib and
rattler_build, like a user's script.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path


def render_multi(files: list[str], channel: str) -> None:
    import rattler_build

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # build_recipes is deprecated
        rattler_build.build_recipes(files, render_only=True, target_platform="linux-64",
                                    channel=[channel])


def render_stage0(files: list[str]) -> None:
    from rattler_build.render import RenderConfig
    from rattler_build.stage0 import Stage0Recipe
    from rattler_build.tool_config import PlatformConfig

    config = RenderConfig(platform=PlatformConfig(target_platform="linux-64"))
    variants = sum(len(Stage0Recipe.from_file(f).render(render_config=config)) for f in files)
    if variants < len(files):
        sys.exit(f"only {variants} variants rendered for {len(files)} recipes")


def main(v1_root: str, channel: str, api: str = "multi") -> None:
    files = sorted(str(p) for p in Path(v1_root).rglob("recipe.yaml"))
    if api == "stage0":
        render_stage0(files)
    else:
        render_multi(files, channel)


if __name__ == "__main__":
    main(*sys.argv[1:4])
