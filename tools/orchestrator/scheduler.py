"""Jobs run on an executor, critical path first; the scheduler never knows how a build is done.

The scheduler decides what starts when: a job starts once every workspace dependency it has
in this run succeeded (built and published); ready jobs go longest-remaining-path first. A
failure blocks its dependents; without keep_going nothing new starts after it. Ctrl-C sets the
cancel event (the jobs' processes are killed by proc.py) and the results say `cancelled`.
It does no I/O and prints nothing: it reports Events to a callback.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Status = Literal["success", "failed", "blocked", "cancelled", "skipped"]
EventKind = Literal["started", "finished", "failed", "blocked", "cancelled", "skipped"]
KEEP_GOING_HINT = "use --keep-going to build independent targets"


class CancelFlag(Protocol):
    """Set once the run is cancelled: a threading.Event, or what an executor passes in its
    place where an Event cannot go (executors/dask.py)."""

    def is_set(self) -> bool: ...


class Job(Protocol):
    """What the scheduler reads of a job (buildjob.BuildJob is the real one)."""

    target: str
    deps: tuple[str, ...]  # the targets it waits for, when they are in this run
    weight: float  # predicted duration: the critical path's measure


@dataclass(frozen=True)
class JobResult:
    target: str
    status: Status
    duration: float = 0.0
    reason: str = ""
    artifacts: tuple[str, ...] = ()  # file names published to the channel
    log: str = ""
    tail: tuple[str, ...] = ()  # last lines of the log when the job failed


@dataclass(frozen=True)
class Event:
    kind: EventKind
    target: str
    result: JobResult | None = None
    time: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class Outcome:
    results: tuple[JobResult, ...]  # one per job, in the order the jobs were given
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.status == "success" for r in self.results)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)


def critical_path(jobs: Iterable[Job]) -> dict[str, float]:
    """Each job's weight plus the heaviest chain of jobs that wait on it (longest remaining)."""
    jobs = list(jobs)
    dependents = _dependents(jobs)
    by_target = {j.target: j for j in jobs}
    remaining: dict[str, float] = {}
    for job in reversed(_dependencies_first(jobs)):
        after = max((remaining[d] for d in dependents[job.target]), default=0.0)
        remaining[job.target] = by_target[job.target].weight + after
    return remaining


def _dependents(jobs: list[Job]) -> dict[str, list[str]]:
    known = {j.target for j in jobs}
    dependents: dict[str, list[str]] = {j.target: [] for j in jobs}
    for job in jobs:
        for dep in dict.fromkeys(job.deps):  # each dependency once, in order
            if dep in known:
                dependents[dep].append(job.target)
    return dependents


def _dependencies_first(jobs: list[Job]) -> list[Job]:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(j.target for j in jobs)
    known = set(graph)
    graph.add_edges_from((d, j.target) for j in jobs for d in j.deps if d in known)
    by_target = {j.target: j for j in jobs}
    return [by_target[t] for t in nx.lexicographical_topological_sort(graph)]


def run_jobs(
    jobs: Iterable[Job],
    run_job: Callable[[Job, CancelFlag], JobResult],
    executor: Any,
    *,
    keep_going: bool = False,
    cancel: threading.Event | None = None,
    on_event: Callable[[Event], None] = lambda event: None,
) -> Outcome:
    """Run every job through `run_job(job, cancel)` on `executor`, which hands each job the
    run's cancel flag (`executor.submit(run_job, job, cancel)`); see the module docstring."""
    run = _Run(list(jobs), run_job, executor, keep_going, cancel or threading.Event(), on_event)
    return run.until_done()


class _Run:
    """The state of one scheduler run: pending, running and finished jobs."""

    def __init__(self, jobs, run_job, executor, keep_going, cancel, on_event):
        self.jobs, self.run_job, self.executor = jobs, run_job, executor
        self.keep_going, self.cancel, self.emit = keep_going, cancel, on_event
        self.priority = critical_path(jobs)
        self.dependents = _dependents(jobs)
        self.pending = {j.target: j for j in jobs}
        # how many of its dependencies in this run each job still waits for; ready jobs wait
        # in a heap, most remaining work first, so each event costs O(log n), not a scan
        self.unmet = {j.target: sum(d in self.dependents for d in set(j.deps)) for j in jobs}
        self.ready = [(-self.priority[t], t) for t, n in self.unmet.items() if n == 0]
        heapq.heapify(self.ready)
        self.running: dict[Future, Job] = {}
        self.results: dict[str, JobResult] = {}
        self.stopping = ""  # why no new job starts (a failure, an interruption)
        self.interrupted = False

    def until_done(self) -> Outcome:
        while True:
            try:
                self._start_ready()
                if not self.running:
                    break
                self._wait_for_one()
            except KeyboardInterrupt:  # Ctrl-C reaches the main thread wherever it is
                self._interrupt()
        self._settle_pending()
        return Outcome(tuple(map(self._final, self.jobs)), self.interrupted)

    def _final(self, job: Job) -> JobResult:
        """The job's result; one interrupted between its start and its bookkeeping is cancelled."""
        lost = JobResult(job.target, "cancelled", reason="cancelled")
        return self.results.get(job.target) or lost

    def _start_ready(self) -> None:
        while not self.stopping and self.ready and len(self.running) < self.executor.slots:
            _, target = heapq.heappop(self.ready)
            job = self.pending.pop(target)
            self.running[self.executor.submit(self.run_job, job, self.cancel)] = job
            self.emit(Event("started", job.target))

    def _release_dependents_of(self, target: str) -> None:
        for dependent in self.dependents[target]:
            self.unmet[dependent] -= 1
            if self.unmet[dependent] == 0 and dependent in self.pending:
                heapq.heappush(self.ready, (-self.priority[dependent], dependent))

    def _wait_for_one(self) -> None:
        done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: self.running[f].target):
            if self.running[future].target not in self.results:
                self._finish(self.running[future], future)
            del self.running[future]

    def _interrupt(self) -> None:
        self.interrupted = True
        self.stopping = "cancelled"
        self.cancel.set()

    def _finish(self, job: Job, future: Future) -> None:
        result = self._result_of(job, future)
        self.results[job.target] = result
        kind = {"success": "finished"}.get(result.status, result.status)
        self.emit(Event(kind, job.target, result))
        if result.status == "success":
            self._release_dependents_of(job.target)
        if result.status != "failed":
            return
        self._block_dependents_of(job.target, job.target)
        if not self.keep_going:
            self.stopping = self.stopping or f"not started: {job.target} failed ({KEEP_GOING_HINT})"

    def _result_of(self, job: Job, future: Future) -> JobResult:
        try:
            return future.result()
        except Exception as exc:  # an executor or job that crashed is a failed job, not a crash
            status: Status = "cancelled" if self.cancel.is_set() else "failed"
            return JobResult(job.target, status, reason=f"{type(exc).__name__}: {exc}")

    def _block_dependents_of(self, target: str, root: str) -> None:
        for dependent in self.dependents[target]:
            if dependent in self.pending:
                del self.pending[dependent]
                result = JobResult(dependent, "blocked", reason=f"blocked by {root}")
                self.results[dependent] = result
                self.emit(Event("blocked", dependent, result))
                self._block_dependents_of(dependent, root)

    def _settle_pending(self) -> None:
        """Jobs never started: cancelled after Ctrl-C, skipped after a failure."""
        status: Status = "cancelled" if self.interrupted else "skipped"
        for target in sorted(self.pending):
            result = JobResult(target, status, reason=self.stopping or "not started")
            self.results[target] = result
            self.emit(Event(status, target, result))
        self.pending.clear()
