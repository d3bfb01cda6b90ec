"""The scheduler runs jobs whose work is a real subprocess (via proc.py) on the local executor."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass

import pytest
from conftest import run_shell_job
from orchestrator.buildjob import BuildJob, jobs_from_plan
from orchestrator.executors import EXECUTORS
from orchestrator.scheduler import JobResult, critical_path, run_jobs


@dataclass(frozen=True)
class Span:
    target: str
    start: float
    end: float


class Shell:
    """run_job for tests: each target runs a shell command through proc.run and is timed."""

    def __init__(self, tmp_path, commands: dict[str, str]):
        self.tmp_path, self.commands = tmp_path, commands
        self.spans: list[Span] = []
        self.lock = threading.Lock()

    def __call__(self, job: BuildJob, cancel: threading.Event) -> JobResult:
        log = self.tmp_path / f"{job.target.strip('/')}.log"
        start = time.monotonic()
        status, reason = run_shell_job(self.commands.get(job.target, "sleep 0.2"), log,
                                       cancel)
        with self.lock:
            self.spans.append(Span(job.target, start, time.monotonic()))
        return JobResult(job.target, status, time.monotonic() - start, reason)

    def started_order(self) -> list[str]:
        return [s.target for s in sorted(self.spans, key=lambda s: s.start)]

    def span(self, target: str) -> Span:
        return next(s for s in self.spans if s.target == target)


def job(target: str, *deps: str, weight: float = 1.0) -> BuildJob:
    return BuildJob(target=target, hash="h" + target.strip("/"), deps=deps, weight=weight)


def run(jobs, shell, slots=2, **options):
    events = []
    outcome = run_jobs(jobs, shell, EXECUTORS["local"](slots), on_event=events.append, **options)
    return outcome, events


def statuses(outcome) -> dict[str, str]:
    return {r.target: r.status for r in outcome.results}


def test_dependencies_finish_before_dependents_start(tmp_path):
    shell = Shell(tmp_path, {})
    jobs = [job("//c", "//b"), job("//b", "//a"), job("//a"), job("//x")]
    outcome, events = run(jobs, shell, slots=2)
    assert outcome.ok and [r.target for r in outcome.results] == ["//c", "//b", "//a", "//x"]
    assert shell.span("//a").end <= shell.span("//b").start
    assert shell.span("//b").end <= shell.span("//c").start
    assert [e.kind for e in events].count("started") == 4
    assert [e.kind for e in events].count("finished") == 4


def test_critical_path_goes_first(tmp_path):
    # //a alone (1) versus the chain //b -> //c -> //d (3): the chain's head starts first.
    jobs = [job("//a"), job("//b"), job("//c", "//b"), job("//d", "//c")]
    assert critical_path(jobs) == {"//a": 1.0, "//b": 3.0, "//c": 2.0, "//d": 1.0}
    shell = Shell(tmp_path, {})
    run(jobs, shell, slots=1)
    # after //c, //a and //d both have 1 left: ties go by name
    assert shell.started_order() == ["//b", "//c", "//a", "//d"]


def test_recorded_durations_change_the_order(tmp_path):
    jobs = [job("//a", weight=30.0), job("//b"), job("//c", "//b"), job("//d", "//c")]
    shell = Shell(tmp_path, {})
    run(jobs, shell, slots=1)
    assert shell.started_order() == ["//a", "//b", "//c", "//d"]


def test_at_most_j_jobs_run_at_once(tmp_path):
    shell = Shell(tmp_path, {t: "sleep 0.4" for t in ("//a", "//b", "//c", "//d")})
    run([job(t) for t in ("//a", "//b", "//c", "//d")], shell, slots=2)
    overlaps = max(
        sum(1 for s in shell.spans if s.start <= probe.start < s.end) for probe in shell.spans
    )
    assert overlaps == 2


def test_failure_blocks_dependents_and_stops_new_work(tmp_path):
    shell = Shell(tmp_path, {"//a": "exit 4"})
    jobs = [job("//a"), job("//b", "//a"), job("//c", "//b"), job("//x")]
    outcome, events = run(jobs, shell, slots=1)
    assert statuses(outcome) == {"//a": "failed", "//b": "blocked", "//c": "blocked",
                                 "//x": "skipped"}
    by_target = {r.target: r for r in outcome.results}
    assert by_target["//c"].reason == "blocked by //a"
    assert "return code 4" in by_target["//a"].reason
    assert "--keep-going" in by_target["//x"].reason
    assert not outcome.ok
    assert ("blocked", "//c") in [(e.kind, e.target) for e in events]


def test_running_jobs_finish_after_a_failure(tmp_path):
    shell = Shell(tmp_path, {"//a": "sleep 0.1; false", "//slow": "sleep 0.8"})
    jobs = [job("//a", weight=5), job("//slow", weight=4), job("//later")]
    outcome, _ = run(jobs, shell, slots=2)
    assert statuses(outcome) == {"//a": "failed", "//slow": "success", "//later": "skipped"}


def test_keep_going_builds_independent_branches(tmp_path):
    shell = Shell(tmp_path, {"//a": "false"})
    jobs = [job("//a"), job("//b", "//a"), job("//x"), job("//y", "//x")]
    outcome, _ = run(jobs, shell, slots=1, keep_going=True)
    assert statuses(outcome) == {"//a": "failed", "//b": "blocked", "//x": "success",
                                 "//y": "success"}


def test_a_crashing_job_is_a_failed_job(tmp_path):
    def crash(job, cancel):
        raise RuntimeError("worker lost")

    outcome, _ = run([job("//a"), job("//b", "//a")], crash, slots=1)
    assert statuses(outcome) == {"//a": "failed", "//b": "blocked"}
    assert outcome.results[0].reason == "RuntimeError: worker lost"


def test_jobs_from_plan_keeps_only_deps_built_in_this_run():
    @dataclass(frozen=True)
    class Node:
        target: str
        hash: str
        deps: tuple
        outputs: tuple = ()
        reasons: tuple = ("changed",)

    @dataclass(frozen=True)
    class Plan:
        nodes: dict
        order: tuple

    nodes = {"//a": Node("//a", "1", ()), "//b": Node("//b", "2", ("//a", "//up")),
             "//up": Node("//up", "3", ())}
    jobs = jobs_from_plan(Plan(nodes, ("//a", "//b")), {"//b": 12.5})
    assert [(j.target, j.deps, j.weight) for j in jobs] == [("//a", (), 1.0),
                                                            ("//b", ("//a",), 12.5)]


def test_ctrl_c_cancels_running_jobs_and_kills_their_processes(tmp_path):
    cancel = threading.Event()
    shell = Shell(tmp_path, {"//a": "sleep 100", "//b": "sleep 100"})
    jobs = [job("//a"), job("//b"), job("//c", "//a")]
    main = threading.main_thread().ident
    threading.Timer(0.6, signal.pthread_kill, (main, signal.SIGINT)).start()
    started = time.monotonic()
    outcome, events = run(jobs, shell, slots=2, cancel=cancel)
    assert time.monotonic() - started < 10
    assert outcome.interrupted and cancel.is_set()
    assert statuses(outcome) == {"//a": "cancelled", "//b": "cancelled", "//c": "cancelled"}
    assert sorted(e.target for e in events if e.kind == "cancelled") == ["//a", "//b", "//c"]


@pytest.mark.parametrize("slots", [1, 2])
def test_every_job_gets_exactly_one_result(tmp_path, slots):
    shell = Shell(tmp_path, {"//b": "false"})
    jobs = [job("//a"), job("//b", "//a"), job("//c", "//a"), job("//d", "//b", "//c")]
    outcome, _ = run(jobs, shell, slots=slots, keep_going=True)
    assert statuses(outcome) == {"//a": "success", "//b": "failed", "//c": "success",
                                 "//d": "blocked"}


def test_a_dependency_listed_twice_is_waited_for_once(tmp_path):
    shell = Shell(tmp_path, {})
    outcome, _ = run([job("//a"), job("//b", "//a", "//a")], shell, slots=2)
    assert statuses(outcome) == {"//a": "success", "//b": "success"}
    assert shell.span("//a").end <= shell.span("//b").start
