"""Run jobs on a Dask cluster (dask.distributed): a scheduler's address, or a LocalCluster.

Each job is one Dask task, run in a worker's thread; its real work is still a subprocess
started by proc.py on that worker. Workers must see the workspace, its cache and the target
channel at the same paths as this machine (one host, or a shared file system such as NFS):
publishing stays atomic under the channel's file lock. `slots` is the cluster's worker threads.

Cancellation is cooperative. A `threading.Event` cannot travel to a worker, so the run's cancel
event, which the scheduler hands to `submit`, reaches each job as a `RemoteCancel`: a named
`distributed.Event` the workers read. When the local event is set (Ctrl-C, SIGTERM), the
executor sets the distributed one; proc.py on each worker sees it and kills the build's process
group, and the job reports `cancelled`. Jobs still queued are cancelled on shutdown. A client
that dies without shutting down (kill -9) leaves running builds to finish on their workers.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any

from orchestrator.errors import OrchestratorError

CANCEL_POLL = 0.5  # how often a worker asks the scheduler whether the run was cancelled
RELAY_POLL = 0.2


class DaskError(OrchestratorError):
    """The Dask scheduler cannot be reached or has no workers."""


class RemoteCancel:
    """A cancel flag shared by name through the Dask scheduler (picklable, unlike threading.Event).

    proc.py asks `is_set()` every few milliseconds: the scheduler is asked at most every
    CANCEL_POLL seconds, and a flag once seen set stays set.
    """

    def __init__(self, name: str, client: Any = None):
        self.name, self._client = name, client  # None on a worker: its own client is used
        self._seen = False
        self._asked = 0.0

    def __reduce__(self):
        return (RemoteCancel, (self.name,))

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._seen and now - self._asked >= CANCEL_POLL:
            self._asked = now
            self._seen = bool(self._event().is_set())
        return self._seen

    def set(self) -> None:
        self._seen = True
        self._event().set()

    def _event(self):
        from distributed import Event

        return Event(self.name, self._client)


class DaskExecutor:
    """`DaskExecutor(slots, address=None)`: on the cluster at `address`, or on a new
    LocalCluster of `slots` single-threaded worker processes on 127.0.0.1."""

    def __init__(self, slots: int = 0, address: str | None = None):
        self.address = address
        self._cluster = None if address else _local_cluster(slots)
        self._client = _connect(address or self._cluster, address or "LocalCluster")
        self.slots = sum(self._client.nthreads().values())
        self._cancel_name = f"orchestrate-cancel-{uuid.uuid4().hex}"
        self._closed = threading.Event()
        self._running: set[Any] = set()  # Dask futures: a dropped one is forgotten by Dask
        self._shipped: dict[int, tuple] = {}  # id(work) → (work, func, args, keywords)
        self._relayed: set[int] = set()
        self._lock = threading.Lock()

    def submit(self, work: Callable[[Any, Any], Any], job: Any, cancel: threading.Event
               ) -> Future:
        _, func, args, keywords = self._ship(work)
        self._relay(cancel)
        key = f"orchestrate-{_key_part(getattr(job, 'target', 'job'))}-{uuid.uuid4().hex[:8]}"
        remote = self._client.submit(func, *args, job, RemoteCancel(self._cancel_name), key=key,
                                     pure=False, **keywords)
        with self._lock:
            self._running.add(remote)
        return self._mirror(remote)

    def shutdown(self) -> None:
        self._closed.set()
        with self._lock:
            self._client.cancel(list(self._running), force=True)
            self._running.clear()
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def _ship(self, work: Callable) -> tuple[Callable, Callable, tuple, dict]:
        """The work as a function whose bound arguments (a partial's: the run's context) are
        sent to every worker once, not with each job."""
        if id(work) not in self._shipped:
            func, args, keywords = work, (), {}
            if isinstance(work, partial):
                func, args, keywords = work.func, work.args, work.keywords
            args = tuple(self._scatter(a) for a in args)
            keywords = {k: self._scatter(v) for k, v in keywords.items()}
            self._shipped[id(work)] = (work, func, args, keywords)  # work kept: its id stays
        return self._shipped[id(work)]

    def _scatter(self, value: Any) -> Any:
        return self._client.scatter(value, hash=False, broadcast=True)

    def _relay(self, cancel: threading.Event) -> None:
        """Set the workers' flag once the local event is set, until shutdown."""
        if id(cancel) in self._relayed:
            return
        self._relayed.add(id(cancel))

        def relay() -> None:
            while not self._closed.is_set():
                if cancel.wait(RELAY_POLL):
                    RemoteCancel(self._cancel_name, self._client).set()
                    return

        threading.Thread(target=relay, name="dask-cancel-relay", daemon=True).start()

    def _mirror(self, remote: Any) -> Future:
        """A concurrent.futures.Future completed from the Dask future's done callback."""
        local: Future = Future()
        local.set_running_or_notify_cancel()

        def done(finished: Any) -> None:
            with self._lock:
                self._running.discard(finished)
            try:
                local.set_result(finished.result())
            except BaseException as exc:  # the job's error, a lost worker, a cancellation
                local.set_exception(exc)

        remote.add_done_callback(done)
        return local


def _local_cluster(slots: int):
    import os

    from distributed import LocalCluster

    workers = slots or os.cpu_count() or 1
    try:
        with _workers_ignore_ctrl_c():
            return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                host="127.0.0.1", dashboard_address=None)
    except (OSError, TimeoutError) as exc:
        raise DaskError(f"dask: cannot start a LocalCluster on 127.0.0.1: {exc}") from None


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Ctrl-C in a terminal reaches the whole foreground group, workers included: a worker it
    killed would orphan its build. Processes started while SIGINT is ignored keep ignoring it,
    so only this process hears Ctrl-C and cancels the builds through the RemoteCancel."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _connect(where: Any, name: str):
    """A client, once a worker is there; both waits are Dask's connect timeout (30s unless
    DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT says otherwise)."""
    import dask.config
    from distributed import Client

    timeout = dask.config.get("distributed.comm.timeouts.connect")
    try:
        client = Client(where, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise DaskError(f"dask scheduler {name}: cannot connect: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise DaskError(f"dask scheduler {name}: no worker joined within {timeout}") from None
    return client


def _key_part(target: str) -> str:
    """A node id as a Dask key part: Dask and its dashboard split keys on brackets and
    commas (`//recipes/numpy[python=3.12]` → `recipes/numpy.python=3.12`)."""
    return re.sub(r"[^\w/=.+-]+", ".", target.removeprefix("//")).strip(".")
