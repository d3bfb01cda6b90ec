"""proc.run: real child processes, real process groups, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import process_alive
from orchestrator import proc


def _spawner(pidfile: Path) -> list[str]:
    """A shell that starts a grandchild `sleep 100`, writes both pids, then waits."""
    script = f'sleep 100 & echo "$$ $!" > {pidfile}; echo started; wait'
    return ["sh", "-c", script]


def _pids_when_written(pidfile: Path) -> list[int]:
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text().strip().count(" ") == 1:
            return [int(p) for p in pidfile.read_text().split()]
        time.sleep(0.02)
    raise AssertionError("the child never wrote its pids")


def test_output_and_errors_go_to_the_log(tmp_path):
    log = tmp_path / "logs" / "build.log"
    done = proc.run(["sh", "-c", "echo out; echo err >&2"], log=log)
    assert done.returncode == 0
    text = log.read_text()
    assert "$ sh -c 'echo out; echo err >&2'" in text
    assert "out\n" in text and "err\n" in text


def test_failure_carries_command_code_and_tail(tmp_path):
    log = tmp_path / "build.log"
    script = "for i in $(seq 1 50); do echo line $i; done; exit 3"
    with pytest.raises(proc.ProcessFailed) as info:
        proc.run(["sh", "-c", script], log=log)
    err = info.value
    assert err.returncode == 3
    assert err.argv == ("sh", "-c", script)
    assert err.tail[-1] == "line 50" and len(err.tail) == proc.TAIL_LINES
    assert "return code 3" in str(err) and str(log) in str(err)


def test_missing_program_is_a_process_failure(tmp_path):
    with pytest.raises(proc.ProcessFailed, match="could not start"):
        proc.run(["/nonexistent/tool"], log=tmp_path / "log")


def test_env_and_cwd_are_passed(tmp_path):
    log = tmp_path / "log"
    proc.run(["sh", "-c", "echo $GREETING; pwd"], log=log, env={"GREETING": "hi",
             "PATH": os.environ["PATH"]}, cwd=tmp_path)
    assert log.read_text().splitlines()[1:] == ["hi", str(tmp_path)]


def test_timeout_kills_child_and_grandchild(tmp_path):
    pidfile = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(proc.ProcessTimedOut, match="timed out after 1s"):
        proc.run(_spawner(pidfile), log=tmp_path / "log", timeout=1, grace=2)
    assert time.monotonic() - started < 10
    pids = _pids_when_written(pidfile)
    assert not any(process_alive(p) for p in pids)


def test_cancel_event_kills_the_group(tmp_path):
    pidfile = tmp_path / "pids"
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(proc.ProcessCancelled):
        proc.run(_spawner(pidfile), log=tmp_path / "log", cancel=cancel)
    assert not any(process_alive(p) for p in _pids_when_written(pidfile))


def test_sigkill_after_grace_when_sigterm_is_ignored(tmp_path):
    pidfile = tmp_path / "pids"
    script = f"trap '' TERM; echo $$ > {pidfile}; while true; do sleep 0.1; done"
    started = time.monotonic()
    with pytest.raises(proc.ProcessTimedOut):
        proc.run(["sh", "-c", script], log=tmp_path / "log", timeout=0.5, grace=1)
    assert 1.4 < time.monotonic() - started < 10
    assert not process_alive(int(pidfile.read_text()))


def test_ctrl_c_in_the_caller_kills_the_group(tmp_path):
    """A real SIGINT to a Python process running proc.run: its grandchild dies with it."""
    pidfile = tmp_path / "pids"
    code = (
        "import sys; from pathlib import Path; from orchestrator import proc\n"
        f"proc.run({_spawner(pidfile)!r}, log=Path({str(tmp_path / 'log')!r}), grace=2)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    pids = _pids_when_written(pidfile)
    parent.send_signal(signal.SIGINT)
    _, err = parent.communicate(timeout=20)
    assert b"KeyboardInterrupt" in err
    assert not any(process_alive(p) for p in pids)


def test_background_leftovers_of_a_finished_child_are_ended(tmp_path):
    pidfile = tmp_path / "pids"
    proc.run(["sh", "-c", f"sleep 100 & echo $! > {pidfile}"], log=tmp_path / "log")
    time.sleep(0.2)
    assert not process_alive(int(pidfile.read_text()))


def _processes_with_env(marker: str) -> list[int]:
    """The live processes whose environment holds `marker` (what every descendant inherits)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                stat = (environ.parent / "stat").read_text().rsplit(")", 1)[1].split()
                if stat[0] != "Z":
                    found.append(int(environ.parent.name))
        except (OSError, IndexError):
            continue
    return found


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_a_killed_caller_takes_its_childrens_groups_with_it(tmp_path, sig):
    """orchestrate killed by any signal (SIGKILL too): the child and the grandchild, in their
    own session, die with it instead of running on (issue 9: 14 of 15 trials left orphans)."""
    pidfile = tmp_path / "pids"
    marker = f"ORCHESTRATE_TEST_RUN={os.getpid()}-{sig.name}-{time.monotonic_ns()}"
    code = (
        "from pathlib import Path; from orchestrator import proc\n"
        f"proc.run({_spawner(pidfile)!r}, log=Path({str(tmp_path / 'log')!r}))\n"
    )
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    parent = subprocess.Popen([sys.executable, "-c", code], env=env)
    pids = _pids_when_written(pidfile)
    assert len(_processes_with_env(marker)) >= 3  # the caller, the shell, the sleep
    parent.send_signal(sig)
    parent.wait(timeout=20)
    deadline = time.monotonic() + 30
    while _processes_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with_env(marker) == []
    assert not any(process_alive(p) for p in pids)


def test_a_finished_run_leaves_no_watchdog(tmp_path):
    """The watchdog of a child that ended is gone too (it is a child of this thread)."""
    children = Path(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/children")
    before = set(children.read_text().split())
    proc.run(["true"], log=tmp_path / "log")
    assert set(children.read_text().split()) - before == set()


def test_a_query_gives_its_output_and_fails_with_command_code_and_stderr_tail(tmp_path):
    """Short commands whose output is wanted (git, `docker ps`) go through proc too."""
    done = proc.output(["sh", "-c", "echo out; echo err >&2"], cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr, done.checked()) == (0, "out\n", "err\n",
                                                                           "out\n")
    failed = proc.output(["sh", "-c", "echo first >&2; echo last >&2; exit 3"])
    with pytest.raises(proc.ProcessFailed) as caught:
        failed.checked()
    assert caught.value.lines() == ["command `sh -c 'echo first >&2; echo last >&2; exit 3'` "
                                    "exited with return code 3", "  first", "  last"]


def test_a_query_is_killed_at_its_timeout_and_one_that_cannot_start_says_so():
    started = time.monotonic()
    with pytest.raises(proc.ProcessTimedOut, match="timed out after 0.2s"):
        proc.output(["sleep", "30"], timeout=0.2)
    assert time.monotonic() - started < 5
    with pytest.raises(proc.ProcessFailed, match="`no-such-command-here` could not start"):
        proc.start(["no-such-command-here"])
