"""The benchmark report: the machine, the goals (met or not) and the markdown tables (pure, but
for `machine()` which reads /proc and asks git)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

FIGURES = (  # key, label in the table
    ("cold", "cold `plan //...`"),
    ("warm", "warm no-op `plan //...`"),
    ("edit", "`plan //...` after 1 edit"),
    ("why", "`why numpy` (warm)"),
    ("graph", "`graph --format json`"),
    ("warm_alone", "warm no-op `plan //...`, no server"),
    ("rattler", "rattler-build render, multi-recipe (v1)"),
    ("rattler_stage0", "rattler-build Stage0 API per recipe (v1)"),
)
COMMANDS = """\
- generate: `benchmarks/generate.py` (seed 0) → `ws/` (git, meta.yaml) and `v1/` (recipe.yaml)
- cold: `orchestrate -C ws server stop; rm -rf ws/cache; orchestrate -C ws plan //... --format
  json` (no server, no cache: the command starts the workspace's server, which renders)
- warm: `orchestrate -C ws plan //... --format json` (every output already in the channel),
  answered by the workspace's server after one unmeasured run (the server sets up its file
  watch after its first answer); no server: the same with `ORCHESTRATE_SERVER=0` (a process of
  its own, reading the caches under `cache/`)
- edit: append a line to the deep source file, then the same plan
- why: `orchestrate -C ws why numpy`; graph: `orchestrate -C ws graph --format json`
- memory: the peak RSS of each command's process and the server's own peak (`VmHWM`, from
  `orchestrate server status`), whichever is larger
- rattler-build: `python benchmarks/rattler_render.py v1/ EMPTY_CHANNEL` = py-rattler-build
  `build_recipes([...every recipe.yaml], render_only=True, target_platform="linux-64")`, the
  code path of `rattler-build build --render-only --recipe-dir v1/` (render + topological sort,
  no solve); it includes its own interpreter start-up, like ours. The goals compare with this.
- rattler-build Stage0: `python benchmarks/rattler_render.py v1/ EMPTY_CHANNEL stage0` =
  `Stage0Recipe.from_file(f).render(render_config=RenderConfig(linux-64))` per recipe, no sort
