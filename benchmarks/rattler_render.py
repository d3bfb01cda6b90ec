"""Stand-alone: rattler-build's own multi-recipe render (what `rattler-build build --render-only
--recipe-dir DIR` does), for the same recipes as v1 `recipe.yaml`.

Usage: python rattler_render.py V1_ROOT CHANNEL_DIR
It finds every recipe.yaml under V1_ROOT (sorted) and calls py-rattler-build's
`build_recipes(files, render_only=True, target_platform="linux-64")`: the same code path as the
CLI's `--render-only` (rendering every variant, then sorting the recipes topologically), without
solving. The rendered JSON goes to stdout. Only stdlib + rattler_build, like a real user's script.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path


def main(v1_root: str, channel: str) -> None:
    import rattler_build

    files = sorted(str(p) for p in Path(v1_root).rglob("recipe.yaml"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # build_recipes is deprecated
        rattler_build.build_recipes(files, render_only=True, target_platform="linux-64",
                                    channel=[channel])


if __name__ == "__main__":
    main(*sys.argv[1:3])
