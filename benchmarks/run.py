"""Benchmarks at organization scale: `make bench` (= `.venv/bin/python benchmarks/run.py`).

For each size N (default 500, 2,000, 5,000 recipes) it generates a seeded workspace (git repo,
third-party recipes and internal projects, see generate.py) and measures through the real CLI,
as subprocesses (so start-up and imports count), each figure as the median of several runs
with its spread and the child's peak memory:

  1. cold `plan //...` (cache/ removed first)     4. `why numpy` (warm)
  2. warm no-op `plan //...`                       5. `graph --format json` (warm)
  3. `plan //...` after editing one source file deep in the graph
  and, side by side, rattler-build rendering the same recipes as v1 (rattler_render.py).

Then: incremental precision over seeded single-file edits (precision.py), the scheduler's
makespan against its lower bound (scheduling.py), import time. It prints a markdown report and
writes it to benchmarks/RESULTS.md, with the goals and whether each is met.

  .venv/bin/python benchmarks/run.py [--sizes 500,2000,5000] [--runs 5] [--smoke]
      [--edits 50] [--work DIR] [--output FILE|-] [--json FILE]

`--smoke` is N=200, one run, 20 edits, short sleeps, no RESULTS.md unless --output is given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import Workspace, generate, true_affected  # noqa: E402
from measure import Stats, repeat, run_child  # noqa: E402
from precision import edited, measure_precision, orchestrate, plan_argv  # noqa: E402
from report import goals, machine, markdown, with_other_sections  # noqa: E402

WHY_PACKAGE = "numpy"
SLOW_SIZE = 5_000  # at and above this size the slowest figures run at most 3 times


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,5000", help="recipe counts, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median, spread)")
    parser.add_argument("--edits", type=int, default=50, help="single-file edits for precision")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="N=200, 1 run: a quick sanity check")
    parser.add_argument("--work", type=Path, default=Path("/tmp/orchestrate-bench"))
    parser.add_argument("--output", help="markdown report file, - for none "
                        "(default benchmarks/RESULTS.md; none with --smoke)")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    parser.add_argument("--skip-scheduler", action="store_true")
    parser.add_argument("--skip-serve", action="store_true", help="skip the channel service")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs, args.edits = "200", 1, min(args.edits, 20)
        args.output = args.output or "-"
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.output = args.output or str(HERE / "RESULTS.md")
    return args


# ---------------------------------------------------------------- import time


def import_figures(runs: int) -> dict:
    version = repeat([orchestrate(), "--version"], max(runs, 3))
    return {"import_orchestrator_cli_ms": import_ms("orchestrator.cli"),
            "import_plan_command_ms": import_ms("orchestrator.commands.plan"),
            "version": asdict(version)}


def import_ms(module: str) -> float:
    """The cumulative import time of `module` in a fresh interpreter, in milliseconds."""
    done = run_child([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                     keep_output=True)
    return cumulative_import_ms(done.err, module)


def cumulative_import_ms(importtime: str, module: str) -> float:
    """From `-X importtime` lines `import time: self | cumulative | name`, in milliseconds."""
    for line in importtime.splitlines():
        match = re.match(r"import time:\s*\d+\s*\|\s*(\d+)\s*\|\s*(\S+)\s*$", line)
        if match and match.group(2) == module:
            return int(match.group(1)) / 1000
    raise ValueError(f"{module} not in -X importtime output")


# ---------------------------------------------------------------- per size


def size_figures(ws: Workspace, runs: int, empty_channel: Path) -> dict:
    """The five CLI figures and rattler-build's render for one workspace."""
    slow = min(runs, 3) if len(ws.packages) >= SLOW_SIZE else runs
    root = ws.root
    stop_server(root)
    first = run_child(plan_argv(root), keep_output=True)
    document = json.loads(first.out)
    publish_everything(root, document)
    figures = {"targets": len(document["nodes"])}
    figures["cold"] = repeat(plan_argv(root), slow, before=lambda i: cold(root))
    run_child(plan_argv(root))  # the server watches the files once it has answered once
    figures["warm"] = repeat(plan_argv(root), runs)
    figures.update(edit_figures(ws, runs))
    run_child(plan_argv(root))  # warm again after the edits were restored
    figures["why"] = repeat([orchestrate(), "-C", str(root), "why", WHY_PACKAGE], runs)
    figures["graph"] = repeat(
        [orchestrate(), "-C", str(root), "graph", "--format", "json"], runs)
    figures["server_peak_mb"] = server_peak_mb(root)
    stop_server(root)
    figures["warm_alone"] = repeat(plan_argv(root), slow,
                                   env={**os.environ, "ORCHESTRATE_SERVER": "0"})
    rattler = [sys.executable, str(HERE / "rattler_render.py"), str(ws.v1_root),
               str(empty_channel)]
    figures["rattler"] = repeat(rattler, slow)
    figures["rattler_stage0"] = repeat([*rattler, "stage0"], slow)
    return figures


