"""The soak: SIGKILL `orchestrate build --full -j 2` at random moments, again and again.

Given a small workspace of real rattler-build recipes (a chain and a fork), each iteration
starts a full build (every other time into an emptied channel), kills orchestrate with SIGKILL
at a random moment, then checks that no process of the dead run is left, runs `orchestrate
verify` (what the kill left is reported, not hidden), builds again normally and verifies: 0
problems after that build. The default test run does ORCHESTRATE_SOAK_KILLS=3 iterations;
`make soak` does 100 and prints the figures.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_build_e2e import WORKSPACE, generic

pytestmark = pytest.mark.slow

KILLS = int(os.environ.get("ORCHESTRATE_SOAK_KILLS", "3"))
SEED = int(os.environ.get("ORCHESTRATE_SOAK_SEED", "0"))
RECIPES = {
    **generic("soak-a", "mkdir -p $PREFIX/share && echo a > $PREFIX/share/a.txt && sleep 1"),
    **generic("soak-b", "mkdir -p $PREFIX/share && echo b > $PREFIX/share/b.txt && sleep 1",
              "soak-a"),
    **generic("soak-c", "mkdir -p $PREFIX/share && echo c > $PREFIX/share/c.txt && sleep 2"),
    **generic("soak-d", "mkdir -p $PREFIX/share && echo d > $PREFIX/share/d.txt",
              "soak-b", "soak-c"),
}


def orchestrate(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "orchestrator", "-C", str(root), *args],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(root: Path, *args: str) -> tuple[int, str, str]:
    child = orchestrate(root, *args)
    out, err = child.communicate(timeout=900)
    return child.returncode, out, err


def processes_of(root: Path, own: set[int]) -> list[str]:
    """Live processes (not this test's) whose command line or working directory is in `root`:
    orchestrate, its watchdogs, the runners, their shells and scripts."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.name) in own or _zombie(entry):
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except (OSError, ValueError, IndexError):
            continue
        if str(root) in cmdline or cwd.startswith(str(root)):
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


def _zombie(entry: Path) -> bool:
    return (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def leftovers(root: Path, seconds: float = 15.0) -> list[str]:
    """What is still running of a killed run once its watchdogs had time to act."""
    own = {os.getpid()}
    deadline = time.monotonic() + seconds
    while (found := processes_of(root, own)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_sigkill_at_random_moments_leaves_a_true_channel_and_no_process(make_workspace):
    root = make_workspace({"WORKSPACE.toml": WORKSPACE, ".gitignore": "cache/\n", **RECIPES})
    started = time.monotonic()
    code, out, err = finished(root, "build", "--full", "-j", "2")
    assert code == 0, out + err
    full = time.monotonic() - started
    chance = random.Random(SEED)
    figures = {"kills": 0, "problems_after_kill": 0, "problems_after_build": 0,
               "leftover_processes": 0, "rebuilt": 0}
    for iteration in range(KILLS):
        if iteration % 2:  # every other kill lands in a channel still being filled
            code, out, err = finished(root, "clean", "--all")
            assert code == 0, out + err
        run = orchestrate(root, "build", "--full", "-j", "2")
        time.sleep(chance.uniform(0.05, full))
        run.send_signal(signal.SIGKILL)
        run.communicate()
        figures["kills"] += 1
        left = leftovers(root)
        figures["leftover_processes"] += len(left)
        assert left == []
        if (root / "cache" / "channel").is_dir():  # killed before it existed: nothing to check
            code, _, err = finished(root, "verify")
            figures["problems_after_kill"] += len(err.splitlines()) if code else 0
            assert code in (0, 1), err
        code, out, err = finished(root, "build", "-j", "2")
        assert code == 0, out + err
        figures["rebuilt"] += "nothing to build" not in out
        code, out, err = finished(root, "verify")
        figures["problems_after_build"] += len(err.splitlines()) if code else 0
        assert code == 0, out + err
    print(f"\nsoak: {figures} (full build {full:.1f}s, seed {SEED})")
    assert figures["problems_after_build"] == figures["leftover_processes"] == 0


def test_sigkill_mid_build_leaves_no_process_of_the_run(make_workspace):
    """orchestrate killed while a build script runs (`sleep` in the recipe's script, started
    by the runner in its own session): the runner, its shell and the sleep die with it."""
    sleeper = generic("sleeper", "mkdir -p $PREFIX/share && sleep 317.25 && touch $PREFIX/x")
    root = make_workspace({"WORKSPACE.toml": WORKSPACE, ".gitignore": "cache/\n", **sleeper})
    run = orchestrate(root, "build")
    deadline = time.monotonic() + 300
    while not any("317.25" in p for p in processes_of(root.parent.parent, set())):
        assert time.monotonic() < deadline and run.poll() is None, run.communicate()
        time.sleep(0.1)
    sleeping = [p for p in processes_of(root.parent.parent, set()) if "317.25" in p]
    run.send_signal(signal.SIGKILL)
    run.communicate()
    assert leftovers(root) == []
    assert [p for p in processes_of(root.parent.parent, set()) if "317.25" in p] == [], sleeping
