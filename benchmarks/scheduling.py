"""Scheduler efficiency: a DAG of jobs that each run a real `sleep` through proc.py.

The makespan is compared with the lower bound max(critical path, total work / slots). Each job's
measured time minus its sleep is the per-job overhead (spawning, polling, reaping); the bound
computed with the measured job times (`effective`) shows what the scheduling itself costs.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator import proc
from orchestrator.buildjob import BuildJob
from orchestrator.executors.local import LocalExecutor
from orchestrator.scheduler import JobResult, critical_path, run_jobs

MAX_DEPS = 3
WINDOW = 40  # a job depends on jobs among the WINDOW before it: long chains, wide layers


@dataclass(frozen=True)
class SchedulerFigure:
    jobs: int
    slots: int
    makespan: float
    bound: float  # max(critical path, total / slots) with the nominal sleep times
    effective_bound: float  # the same with each job's measured time
    overhead_ms: float  # median measured job time minus its sleep, per job
    all_succeeded: bool

    @property
    def ratio(self) -> float:
        return self.makespan / self.bound

    @property
    def effective_ratio(self) -> float:
        return self.makespan / self.effective_bound


def synthetic_jobs(n: int, seed: int = 0, mean: float = 0.1) -> tuple[BuildJob, ...]:
    """`n` jobs; job i waits on up to MAX_DEPS of the WINDOW jobs before it; weight = its sleep."""
    rng = random.Random(seed)
    jobs = []
    for i in range(n):
        earlier = range(max(0, i - WINDOW), i)
        deps = rng.sample(earlier, min(len(earlier), rng.randint(0, MAX_DEPS)))
        sleep = round(min(5 * mean, rng.lognormvariate(0, 0.6) * mean * 0.84), 3)
        jobs.append(BuildJob(f"//jobs/j{i:04d}", f"h{i}", deps=tuple(f"//jobs/j{d:04d}" for d in
                                                                  sorted(deps)), weight=sleep))
    return tuple(jobs)


def lower_bound(jobs: tuple[BuildJob, ...], slots: int, times: dict[str, float]) -> float:
    timed = [BuildJob(j.target, j.hash, deps=j.deps, weight=times[j.target]) for j in jobs]
    longest = max(critical_path(timed).values(), default=0.0)
    return max(longest, sum(times.values()) / slots)


def measure_scheduler(n: int, slots: int, seed: int = 0, mean: float = 0.1) -> SchedulerFigure:
    jobs = synthetic_jobs(n, seed, mean)
    measured: dict[str, float] = {}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        def work(job: BuildJob, cancel: threading.Event) -> JobResult:
            started = time.perf_counter()
            proc.run(["sleep", f"{job.weight:.3f}"], log=Path(tmp) / f"{job.target[7:]}.log")
            took = time.perf_counter() - started
            with lock:
                measured[job.target] = took
            return JobResult(job.target, "success", duration=took)

        executor = LocalExecutor(slots)
        started = time.perf_counter()
        try:
            outcome = run_jobs(jobs, work, executor)
        finally:
            executor.shutdown()
        makespan = time.perf_counter() - started
    nominal = {j.target: j.weight for j in jobs}
    overhead = statistics.median(measured[t] - nominal[t] for t in measured) if measured else 0.0
    return SchedulerFigure(
        n, slots, makespan, lower_bound(jobs, slots, nominal),
        lower_bound(jobs, slots, measured) if len(measured) == n else float("nan"),
        overhead * 1000, outcome.ok,
    )


if __name__ == "__main__":
    for slots in (2, 8):
        fig = measure_scheduler(200, slots)
        print(f"-j {slots}: makespan {fig.makespan:.2f}s, bound {fig.bound:.2f}s "
              f"(ratio {fig.ratio:.3f}), effective bound {fig.effective_bound:.2f}s "
              f"(ratio {fig.effective_ratio:.3f}), overhead {fig.overhead_ms:.1f} ms/job")
