"""Run jobs on a thread pool on this machine: each job's real work is a subprocess."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class LocalExecutor:
    def __init__(self, slots: int = 0):
        self.slots = slots or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="job")

    def submit(self, work: Callable[[Any, Any], Any], job: Any, cancel: threading.Event
               ) -> Future:
        return self._pool.submit(work, job, cancel)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
