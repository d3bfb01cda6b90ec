"""rattler-build's own render of v1 recipes (`rattler-build build --render-only`, through
py-rattler-build's CLI entry point): the reference the fidelity tests compare against.

Run as a script, apart from orchestrate (nothing of orchestrate is imported):
    python rattler_build_render.py OUT_DIR VARIANT_FILE RECIPE.yaml...
writes OUT_DIR/<n>.json (what rattler-build prints: one entry per variant and output, skipped
ones left out) or OUT_DIR/<n>.error, n being the recipe's index in the arguments.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path


def render(recipe: str, variant_file: str, out: Path, scratch: Path) -> None:
    from rattler_build.cli_api import build_recipes

    saved = os.dup(1)
    with open(out.with_suffix(".json"), "wb") as stdout:
        os.dup2(stdout.fileno(), 1)  # rattler-build prints the render on the process's stdout
        try:
            build_recipes([recipe], render_only=True, target_platform="linux-64",
                          build_platform="linux-64", host_platform="linux-64",
                          variant_config=[variant_file], output_dir=scratch)
        except Exception as exc:  # noqa: BLE001 - report rattler-build's error as data
            out.with_suffix(".error").write_text(f"{type(exc).__name__}: {exc}\n")
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore")
    out_dir, variant_file, *recipes = argv
    for index, recipe in enumerate(recipes):
        render(recipe, variant_file, Path(out_dir) / str(index), Path(out_dir) / "output")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
