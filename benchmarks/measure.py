"""Timing a child process: wall time and the child's own peak memory, and the statistics of runs.

The peak memory comes from `os.wait4` on the child itself (its `ru_maxrss`), so one run's figure
is never mixed with another child's, as `RUSAGE_CHILDREN` would be.
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class ChildFailed(RuntimeError):
    """A measured command exited non-zero: the benchmark stops and shows why."""

    def __init__(self, argv: Sequence[str], code: int, err: str):
        tail = "\n".join(err.strip().splitlines()[-15:])
        super().__init__(f"`{shlex.join(argv)}` exited {code}:\n{tail}")


@dataclass(frozen=True)
class Sample:
    seconds: float
    max_rss_mb: float
    out: str = ""
    err: str = ""


@dataclass(frozen=True)
class Stats:
    """Median, spread (min–max) and peak memory of several runs of one figure."""

    runs: int
    median: float
    low: float
    high: float
    max_rss_mb: float

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Stats:
        times = [s.seconds for s in samples]
        return cls(len(times), statistics.median(times), min(times), max(times),
                   max(s.max_rss_mb for s in samples))

    def cell(self) -> str:
        """`0.412 s (0.40–0.43, n=5)` for a markdown table."""
        return f"{self.median:.3f} s ({self.low:.3f}–{self.high:.3f}, n={self.runs})"


def run_child(argv: Sequence[str], *, cwd: Path | None = None, keep_output: bool = False,
              env: dict[str, str] | None = None) -> Sample:
    """Run `argv` to the end; its wall time, peak RSS and (with keep_output) stdout and stderr.

    Raises ChildFailed on a non-zero exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(list(argv), cwd=cwd, stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            raise ChildFailed(argv, child.returncode, err.read().decode(errors="replace"))
        texts = [_read(f) if keep_output else "" for f in (out, err)]
    return Sample(seconds, usage.ru_maxrss / 1024, *texts)


def _read(file) -> str:
    file.seek(0)
    return file.read().decode(errors="replace")


def repeat(argv: Sequence[str], runs: int, *, cwd: Path | None = None,
           before=None, env: dict[str, str] | None = None) -> Stats:
    """`runs` runs of `argv`; `before(i)` (when given) prepares run i and is not timed."""
    samples = []
    for i in range(runs):
        if before is not None:
            before(i)
        samples.append(run_child(argv, cwd=cwd, env=env))
    return Stats.of(samples)