- import: `python -X importtime -c "import orchestrator.cli"`; `orchestrate --version`
"""


@dataclass(frozen=True)
class Goal:
    name: str
    wanted: str
    measured: str
    met: bool


def machine() -> dict:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "commit": _commit(),
    }


def _meminfo_kb(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).parent)
    return done.stdout.strip() or "unknown"


# ---------------------------------------------------------------- goals


def goals(results: dict) -> list[Goal]:
    """The goals of the issue, checked at the largest size measured."""
    n = max(results["sizes"], key=int)
    f = results["sizes"][n]
    med = {k: f[k]["median"] for k, _ in FIGURES}
    rss = max(f.get("server_peak_mb", 0),
              *(f[k]["max_rss_mb"] for k, _ in FIGURES if not k.startswith("rattler")))
    warm_ratio = med["rattler"] / med["warm"]
    found = [
        Goal(f"warm no-op plan (N={n})", "≤ 0.15 s", f"{med['warm']:.3f} s", med["warm"] <= 0.15),
        Goal("warm plan vs rattler-build render", "≥ 12× faster", f"{warm_ratio:.1f}×",
             warm_ratio >= 12),
        Goal("cold plan vs rattler-build render", "≤ 1.0×",
             f"{med['cold'] / med['rattler']:.2f}×", med["cold"] <= med["rattler"]),
        Goal("plan after one edit", "≤ 0.4 s", f"{med['edit']:.3f} s", med["edit"] <= 0.4),
        Goal("why (warm)", "≤ 0.2 s", f"{med['why']:.3f} s", med["why"] <= 0.2),
        Goal("graph --format json (warm)", "≤ 0.3 s", f"{med['graph']:.3f} s",
             med["graph"] <= 0.3),
        Goal("peak memory of our commands and the server", "≤ 300 MB", f"{rss:.0f} MB",
             rss <= 300),
    ]
    p = results["precision"]
    found.append(Goal(f"precision over {p['edits']} edits (N={p['size']})",
                      "no false positive, no miss",
                      f"{p['false_positives']} false positives, {p['misses']} misses",
                      p["false_positives"] == 0 and p["misses"] == 0))
    for s in results.get("scheduler", ()):
        found.append(Goal(f"scheduler makespan, -j {s['slots']}",
                          "≤ 1.10 × bound (with measured per-job overhead)",
                          f"{s['effective_ratio']:.3f}", s["effective_ratio"] <= 1.10))
    return found


# ---------------------------------------------------------------- markdown


def markdown(results: dict) -> str:
    m = results["machine"]
    parts = [
        "# Benchmarks at organization scale\n",
        f"{m['date']} · {m['nproc']} CPUs ({m['cpu']}) · {m['memory_gb']} GB · "
        f"Python {m['python']} · {m['platform']} · commit {m['commit']} · "
        f"whole run {results.get('elapsed_s', 0):.0f} s · load average before/after "
        f"{_load(results, 'load_before')} / {_load(results, 'load_after')} "
        "(other work on the machine inflates the times)\n",
        "Run: `make bench` (= `.venv/bin/python benchmarks/run.py "
        f"--sizes {','.join(map(str, results['args']['sizes']))} --runs {results['args']['runs']}"
        f" --edits {results['args']['edits']}`)\n",
        "## Commands\n", COMMANDS,
        "## Goals\n", _goals_table(results["goals"]),
        "## Figures (median, min–max, runs; peak RSS of the child)\n", _figures_table(results),
        _ratios(results),
        "## Start-up\n", _imports(results["imports"]),
        "## Incremental precision\n", _precision(results["precision"]),
    ]
    if results.get("scheduler"):
        parts += ["## Scheduler efficiency\n", _scheduler(results["scheduler"])]
    if results.get("serve"):
        from serve_bench import serve_markdown

        parts += ["## Channel service (`orchestrate serve`, serve_bench.py)\n",
                  serve_markdown(results["serve"])]
    if results.get("profiles"):
        parts += ["## Where the time goes (N=" + str(max(results["sizes"], key=int)) + ")\n",
                  PROFILE_NOTE, *map(_profile, results["profiles"])]
    return "\n".join(parts) + "\n"


def _load(results: dict, key: str) -> str:
    return f"{results[key][0]:.1f}" if results.get(key) else "?"


def _goals_table(found: list[dict]) -> str:
    rows = ["| goal | wanted | measured | met |", "|---|---|---|---|"]
    rows += [f"| {g['name']} | {g['wanted']} | {g['measured']} | {_yes(g['met'])} |" for g in found]
    return "\n".join(rows) + "\n"


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def _figures_table(results: dict) -> str:
    sizes = sorted(results["sizes"], key=int)
    head = "| figure | " + " | ".join(f"N={n}" for n in sizes) + " |"
    rows = [head, "|---" * (len(sizes) + 1) + "|"]
    rows.append("| targets | " + " | ".join(str(results["sizes"][n]["targets"]) for n in sizes)
                + " |")
    for key, label in FIGURES:
        cells = [_cell(results["sizes"][n][key]) for n in sizes]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    rows.append("| server's peak memory (VmHWM) | " + " | ".join(
        f"{results['sizes'][n].get('server_peak_mb', 0):.0f} MB" for n in sizes) + " |")
    rows.append("| edit: targets rebuilt / expected | " + " | ".join(
        f"{results['sizes'][n]['edit_rebuilt']} / {results['sizes'][n]['edit_expected']}"
        for n in sizes) + " |")
    return "\n".join(rows) + "\n"


def _cell(stats: dict) -> str:
    return (f"{stats['median']:.3f} s ({stats['low']:.3f}–{stats['high']:.3f}, "
            f"n={stats['runs']}) · {stats['max_rss_mb']:.0f} MB")


def _ratios(results: dict) -> str:
    lines = []
    for n in sorted(results["sizes"], key=int):
        f = results["sizes"][n]
        rb = f["rattler"]["median"]
        stage0 = f["rattler_stage0"]["median"]
        lines.append(f"- N={n}: rattler-build render / warm plan = {rb / f['warm']['median']:.2f}×"
                     f" (Stage0 API: {stage0 / f['warm']['median']:.2f}×); cold plan / "
                     f"rattler-build render = {f['cold']['median'] / rb:.2f}× (Stage0 API: "
                     f"{f['cold']['median'] / stage0:.2f}×); edited file `{f['edit_file']}`")
    return "\n".join(lines) + "\n"


def _imports(imports: dict) -> str:
    v = imports["version"]
    return (f"- `import orchestrator.cli`: {imports['import_orchestrator_cli_ms']:.1f} ms "
            "cumulative (`-X importtime`): the CLI imports a command's module only when it runs\n"
            f"- `import orchestrator.commands.plan` (what every `plan` pays before its work): "
            f"{imports['import_plan_command_ms']:.1f} ms cumulative\n"
            f"- `orchestrate --version`: {v['median']:.3f} s ({v['low']:.3f}–{v['high']:.3f}, "
            f"n={v['runs']}) · {v['max_rss_mb']:.0f} MB\n")


def _precision(p: dict) -> str:
    lines = [
        f"- {p['edits']} seeded single-file edits in the N={p['size']} workspace; true set = the "
        "edited file's target and every target reaching it through build/host requirements "
        "(from the generator, not from orchestrate); median true set "
        f"{p['expected_median']} targets, largest {p['expected_max']}",
        f"- false positives: {p['false_positives']}; misses: {p['misses']}; hashes identical "
        f"after restoring every file: {'yes' if p['deterministic'] else '**no**'}",
    ]
    wrong = [e for e in p["details"] if e["false_positives"] or e["misses"]]
    for e in wrong[:10]:
        lines.append(f"  - `{e['file']}`: expected {e['expected']}, changed {e['changed']}; "
                     f"false positives {list(e['false_positives'][:3])}, "
                     f"misses {list(e['misses'][:3])}")
    return "\n".join(lines) + "\n"


def _scheduler(figures: list[dict]) -> str:
    rows = ["| -j | jobs | mean sleep | makespan | bound | ratio | bound with overhead | ratio "
            "| overhead/job |", "|---|---|---|---|---|---|---|---|---|"]
    rows += [f"| {s['slots']} | {s['jobs']} | {s['mean_sleep_s']:.2f} s | {s['makespan']:.2f} s |"
             f" {s['bound']:.2f} s | {s['ratio']:.3f} | {s['effective_bound']:.2f} s | "
             f"{s['effective_ratio']:.3f} | {s['overhead_ms']:.1f} ms |" for s in figures]
    note = ("\nbound = max(critical path, total work / slots) with the nominal sleeps; the bound "
            "with overhead uses each job's measured time (its sleep plus proc.py's spawn, poll "
            "and reap), so its ratio is what the scheduling itself costs.\n")
    return "\n".join(rows) + "\n" + note


PROFILE_NOTE = (
    "pyinstrument on the real command (wall-clock samples), summed per function as shares of "
    "the whole run: our functions by cumulative time (which step of the flow), then every "
    "function by own time (what inside it). Reproduce: `.venv/bin/pyinstrument -m "
    "orchestrator.cli -C WS plan //... --format json`.\n"
)


def _profile(p: dict) -> str:
    ours = "\n".join(f"  - {h['share']:.0%} {h['function']}" for h in p["ours"])
    own = "\n".join(f"  - {h['share']:.0%} {h['function']}" for h in p["own"])
    return (f"### {p['command']} ({p['seconds']:.2f} s under the profiler)\n\n"
            f"- ours, cumulative:\n{ours}\n- all, own time:\n{own}\n")


def replace_section(text: str, title: str, new: str) -> str:
    """`text` with its markdown section `title` (up to the next `## `) replaced by `new`, or
    `new` appended when there is none: each extra benchmark script owns one section."""
    if title not in text:
        return text.rstrip("\n") + "\n\n" + new
    head, _, rest = text.partition(title)
    tail = rest.split("\n## ", 1)
    return head + new + ("\n## " + tail[1] if len(tail) > 1 else "")


OTHER_SECTIONS = ("## v1 corpus render", "## Example organization build")  # their scripts'


def with_other_sections(text: str, previous: str) -> str:
    """`text` (run.py's report) with the sections the other benchmark scripts wrote into the
    previous report, so that running run.py alone does not lose them."""
    for title in OTHER_SECTIONS:
        if title in previous:
            section = title + previous.partition(title)[2].split("\n## ", 1)[0]
            text = replace_section(text, title, section.rstrip("\n") + "\n")
    return text