def cold(root: Path) -> None:
    """No server and no cache: what the next command starts from."""
    stop_server(root)
    shutil.rmtree(root / "cache", ignore_errors=True)


def stop_server(root: Path) -> None:
    run_child([orchestrate(), "-C", str(root), "server", "stop"])


def server_peak_mb(root: Path) -> float:
    """The peak resident memory of the workspace's server (its VmHWM), in MB."""
    from orchestrator import server_client

    peaks = [server_client.request(sock, {"status": True})
             for sock in server_client.servers_of(str(root.resolve()))]
    return max((int(p["VmHWM"].split()[0]) / 1024 for p in peaks if p), default=0.0)


def deep_source_file(ws: Workspace) -> tuple[str, int]:
    """A source file of the internal project with the most targets depending on it (by
    build/host), and how many targets that edit must rehash."""
    internal = [p for p in ws.packages if p.internal] or list(ws.packages)
    reach = {p.target: len(true_affected(ws.packages, p.target)) for p in internal}
    target = max(sorted(reach), key=reach.get)
    files = ws.files[target]
    source = next((f for f in files if "/src/" in f), files[0])
    return source, reach[target]


def edit_figures(ws: Workspace, runs: int) -> dict:
    path, affected = deep_source_file(ws)
    file = ws.root / path
    original = file.read_text(encoding="utf-8")

    def edit(i: int) -> None:
        file.write_text(edited(path, original, 1000 + i), encoding="utf-8")

    try:
        stats = repeat(plan_argv(ws.root), runs, before=edit)
        rebuilt = count_builds(run_child(plan_argv(ws.root), keep_output=True).out)
    finally:
        file.write_text(original, encoding="utf-8")
    return {"edit": stats, "edit_file": path, "edit_expected": affected, "edit_rebuilt": rebuilt}


def count_builds(plan_json: str) -> int:
    nodes = json.loads(plan_json)["nodes"]
    items = nodes.values() if isinstance(nodes, dict) else nodes
    return sum(1 for node in items if node.get("action") == "build")


def publish_everything(root: Path, document: dict) -> None:
    """Make the workspace's target channel hold every output the plan names (repodata and a
    one-byte file each: a listed file must be there), so that a warm plan is the no-op of an
    organization whose packages are all published."""
    nodes = document["nodes"]
    by_subdir: dict[str, dict] = {}
    for node in nodes.values() if isinstance(nodes, dict) else nodes:
        for out in node.get("outputs", ()):
            by_subdir.setdefault(out["subdir"], {})[out["filename"]] = {
                "name": out["name"], "version": out["version"], "build": out["build"],
                "build_number": int(out["build"].rsplit("_", 1)[-1] or 0),
                "depends": [], "subdir": out["subdir"], "size": 1,
                "md5": "0" * 32, "sha256": "0" * 64,
            }
    channel = root / "channel"
    for subdir in {"noarch", "linux-64", *by_subdir}:
        write_repodata(channel / subdir, subdir, by_subdir.get(subdir, {}))
        for filename in by_subdir.get(subdir, {}):
            (channel / subdir / filename).write_bytes(b"\0")


