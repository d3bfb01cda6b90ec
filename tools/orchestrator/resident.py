"""What a server process keeps between the commands it answers, and when it may use it.

A server (server.py) answers for one workspace. Before each command it drains its watch
(watch.py) into `pending`; planning.py then takes the changes once and brings each kept
result up to date: the files git sees (only the changed ones read again), the render keys
(kept when no file they were made of changed), the graph (kept under its snapshot key), the
target hashes (only the targets owning a changed file, and what depends on them, hashed
again) and the last few plans (kept while all they were made of is the same object or equal).
Outside a server nothing is kept (`current()` is None) and every command reads afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.watch import Changes

PLANS_KEPT = 4


@dataclass(frozen=True)
class Kept:
    """One step's last result and what it was made of: `same` objects (compared by identity,
    and held, so an id is never reused) and `equal` values."""

    same: tuple
    equal: tuple
    value: Any

    def holds(self, same: tuple, equal: tuple) -> bool:
        return (len(same) == len(self.same)
                and all(a is b for a, b in zip(same, self.same, strict=True))
                and equal == self.equal)


class Resident:
    """The kept results of one workspace's server, and the changes not yet taken into them."""

    def __init__(self, root: Path, drain: Callable[[], Changes]):
        self.root = root
        self._drain = drain
        self._pending = Changes(None)  # nothing read yet: everything is new
        self.prepared: Any = None  # planning.Prepared
        self.snapshot: Kept | None = None  # the decoded graph snapshot under its key
        self.loaded: Kept | None = None  # a graph this server rendered, until its snapshot
        self.hashes: Kept | None = None
        self.plans: list[Kept] = []  # the last PLANS_KEPT plans, the newest last

    def refresh(self) -> Changes:
        """Drain the watch into the pending changes (before each command)."""
        new = self._drain()
        paths = (None if new.paths is None or self._pending.paths is None
                 else self._pending.paths | new.paths)
        self._pending = Changes(paths, new.gone or self._pending.gone)
        return self._pending

    def take_changes(self) -> Changes:
        """The changes since the kept files were read; from now on they are taken."""
        taken, self._pending = self._pending, Changes(frozenset())
        return taken

    def forget(self) -> None:
        """After a command failed unexpectedly: keep nothing that it may have half made."""
        self._pending = Changes(None)
        self.prepared = self.snapshot = self.loaded = self.hashes = None
        self.plans = []

    def kept(self, name: str, same: tuple, equal: tuple, compute: Callable[[], Any]) -> Any:
        """The value of step `name` for these inputs: the kept one when they are the same,
        else computed and kept."""
        last = getattr(self, name)
        if last is not None and last.holds(same, equal):
            return last.value
        value = compute()
        setattr(self, name, Kept(same, equal, value))
        return value

    def kept_plan(self, same: tuple, equal: tuple, compute: Callable[[], Any]) -> Any:
        """`kept` for plans, of which the last few of one graph are kept: `why` asks for the
        plan of what it names between two `plan //...` (another graph's are let go: memory)."""
        for index, kept in enumerate(self.plans):
            if kept.holds(same, equal):
                self.plans.append(self.plans.pop(index))
                return kept.value
        value = compute()
        alike = [kept for kept in self.plans if kept.holds(same, kept.equal)]  # same graph
        self.plans = [*alike[-(PLANS_KEPT - 1):], Kept(same, equal, value)]
        return value


_current: Resident | None = None


def current(root: Path) -> Resident | None:
    """The resident state of the server answering for `root`; None outside a server."""
    return _current if _current is not None and _current.root == root else None


@contextmanager
def answering(resident: Resident) -> Iterator[Resident]:
    """Within: planning keeps its results in `resident` (one command at a time)."""
    global _current
    _current = resident
    try:
        yield resident
    finally:
        _current = None
