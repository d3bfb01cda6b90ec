"""Given a real workspace in a real git repository and the real `orchestrate` executable, when
`plan`, `why`, `graph` and `query` are answered by the workspace's server (a real process on a
Unix socket, watching the files with inotify), then every answer is byte for byte what the
command answers in a process of its own, after every kind of change a developer makes (edit,
new file, ignored file, deletion, chmod, git add/commit, .gitignore, a new recipe, a moved
directory, a published package), and the server stops when asked, when idle, when its
workspace goes and when another build of the tool takes over."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import commit_all, git, invoke_cli, write_files
from test_plan_support import ORG, publish_outputs
from test_plan_warm_caches import LOADS

ORCHESTRATE = Path(sys.executable).with_name("orchestrate")
QUESTIONS = (
    ("plan", "--format", "json"),
    ("why", "zlib", "--format", "json"),
    ("graph", "--format", "json"),
    ("graph",),
    ("query", "rdeps", "zlib"),
    ("plan", "//internal/...", "--dependents"),
)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """An environment in which the executable uses servers, in a runtime directory of the
    test's own; every server started in it is stopped afterwards."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "ORCHESTRATE_SERVER": "1", "XDG_RUNTIME_DIR": str(runtime)}
    yield env
    for sock in runtime.rglob("*.sock"):
        subprocess.run([sys.executable, "-c", "import sys; from orchestrator import "
                        "server_client as c; c.request(__import__('pathlib').Path(sys.argv[1]),"
                        " {'stop': True})", str(sock)], env=env, timeout=30)


def orchestrate(env: dict, root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ORCHESTRATE), "-C", str(root), *args], env=env,
                          capture_output=True, text=True, timeout=300)


def status(env: dict, root: Path) -> str:
    return orchestrate(env, root, "server", "status").stdout


def assert_answers_as_in_process(env: dict, root: Path) -> None:
    for question in QUESTIONS:
        by_server = orchestrate(env, root, *question)
        alone = invoke_cli(["-C", root, *question])
        assert (by_server.returncode, by_server.stdout, by_server.stderr) == \
            (alone.code, alone.out, alone.err), question


@pytest.fixture
def org(make_workspace):
    root = make_workspace({**ORG, **LOADS, ".gitignore": "cache/\n*.log\n"})
    return root


def test_answers_exactly_as_a_process_of_its_own(served, org):
    assert_answers_as_in_process(served, org)
    assert "answered" in status(served, org)
    assert "server" in status(served, org)


def test_no_answer_is_stale_after_any_change(served, org):
    assert_answers_as_in_process(served, org)
    core = org / "internal/own-util/src/own_util/core.py"
    steps = [
        lambda: core.write_text("def answer():\n    return 43\n"),  # an edit
        lambda: (org / "internal/own-util/src/own_util/new.py").write_text("x = 1\n"),
        lambda: (org / "internal/own-util/debug.log").write_text("ignored\n"),
        lambda: (org / "recipes/zlib/build.sh").chmod(0o755),
        lambda: git(org, "add", "-A"),
        lambda: commit_all(org, "edits"),
        lambda: (org / ".gitignore").write_text("cache/\n"),  # debug.log now counts
        lambda: (org / "internal/own-util/src/own_util/new.py").unlink(),
        lambda: write_files(org, {"recipes/extra/meta.yaml": "package:\n  name: extra\n"
                                  "  version: '1'\nrequirements:\n  host: [zlib]\n"}),
        lambda: (org / "recipes/libpng/meta.yaml").write_text(
            (org / "recipes/libpng/meta.yaml").read_text().replace("1.6.43", "1.6.44")),
        lambda: (org / "internal/loader/pyproject.toml").write_text(  # a file a recipe loads
            '[project]\nname = "loader"\nversion = "2.1"\n'),
        lambda: (org / "internal/own-util/src").rename(org / "internal/own-util/lib"),
        lambda: shutil.rmtree(org / "recipes/extra"),
        lambda: (org / "internal/own-util/lib/deep/er").mkdir(parents=True),
        lambda: (org / "internal/own-util/lib/deep/er/x.py").write_text("y = 2\n"),
        lambda: publish_outputs(org / "cache/channel", json.loads(invoke_cli(
            ["-C", org, "plan", "--format", "json"]).out)["nodes"][:2]),
        lambda: git(org, "checkout", "-q", "--", "."),
    ]
    for number, step in enumerate(steps):
        step()
        by_server = orchestrate(served, org, "plan", "--format", "json")
        alone = invoke_cli(["-C", org, "plan", "--format", "json"])
        assert (by_server.returncode, by_server.stdout, by_server.stderr) == \
            (alone.code, alone.out, alone.err), f"step {number}"
    assert status(served, org).count("server ") == 1  # one server answered all of them


def test_errors_are_the_same_one_line(served, org):
    (org / "recipes/zlib/meta.yaml").write_text("package: [unclosed\n")
    by_server = orchestrate(served, org, "plan")
    alone = invoke_cli(["-C", org, "plan"])
    assert by_server.returncode == alone.code == 2
    assert by_server.stderr == alone.err and "recipes/zlib/meta.yaml" in by_server.stderr
    assert "Traceback" not in by_server.stderr
    usage = orchestrate(served, org, "plan", "--no-such-option")
    assert usage.returncode == 2 and "unrecognized arguments" in usage.stderr


def test_concurrent_questions_get_the_same_answer(served, org):
    expected = invoke_cli(["-C", org, "plan", "--format", "json"]).out
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: orchestrate(served, org, "plan", "--format", "json"),
                                range(8)))
    assert all(a.returncode == 0 and a.stdout == expected for a in answers)


def test_stop_and_disable(served, org):
    orchestrate(served, org, "plan")
    assert "answered" in status(served, org)
    stopped = orchestrate(served, org, "server", "stop")
    assert "stopped the server" in stopped.stdout
    assert "no server" in status(served, org)
    alone = orchestrate({**served, "ORCHESTRATE_SERVER": "0"}, org, "plan")
    assert alone.returncode == 0 and "no server" in status(served, org)


def server_pid(env: dict, root: Path) -> int:
    return int(status(env, root).split()[1])


def wait_gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_stops_when_idle(served, org):
    orchestrate({**served, "ORCHESTRATE_SERVER_IDLE": "1"}, org, "plan")
    pid = server_pid(served, org)
    assert wait_gone(pid)


def test_stops_when_its_workspace_is_deleted(served, org):
    orchestrate(served, org, "plan")
    pid = server_pid(served, org)
    shutil.rmtree(org)
    assert wait_gone(pid)


def test_a_new_build_of_the_tool_stops_the_old_server(served, org):
    """A server under another tool digest (what an upgrade leaves) is asked to stop by the
    first server of the new build."""
    sys.path.insert(0, str(Path(__file__).parent))
    env = served
    directory = Path(subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from orchestrator import "
         "server_client as c; print(c.workspace_directory(Path(sys.argv[1])))", str(org)],
        env=env, capture_output=True, text=True, check=True).stdout.strip())
    old_socket = directory / "0ld.sock"
    old = subprocess.Popen([sys.executable, "-m", "orchestrator.server", str(org),
                            str(old_socket)], env=env)
    deadline = time.monotonic() + 30
    while not old_socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert old_socket.exists()
    orchestrate(env, org, "plan")
    assert old.wait(timeout=30) == 0
    assert not old_socket.exists()