def write_repodata(directory: Path, subdir: str, packages: dict) -> None:
    conda = {k: v for k, v in packages.items() if k.endswith(".conda")}
    tarballs = {k: v for k, v in packages.items() if not k.endswith(".conda")}
    directory.mkdir(parents=True, exist_ok=True)
    document = {"info": {"subdir": subdir}, "packages": tarballs, "packages.conda": conda,
                "repodata_version": 1}
    (directory / "repodata.json").write_text(json.dumps(document, sort_keys=True))


# ---------------------------------------------------------------- the whole run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    empty_channel = args.work / "empty-channel"
    write_repodata(empty_channel / "noarch", "noarch", {})
    results: dict = {"machine": machine(), "sizes": {}, "args": _shown_args(args),
                     "load_before": os.getloadavg()}
    results["imports"] = import_figures(args.runs)
    workspaces = {}
    for n in args.sizes:
        ws = workspaces[n] = generate(args.work / f"n{n}", n, args.seed)
        _log(f"N={n}: generated {len(ws.packages)} recipes")
        results["sizes"][n] = _plain(size_figures(ws, args.runs, empty_channel))
        _log(f"N={n}: done ({time.monotonic() - started:.0f}s so far)")
    precision = measure_precision(workspaces[min(args.sizes)], args.edits, args.seed)
    results["precision"] = _precision_summary(precision, min(args.sizes))
    for ws in workspaces.values():
        stop_server(ws.root)
    _log(f"precision: done ({time.monotonic() - started:.0f}s so far)")
    if not args.skip_scheduler:
        results["scheduler"] = _scheduler(args.smoke)
    if not args.skip_serve:
        from serve_bench import measure_serve

        _log("channel service")
        results["serve"] = measure_serve(args.work / "serve", args.smoke)
    if not args.smoke:
        results["profiles"] = _profiles(workspaces[max(args.sizes)].root)
    results["elapsed_s"] = time.monotonic() - started
    results["load_after"] = os.getloadavg()
    results["goals"] = [asdict(g) for g in goals(results)]
    _emit(results, args)
    return 0


def _scheduler(smoke: bool) -> list[dict]:
    from scheduling import measure_scheduler

    mean = 0.02 if smoke else 0.1
    figures = []
    for slots in (2, 8):
        fig = measure_scheduler(200, slots, mean=mean)
        figures.append({**asdict(fig), "ratio": fig.ratio, "effective_ratio": fig.effective_ratio,
                        "mean_sleep_s": mean})
    return figures


def _profiles(root: Path) -> list[dict]:
    """Where the time goes at the largest size (pyinstrument; see hotspots.py)."""
    from hotspots import profile_command, profile_program

    _log("profiling")
    ws = ["-C", str(root)]
    found = [
        profile_command([*ws, "plan", "//...", "--format", "json"],
                        label="warm plan //... in a process of its own (no server)"),
        profile_command([*ws, "why", WHY_PACKAGE],
                        label=f"why {WHY_PACKAGE} (warm, in a process of its own)"),
        profile_program([str(HERE / "render_serial.py"), str(root), "1000"], 12,
                        "rendering 1,000 recipes serially (a cold plan's workers)"),
    ]
    return [asdict(p) for p in found]


def _precision_summary(precision, n: int) -> dict:
    return {
        "size": n, "edits": len(precision.edits), "false_positives": precision.false_positives,
        "misses": precision.misses, "deterministic": precision.deterministic,
        "expected_median": statistics.median(e.expected for e in precision.edits),
        "expected_max": max(e.expected for e in precision.edits),
        "details": [asdict(e) for e in precision.edits],
    }


def _plain(figures: dict) -> dict:
    return {k: asdict(v) if isinstance(v, Stats) else v for k, v in figures.items()}


def _shown_args(args: argparse.Namespace) -> dict:
    return {"sizes": args.sizes, "runs": args.runs, "edits": args.edits, "seed": args.seed,
            "smoke": args.smoke}


def _emit(results: dict, args: argparse.Namespace) -> None:
    text = markdown(results)
    sys.stdout.write(text)
    if args.output != "-":
        output = Path(args.output)
        previous = output.read_text(encoding="utf-8") if output.exists() else ""
        output.write_text(with_other_sections(text, previous), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
