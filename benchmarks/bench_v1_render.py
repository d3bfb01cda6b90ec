"""The corpus's recipe.yaml files rendered by orchestrate vs by rattler-build's own render.

Usage: python benchmarks/bench_v1_render.py [--runs N] [--output benchmarks/RESULTS.md]

- orchestrate: `render_workspace` of a fresh workspace holding the 22 v1 feedstocks of
  ../shared/corpus with conda-forge's pinning as `[workspace] variant_config`, cold (no render
  cache), in a new interpreter (start-up included).
- rattler-build: `build_recipes([...22 recipe.yaml], render_only=True, target_platform=
  "linux-64", variant_config=[pinning])`, the code path of `rattler-build build --render-only`,
  in a new interpreter too.
The figures and their ratio replace the section `## v1 corpus render` of the output file.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import replace_section  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
SECTION = "## v1 corpus render"

OURS = """
import sys
from pathlib import Path
sys.path.insert(0, {tools!r})
from orchestrator.recipes.render_workspace import render_workspace
from orchestrator.workspace import load_workspace
result = render_workspace(load_workspace(Path({root!r}), explicit=True))
print(len(result.recipes), len(result.errors))
"""

THEIRS = """
import warnings
warnings.simplefilter("ignore")
from rattler_build.cli_api import build_recipes
build_recipes({files!r}, render_only=True, target_platform="linux-64",
              build_platform="linux-64", variant_config=[{pinning!r}], output_dir={out!r},
              continue_on_failure=True)
"""


def corpus_workspace(base: Path) -> Path:
    root = base / "ws"
    (root / "recipes").mkdir(parents=True)
    (root / "WORKSPACE.toml").write_text(
        '[workspace]\nname = "corpus"\nroots = ["recipes"]\n'
        'variant_config = ["conda_build_config.yaml"]\n\n[variant]\n')
    shutil.copy(CORPUS / "conda_build_config.yaml", root)
    for recipe in sorted(CORPUS.glob("recipes/*/recipe.yaml")):
        shutil.copytree(recipe.parent, root / "recipes" / recipe.parent.name)
    return root


def timed(code: str, cleanup: Path | None = None) -> float:
    if cleanup is not None:
        shutil.rmtree(cleanup, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, timeout=600)
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-v1-") as scratch:
        root = corpus_workspace(Path(scratch))
        files = [str(f) for f in sorted((root / "recipes").glob("*/recipe.yaml"))]
        ours = OURS.format(tools=str(REPO / "tools"), root=str(root))
        theirs = THEIRS.format(files=files, pinning=str(root / "conda_build_config.yaml"),
                               out=str(Path(scratch) / "out"))
        return {"orchestrate": [timed(ours, root / "cache") for _ in range(runs)],
                "rattler-build": [timed(theirs) for _ in range(runs)]}


def section(times: dict[str, list[float]]) -> str:
    ours, theirs = (statistics.median(times[k]) for k in ("orchestrate", "rattler-build"))
    lines = [SECTION, "",
             f"`python benchmarks/bench_v1_render.py` ({len(times['orchestrate'])} runs each, "
             "median, min–max; a new interpreter each, start-up included): the 22 recipe.yaml "
             "of ../shared/corpus with conda-forge's pinning, linux-64.", "",
             "| renderer | time |", "|---|---|"]
    for name, values in times.items():
        lines.append(f"| {name} | {statistics.median(values):.3f} s "
                     f"({min(values):.3f}–{max(values):.3f}) |")
    lines += ["", f"- orchestrate (cold, no render cache) / rattler-build = {ours / theirs:.2f}×",
              ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}: nothing to measure", file=sys.stderr)
        return 0
    text = section(measure(args.runs))
    print(text)
    args.output.write_text(replace_section(args.output.read_text(encoding="utf-8"), SECTION,
                                           text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
