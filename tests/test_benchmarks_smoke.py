"""The benchmark harness at its smallest (N=200, one run): every figure is there and sane.

This checks the harness and the figures' shape, never the times (timing goals live in the
benchmark's own report). It runs the real `benchmarks/run.py --smoke` as a subprocess, which
generates a real git workspace and runs the real CLI, rattler-build and scheduler.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("cold", "warm", "edit", "why", "graph", "warm_alone", "rattler", "rattler_stage0")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[dict, str]:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results.json"
    report = tmp / "RESULTS.md"
    runtime = tmp / "runtime"  # the servers' sockets, of this test's own
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "ORCHESTRATE_SERVER": "1", "XDG_RUNTIME_DIR": str(runtime)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--work", str(tmp / "w"),
         "--json", str(out), "--output", str(report)],
        capture_output=True, text=True, timeout=900, env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not list(runtime.rglob("*.sock")), "the benchmark left a server running"
    return json.loads(out.read_text()), report.read_text()


def test_every_figure_is_measured_with_positive_time_and_memory(smoke):
    results, _ = smoke
    figures = results["sizes"]["200"]
    assert figures["targets"] == 200
    for key in FIGURES:
        stats = figures[key]
        assert stats["runs"] == 1
        assert 0 < stats["low"] <= stats["median"] <= stats["high"]
        assert stats["max_rss_mb"] > 10  # a Python process holding the workspace
    assert figures["server_peak_mb"] > 30  # the server holds the graph


def test_the_edit_rebuilds_at_least_the_edited_target(smoke):
    figures = smoke[0]["sizes"]["200"]
    assert figures["edit_file"].startswith("internal/")
    assert figures["edit_expected"] >= 1
    assert figures["edit_rebuilt"] >= 1


def test_precision_has_no_misses_and_hashes_are_deterministic(smoke):
    precision = smoke[0]["precision"]
    assert precision["edits"] == 20
    assert precision["misses"] == 0, [e for e in precision["details"] if e["misses"]][:3]
    assert precision["deterministic"]
    assert all(e["changed"] >= 1 for e in precision["details"])


def test_scheduler_figures_are_consistent(smoke):
    figures = smoke[0]["scheduler"]
    assert [f["slots"] for f in figures] == [2, 8]
    for f in figures:
        assert f["all_succeeded"]
        assert f["makespan"] >= f["bound"] > 0  # nothing beats the lower bound
        assert f["overhead_ms"] > 0


def test_import_time_and_report_are_written(smoke):
    results, report = smoke
    assert results["imports"]["import_orchestrator_cli_ms"] > 0
    assert results["imports"]["version"]["median"] > 0
    for heading in ("## Goals", "## Figures", "## Incremental precision", "## Scheduler"):
        assert heading in report
    assert len(results["goals"]) == 10  # 7 at the largest N, precision, 2 scheduler
    assert str(results["machine"]["nproc"]) in report


def test_the_channel_service_is_measured_at_1_and_20_clients(smoke):
    serve = smoke[0]["serve"]
    for key in ("repodata", "uploads"):
        assert [f["clients"] for f in serve[key]] == [1, 20]
        assert all(f["per_s"] > 0 and f["p99_ms"] >= f["p50_ms"] > 0 for f in serve[key])
    assert serve["repodata_records"] == 40
    assert "GET repodata.json | 20" in smoke[1]
