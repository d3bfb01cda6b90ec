"""`orchestrate build --executor dask` end to end: real rattler-build builds run by the workers
of a LocalCluster on 127.0.0.1, published into the real channel they share with this machine."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
import test_build_e2e
from conftest import process_alive
from test_build_e2e import (
    _wait_for,
    assert_consistent,
    build,
    generic,
    internal,
    orchestrate,
    report,
)

pytestmark = pytest.mark.slow
scenario = test_build_e2e.scenario  # the same workspace fixture


def test_dask_builds_a_workspace_in_dependency_order_into_the_channel(scenario):
    root = scenario(internal("own-a"), internal("own-b", "own-a"), internal("own-c"))
    build(root, "--executor", "dask", "-j", "2", "--report", "report.json")
    assert report(root) == {"//recipes/python": "success", "//internal/own-a": "success",
                            "//internal/own-b": "success", "//internal/own-c": "success"}
    channel = root / "cache/channel"
    assert_consistent(channel)
    names = sorted(p.name.split("-1.0.0-")[0] for p in channel.glob("noarch/own-*.conda"))
    assert names == ["own-a", "own-b", "own-c"]
    out, _ = build(root, "--executor", "dask", "-j", "2")
    assert out == "nothing to build: 4 targets up to date\n"


def test_ctrl_c_to_the_whole_group_cancels_the_builds_on_the_workers(scenario, tmp_path):
    marker, pidfile = tmp_path / "slow-started", tmp_path / "slow-pid"
    root = scenario(generic("slow", f"echo $$ > {pidfile}; touch {marker}; sleep 300"))
    child = orchestrate(root, "build", "--executor", "dask", "-j", "2", "--report",
                        "report.json", start_new_session=True)
    _wait_for(marker)
    os.killpg(child.pid, signal.SIGINT)  # like a terminal: workers get SIGINT too
    try:
        out, err = child.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        raise
    assert child.returncode == 130, f"{out}\n{err}"
    assert report(root)["//recipes/slow"] == "cancelled"
    assert not process_alive(int(pidfile.read_text()))
    assert_consistent(root / "cache/channel")


def test_a_running_scheduler_given_by_address_builds_the_workspace(scenario):
    from distributed import LocalCluster

    root = scenario(generic("hello", "echo hello > $PREFIX/hello.txt"))
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        build(root, "--executor", "dask", "--scheduler-address", cluster.scheduler_address,
              "--report", "report.json")
        keys = {str(entry[0]) for entry in cluster.scheduler.transition_log}
    assert report(root) == {"//recipes/hello": "success", "//recipes/python": "success"}
    assert any(k.startswith("orchestrate-recipes/hello-") for k in keys)  # ran there
    assert_consistent(root / "cache/channel")
