"""`orchestrate build` end to end: real rattler-build builds into a real channel, run as a process.

Each scenario is a small workspace in a tmp dir, committed with real git, reusing the example
organization's `recipes/python` recipe (it packages this machine's interpreter: quick to build).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import commit_all, process_alive, write_files
from orchestrator import proc

pytestmark = pytest.mark.slow

PYTHON_RECIPE = (Path(__file__).parents[1] / "recipes/python/recipe.yaml").read_text()
WORKSPACE = '[workspace]\nname = "e2e"\n[build]\ntimeout = 600\n'


def internal(name: str, *host: str, script: str = "") -> dict[str, str]:
    """An internal Python project whose recipe copies its package into site-packages."""
    module = name.replace("-", "_")
    script = script or (
        f"{{{{ PYTHON }}}} -c \"import shutil, sysconfig; shutil.copytree('src/{module}', "
        f"sysconfig.get_paths()['purelib'] + '/{module}')\""
    )
    requirements = "".join(f"    - {h}\n" for h in ("python", *host))
    return {
        f"internal/{name}/src/{module}/__init__.py": "VALUE = 1\n",
        f"internal/{name}/conda/meta.yaml": (
            f"package:\n  name: {name}\n  version: 1.0.0\nsource:\n  path: ..\n"
            f"build:\n  number: 0\n  noarch: python\n  script: {script}\n"
            f"requirements:\n  host:\n{requirements}  run:\n{requirements}"
        ),
    }


def generic(name: str, script: str, *host: str) -> dict[str, str]:
    """A third-party style recipe with a shell script and no source."""
    hosts = "".join(f"    - {h}\n" for h in host)
    requirements = f"requirements:\n  host:\n{hosts}" if host else ""
    return {f"recipes/{name}/meta.yaml": (
        f"package:\n  name: {name}\n  version: 1.0\n"
        f"build:\n  number: 0\n  noarch: generic\n  script: {script}\n{requirements}"
    )}


@pytest.fixture
def scenario(make_workspace):
    def make(*parts: dict[str, str]) -> Path:
        files = {"WORKSPACE.toml": WORKSPACE, ".gitignore": "cache/\n*.json\n*.xml\n",
                 "recipes/python/recipe.yaml": PYTHON_RECIPE}
        for part in parts:
            files.update(part)
        return make_workspace(files)

    return make


def orchestrate(root: Path, *args: str, **popen) -> subprocess.Popen:
    """`orchestrate -C root ARGS` as a process running in `root` (reports are written there)."""
    argv = [sys.executable, "-m", "orchestrator", "-C", str(root), *args]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    return subprocess.Popen(argv, cwd=root, **{**pipes, **popen})


def build(root: Path, *args: str, expect: int = 0) -> tuple[str, str]:
    child = orchestrate(root, "build", *args)
    out, err = child.communicate(timeout=900)
    assert child.returncode == expect, f"{out}\n{err}"
    return out, err


def report(root: Path) -> dict[str, str]:
    document = json.loads((root / "report.json").read_text())
    return {t["target"]: t["result"] for t in document["targets"]}


def assert_consistent(channel: Path) -> None:
    """repodata.json lists exactly the package files present, and nothing temporary is left."""
    for subdir in ("noarch", "linux-64"):
        data = json.loads((channel / subdir / "repodata.json").read_text())
        listed = set(data["packages"]) | set(data["packages.conda"])
        present = {p.name for p in (channel / subdir).iterdir()
                   if p.name.endswith((".conda", ".tar.bz2"))}
        assert listed == present, subdir
    leftovers = [p.name for p in channel.rglob("*") if ".tmp-" in p.name or ".index-" in p.name]
    assert leftovers == []


def test_second_build_builds_nothing(scenario):
    root = scenario(internal("own-a"))
    out, _ = build(root, "--report", "report.json", "--junit", "junit.xml")
    assert report(root) == {"//recipes/python": "success", "//internal/own-a": "success"}
    assert "build summary" in out
    assert_consistent(root / "cache/channel")
    cases = ElementTree.parse(root / "junit.xml").getroot().findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["//recipes/python", "//internal/own-a"]
    out, _ = build(root)
    assert out == "nothing to build: 2 targets up to date\n"
    build(root, "--full", "//internal/own-a", "--report", "report.json")
    (rebuilt,) = json.loads((root / "report.json").read_text())["targets"]
    assert (rebuilt["result"], rebuilt["detail"]) == ("success", "")  # built again, not reused


def test_editing_one_project_rebuilds_it_and_its_host_dependents(scenario):
    root = scenario(internal("own-a"), internal("own-b", "own-a"), internal("own-c"))
    build(root)
    write_files(root, {"internal/own-a/src/own_a/__init__.py": "VALUE = 2\n"})
    commit_all(root, "change own-a")
    build(root, "--report", "report.json")
    assert report(root) == {"//recipes/python": "up-to-date", "//internal/own-a": "success",
                            "//internal/own-b": "success", "//internal/own-c": "up-to-date"}
    assert_consistent(root / "cache/channel")


def test_failure_blocks_exactly_its_dependents_and_keep_going_builds_the_rest(scenario):
    root = scenario(generic("broken", "echo going to fail; exit 1"),
                    generic("needs-broken", "true", "broken"), internal("own-a"))
    out, err = build(root, "-j", "1", "--report", "report.json", expect=1)
    results = report(root)
    assert results["//recipes/broken"] == "failed"
    assert results["//recipes/needs-broken"] == "blocked"
    assert "skipped" in {results["//recipes/python"], results["//internal/own-a"]}
    log = next((root / "cache/builds/recipes--broken").glob("*/build.log"))
    assert f"log: {log}" in out
    assert f"  | {proc.log_tail(log)[-1]}" in out  # the log's tail is shown
    assert "error: 1 of 4 builds failed" in err

    build(root, "-j", "1", "--keep-going", "--report", "report.json", "--junit", "junit.xml",
          expect=1)
    assert report(root) == {"//recipes/broken": "failed", "//recipes/needs-broken": "blocked",
                            "//recipes/python": "success", "//internal/own-a": "success"}
    cases = {c.get("name"): c for c in ElementTree.parse(root / "junit.xml").iter("testcase")}
    assert cases["//recipes/broken"].find("failure").text.splitlines() == list(
        proc.log_tail(log))
    assert cases["//recipes/needs-broken"].find("skipped").get("message") == (
        "blocked by //recipes/broken")
    assert_consistent(root / "cache/channel")


def _wait_for(path: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_builds_and_leaves_a_consistent_channel(scenario, tmp_path, stop):
    marker, pidfile = tmp_path / "slow-started", tmp_path / "slow-pid"
    root = scenario(internal("own-a"),
                    generic("slow", f"echo $$ > {pidfile}; touch {marker}; sleep 300"))
    child = orchestrate(root, "build", "-j", "2", "--report", "report.json")
    _wait_for(marker)
    child.send_signal(stop)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, f"{out}\n{err}"
    assert report(root)["//recipes/slow"] == "cancelled"
    assert not process_alive(int(pidfile.read_text()))
    (slow_build,) = (p for p in (root / "cache/builds/recipes--slow").iterdir() if p.is_dir())
    assert [p.name for p in slow_build.iterdir()] == ["build.log"]  # partial outputs removed
    assert_consistent(root / "cache/channel")


def test_two_builds_at_once_leave_a_consistent_channel(scenario):
    root = scenario(internal("own-a"), internal("own-b", "own-a"), internal("own-c"))
    children = [orchestrate(root, "build", "-j", "2", env={**os.environ, "COLUMNS": "200"})
                for _ in range(2)]
    outputs = [c.communicate(timeout=900) for c in children]
    assert [c.returncode for c in children] == [0, 0], outputs
    assert_consistent(root / "cache/channel")
    names = sorted(p.name for p in (root / "cache/channel").rglob("*.conda"))
    assert len(names) == len(set(names)) == 5  # python, pip, own-a, own-b, own-c
    assert build(root)[0] == "nothing to build: 4 targets up to date\n"


def test_a_terminal_gets_a_live_view(scenario):
    """Run in a real pseudo-terminal: the live view shows running builds and the counts."""
    import pty

    root = scenario(internal("own-a"))
    leader, follower = pty.openpty()
    child = orchestrate(root, "build", stdout=follower, stderr=follower,
                        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the child exits
            break
        if not chunk:
            break
        screen += chunk
    assert child.wait(timeout=60) == 0
    os.close(leader)
    text = screen.decode(errors="replace")
    assert "building" in text and "//recipes/python" in text
    assert "0 done, 0 failed, 0 blocked, 1 running, 1 waiting" in text
    assert "\x1b[" in text  # drawn with terminal control sequences, not plain lines
    assert "build summary" in text and "[1/2]" not in text


def test_a_build_over_its_timeout_fails_and_leaves_nothing_running(scenario, tmp_path):
    pidfile = tmp_path / "pid"
    root = scenario(generic("slow", f"echo $$ > {pidfile}; sleep 300"), {
        "WORKSPACE.toml": WORKSPACE + '[build.overrides."//recipes/slow"]\ntimeout = 3\n'})
    started = time.monotonic()
    out, _ = build(root, "//recipes/slow", "--report", "report.json", expect=1)
    assert time.monotonic() - started < 120
    (entry,) = json.loads((root / "report.json").read_text())["targets"]
    assert (entry["result"], entry["detail"]) == ("failed", "build command timed out after 3s")
    assert not process_alive(int(pidfile.read_text()))
    (slow_build,) = (p for p in (root / "cache/builds/recipes--slow").iterdir() if p.is_dir())
    assert sorted(p.name for p in slow_build.iterdir()) == ["build.log", "record.json"]


def test_an_os_error_in_one_build_fails_that_build_and_the_run_goes_on(scenario):
    root = scenario(generic("one", "echo one"), generic("two", "echo two"))
    plan = json.loads(orchestrate(root, "plan", "--format", "json").communicate()[0])
    one = next(n for n in plan["nodes"] if n["target"] == "//recipes/one")
    blocker = root / "cache/builds/recipes--one" / one["hash"] / "work"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the build wants its work directory")
    out, _ = build(root, "--keep-going", "--report", "report.json", expect=1)
    assert report(root)["//recipes/one"] == "failed"
    assert report(root)["//recipes/two"] == "success"
    assert "File exists" in out
    from orchestrator import cache

    record = cache.read_record(root / "cache", "//recipes/one", one["hash"])
    assert record is not None and record.result == "failed"
    assert "error:" in (blocker.parent / "build.log").read_text()
