"""Where jobs run: a small Protocol and a name → implementation dict (local now, distributed later).

An executor only runs what it is given: `submit(work, job, cancel)` calls `work(job, flag)`
somewhere, `flag` being `cancel` (a threading.Event) or what stands for it where the work runs,
and returns a `concurrent.futures.Future` of its result. It never decides what to run or when.
A distributed executor returns such a Future too, completed from its own handle (the Dask
future's done callback, in dask.py), so the scheduler stays the same. GitLab CI child pipelines
are not an executor: the plan is handed over whole as a pipeline document (gitlab.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from orchestrator.executors.dask import DaskExecutor
from orchestrator.executors.local import LocalExecutor


class Executor(Protocol):
    slots: int  # how many jobs may run at once

    def submit(self, work: Callable[[Any, Any], Any], job: Any, cancel: threading.Event
               ) -> Future: ...

    def shutdown(self) -> None: ...


# every class is built as `cls(slots, **options)`; Dask takes `address` (None: a LocalCluster)
EXECUTORS: dict[str, type[Executor]] = {"local": LocalExecutor, "dask": DaskExecutor}
