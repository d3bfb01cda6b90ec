"""The scheduler on the Dask executor: a real LocalCluster on 127.0.0.1, jobs running real
subprocesses (through proc.py) in the workers' processes, timed through the shared file system."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cloudpickle
import pytest
from conftest import run_shell_job
from orchestrator.buildjob import BuildJob
from orchestrator.executors import EXECUTORS
from orchestrator.executors.dask import DaskExecutor, RemoteCancel
from orchestrator.scheduler import JobResult, run_jobs

# the workers cannot import this test module: its functions travel by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass(frozen=True)
class ShellContext:
    """Like buildjob.BuildContext: shared by every job, sent to the workers once."""

    tmp: Path
    commands: dict[str, str]


def shell_job(context: ShellContext, job: BuildJob, cancel) -> JobResult:
    """`cancel` is what the executor hands each job for the run's cancel event (on a worker:
    a RemoteCancel)."""
    """Runs the target's command on a worker; records pid and wall-clock span in files."""
    name = job.target.strip("/")
    log = context.tmp / f"{name}.log"
    start = time.time()
    (context.tmp / f"{name}.pid").write_text(str(os.getpid()))
    status, reason = run_shell_job(context.commands.get(job.target, "sleep 0.3"), log,
                                   cancel)
    (context.tmp / f"{name}.span").write_text(f"{start} {time.time()}")
    return JobResult(job.target, status, time.time() - start, reason)


def span(tmp: Path, target: str) -> tuple[float, float]:
    start, end = (tmp / f"{target.strip('/')}.span").read_text().split()
    return float(start), float(end)


def job(target: str, *deps: str) -> BuildJob:
    return BuildJob(target=target, hash="h" + target.strip("/"), deps=deps)


@pytest.fixture
def executor():
    started = EXECUTORS["dask"](2)
    yield started
    started.shutdown()


def run(executor, tmp_path, commands, jobs, **options):
    context = ShellContext(tmp_path, commands)
    events = []
    outcome = run_jobs(jobs, partial(shell_job, context), executor, cancel=threading.Event(),
                       on_event=events.append, **options)
    return outcome, events, context


def statuses(outcome) -> dict[str, str]:
    return {r.target: r.status for r in outcome.results}


def test_slots_are_the_local_clusters_worker_threads(executor):
    assert executor.slots == 2
    workers = executor._client.scheduler_info(n_workers=-1)["workers"]
    assert sorted(w["host"] for w in workers.values()) == ["127.0.0.1", "127.0.0.1"]


def test_dependencies_finish_before_dependents_start_in_worker_processes(executor, tmp_path):
    jobs = [job("//c", "//b"), job("//b", "//a"), job("//a"), job("//x")]
    outcome, events, _ = run(executor, tmp_path, {}, jobs)
    assert outcome.ok and [r.target for r in outcome.results] == ["//c", "//b", "//a", "//x"]
    assert span(tmp_path, "//a")[1] <= span(tmp_path, "//b")[0]
    assert span(tmp_path, "//b")[1] <= span(tmp_path, "//c")[0]
    pids = {int((tmp_path / f"{t}.pid").read_text()) for t in "abcx"}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # the workers' own processes
    assert [e.kind for e in events].count("finished") == 4


def test_independent_jobs_run_at_once_on_two_workers(executor, tmp_path):
    outcome, _, _ = run(executor, tmp_path, {"//a": "sleep 1", "//b": "sleep 1"},
                        [job("//a"), job("//b")])
    assert outcome.ok
    (a_start, a_end), (b_start, b_end) = span(tmp_path, "//a"), span(tmp_path, "//b")
    assert a_start < b_end and b_start < a_end  # the two spans overlap


def test_a_failure_blocks_its_dependents_and_keep_going_runs_the_rest(executor, tmp_path):
    jobs = [job("//a"), job("//b", "//a"), job("//c", "//b"), job("//x")]
    outcome, events, _ = run(executor, tmp_path, {"//a": "echo broken >&2; exit 3"}, jobs,
                             keep_going=True)
    assert statuses(outcome) == {"//a": "failed", "//b": "blocked", "//c": "blocked",
                                 "//x": "success"}
    failed = next(r for r in outcome.results if r.target == "//a")
    assert "return code 3" in failed.reason
    assert not (tmp_path / "b.span").exists() and not (tmp_path / "c.span").exists()
    assert ("blocked", "//c") in [(e.kind, e.target) for e in events]


def test_setting_the_cancel_event_kills_the_builds_on_the_workers(executor, tmp_path):
    commands = {"//a": f"echo $$ > {tmp_path}/a.child; exec sleep 60"}
    context, cancel = ShellContext(tmp_path, commands), threading.Event()
    threading.Timer(2.0, cancel.set).start()
    started = time.monotonic()
    outcome = run_jobs([job("//a"), job("//b", "//a")], partial(shell_job, context), executor,
                       cancel=cancel)
    assert time.monotonic() - started < 15
    assert statuses(outcome) == {"//a": "cancelled", "//b": "skipped"}
    child = int((tmp_path / "a.child").read_text())
    assert not Path(f"/proc/{child}").exists()  # killed and reaped on the worker


def test_remote_cancel_travels_by_name(executor):
    flag = RemoteCancel("orchestrate-test-flag", executor._client)
    assert cloudpickle.loads(cloudpickle.dumps(flag)).name == "orchestrate-test-flag"
    seen = executor._client.submit(lambda: RemoteCancel("orchestrate-test-flag").is_set(),
                                   pure=False)
    assert seen.result() is False
    flag.set()
    seen = executor._client.submit(lambda: RemoteCancel("orchestrate-test-flag").is_set(),
                                   pure=False)
    assert seen.result() is True


def test_an_unreachable_scheduler_is_a_one_line_error(make_workspace):
    root = make_workspace({"recipes/hello/meta.yaml": (
        "package:\n  name: hello\n  version: 1.0\n"
        "build:\n  noarch: generic\n  script: echo hello\n")})
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-C", str(root), "build", "--executor",
         "dask", "--scheduler-address", "tcp://127.0.0.1:9"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: dask scheduler tcp://127.0.0.1:9: cannot connect")
    assert "Traceback" not in done.stderr


def test_the_executor_is_registered_and_built_like_the_local_one():
    assert EXECUTORS["dask"] is DaskExecutor


def test_local_workers_leave_ctrl_c_to_this_process(executor):
    """A terminal's Ctrl-C reaches the whole group: the workers ignore it, so that only the
    scheduler here stops the builds (and no worker dies with a build still running)."""
    import signal

    handlers = executor._client.run(signal.getsignal, signal.SIGINT)
    assert list(handlers.values()) == [signal.SIG_IGN, signal.SIG_IGN]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def keyword_job(job: BuildJob, cancel, *, context: ShellContext) -> JobResult:
    return shell_job(context, job, cancel)


def test_a_context_bound_by_keyword_travels_too(executor, tmp_path):
    context = ShellContext(tmp_path, {"//k": "exit 4"})
    outcome = run_jobs([job("//k"), job("//j")], partial(keyword_job, context=context),
                       executor, keep_going=True, cancel=threading.Event())
    assert statuses(outcome) == {"//k": "failed", "//j": "success"}
