"""The example organization built in full, with rattler-build and with conda-build, side by side.

Usage: python benchmarks/org_build.py [--output benchmarks/RESULTS.md] [--builders a,b]

For each builder, a fresh copy of the example organization (WORKSPACE.toml, recipes/,
internal/ as git tracks them here, committed in a new git repository) is built with
`orchestrate build //... --full` in a new process, and its wall time, CPU time and package
count are taken. The conda-build run needs the environment `make conda-build` creates
(`.venv-conda-build`); without it that row says so. The figures replace the section
`## Example organization build` of the output file.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import replace_section  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SECTION = "## Example organization build"
CONDA_BUILD = REPO / ".venv-conda-build" / "bin" / "conda-build"
ORCHESTRATE = Path(sys.executable).parent / "orchestrate"


def copy_example_org(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--", "WORKSPACE.toml", "recipes",
                            "internal"], cwd=REPO, check=True, capture_output=True,
                           text=True).stdout.split("\0")[:-1]
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel)
    (dest / ".gitignore").write_text("cache/\n", encoding="utf-8")
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "acme"]):
        subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@invalid",
                        *argv], cwd=dest, check=True)
    return dest


def with_builder(root: Path, builder: str) -> None:
    """Switch the copy's `[build] builder` (and name conda-build's command)."""
    toml = root / "WORKSPACE.toml"
    text = toml.read_text(encoding="utf-8").replace(
        'builder = "rattler-build"', f'builder = "{builder}"')
    if builder == "conda-build":
        text = text.replace("[build]\n", f'[build]\nconda_build = "{CONDA_BUILD}"\n', 1)
    toml.write_text(text, encoding="utf-8")


def build(root: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(ORCHESTRATE), "-C", str(root), "build", "//...", "--full",
                           "--report", str(root / "report.json")],
                          capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = root / "report.json"
    targets = json.loads(report.read_text())["targets"] if report.is_file() else []
    packages = sorted((root / "cache/channel").glob("*/*.conda"))
    return {"code": done.returncode, "wall": wall, "cpu": cpu, "targets": len(targets),
            "packages": len(packages), "tail": done.stderr.strip().splitlines()[-3:]}


def measure(builders: list[str]) -> dict[str, dict]:
    results = {}
    for builder in builders:
        if builder == "conda-build" and not CONDA_BUILD.exists():
            results[builder] = {"missing": f"{CONDA_BUILD} (make conda-build)"}
            continue
        with tempfile.TemporaryDirectory(prefix="bench-org-") as scratch:
            root = copy_example_org(Path(scratch) / "acme")
            with_builder(root, builder)
            results[builder] = build(root)
    return results


def section(results: dict[str, dict]) -> str:
    lines = [SECTION, "",
             "`python benchmarks/org_build.py`: `orchestrate build //... --full` of a fresh "
             "copy of the example organization (compiled packages included), one run per "
             "builder, 2 cores; CPU is the children's user + system time. With conda-build, "
             "meta.yaml recipes build with conda-build and recipe.yaml ones with rattler-build.",
             "", "| builder | wall | CPU | targets | packages | exit |",
             "|---|---|---|---|---|---|"]
    for builder, r in results.items():
        if "missing" in r:
            lines.append(f"| {builder} | not measured: no {r['missing']} | | | | |")
            continue
        lines.append(f"| {builder} | {r['wall']:.1f} s | {r['cpu']:.1f} s | {r['targets']} | "
                     f"{r['packages']} | {r['code']} |")
    failed = {b: r for b, r in results.items() if r.get("code")}
    for builder, r in failed.items():
        lines.append(f"\n{builder} failed; its last lines: " + " / ".join(r["tail"]))
    return "\n".join([*lines, ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    parser.add_argument("--builders", default="rattler-build,conda-build")
    args = parser.parse_args()
    text = section(measure(args.builders.split(",")))
    print(text)
    previous = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    args.output.write_text(replace_section(previous, SECTION, text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
