"""The one door for subprocesses: a log file, a timeout, a cancel event, the whole group killed.

Two kinds of children. A build (`run`) starts in its own session (so its own process group),
its output going to a log; on timeout, cancellation or Ctrl-C the whole group gets SIGTERM,
then SIGKILL after a grace period, so a build's grandchildren (compilers, `docker run`, test
runners) never outlive it. When orchestrate itself dies, even by SIGKILL, the child's group is
killed too (lifeline.py). A query (`output`, or `start` then `Started.result`: git's file
lists, `docker ps`) is a short command whose output is wanted: read through pipes, killed at
its timeout. Both fail with `ProcessFailed`: the command, its return code, its output's tail.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.errors import BuildError

if TYPE_CHECKING:
    from orchestrator.lifeline import Watchdog

POLL_SECONDS = 0.05
GRACE_SECONDS = 5.0
TAIL_LINES = 30


class ProcessFailed(BuildError):
    """A child process exited non-zero: the command, its return code and the tail of its log."""

    exit_code = 1

    def __init__(self, argv: Sequence[str], returncode: int | None, tail: Sequence[str],
                 log: Path | None = None, why: str = ""):
        self.argv = tuple(argv)
        self.returncode = returncode
        self.tail = tuple(tail)
        self.log = log
        self.why = why or f"exited with return code {returncode}"
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" (log: {self.log})" if self.log else ""
        return f"command `{shlex.join(self.argv)}` {self.why}{where}"

    def lines(self) -> list[str]:
        return [str(self), *(f"  {line}" for line in self.tail)]


class ProcessTimedOut(ProcessFailed):
    """The child ran longer than its timeout; its group was killed."""


class ProcessCancelled(ProcessFailed):
    """The cancel event was set (or Ctrl-C); the child's group was killed."""


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    duration: float
    log: Path


def run(
    argv: Sequence[str],
    *,
    log: Path,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    grace: float = GRACE_SECONDS,
) -> Completed:
    """Run `argv`, appending its stdout and stderr to `log`; raise ProcessFailed unless it exits 0.

    Raises ProcessTimedOut after `timeout` seconds and ProcessCancelled once `cancel` is set; in
    both cases (and on KeyboardInterrupt) the child's whole process group is killed first.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log, "ab") as out:
        out.write(f"$ {shlex.join(argv)}\n".encode())
        out.flush()
        child, watchdog = _spawn_watched(argv, out, env, cwd)
    try:
        code = _finish(child, started, timeout, cancel, grace)
    finally:
        watchdog.release()
    if code is None:
        raise _stopped(argv, log, timeout, cancel)
    if code != 0:
        raise ProcessFailed(argv, code, log_tail(log), log)
    return Completed(tuple(argv), code, time.monotonic() - started, log)


@dataclass(frozen=True)
class Captured:
    """What a query printed, and how it ended."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def failure(self) -> ProcessFailed:
        """The error of a query that exited non-zero: its command, code and stderr's tail."""
        return ProcessFailed(self.argv, self.returncode, self.stderr.splitlines()[-TAIL_LINES:])

    def checked(self) -> str:
        """stdout, or `failure()` raised when the query exited non-zero."""
        if self.returncode != 0:
            raise self.failure()
        return self.stdout


class Started:
    """A query running while the caller does something else (e.g. git's two file lists)."""

    def __init__(self, argv: Sequence[str], *, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None, stdin: bytes | None = None):
        self.argv = tuple(argv)
        self._stdin = stdin
        try:
            self._child = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                env=dict(env) if env is not None else None)
        except OSError as exc:
            raise ProcessFailed(argv, None, (), None,
                                f"could not start: {exc.strerror or exc}") from None

    def result(self, timeout: float | None = None) -> Captured:
        """Its output once it exits; ProcessTimedOut (killed) after `timeout` seconds."""
        try:
            out, err = self._child.communicate(self._stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            self._child.kill()
            out, err = self._child.communicate()
            raise ProcessTimedOut(self.argv, None, _text(err).splitlines()[-TAIL_LINES:], None,
                                  f"timed out after {timeout:g}s") from None
        except BaseException:  # Ctrl-C: no query outlives its caller
            self._child.kill()
            self._child.wait()
            raise
        return Captured(self.argv, self._child.returncode, _text(out), _text(err))


def start(argv: Sequence[str], *, cwd: Path | None = None,
          env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> Started:
    """A query started (ProcessFailed when it cannot start); read it with `.result()`;
    `stdin`: what it reads (else nothing)."""
    return Started(argv, cwd=cwd, env=env, stdin=stdin)


def output(argv: Sequence[str], *, cwd: Path | None = None, timeout: float | None = None,
           env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> Captured:
    """A query run to its end (see `Started.result`)."""
    return start(argv, cwd=cwd, env=env, stdin=stdin).result(timeout)


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "surrogateescape")


def _spawn_watched(argv, out, env, cwd) -> tuple[subprocess.Popen, Watchdog]:
    """The child, and its watchdog, which the child tells its group before exec. Ctrl-C and
    termination signals wait until both exist (blocked meanwhile; the child gets the old mask
    back before exec): an interrupt between the two would leave a child nobody kills."""
    from orchestrator import lifeline  # builds only: queries start no watchdog

    with lifeline.signals_deferred() as mask:
        watchdog = lifeline.start()
        try:
            child = _spawn(argv, out, env, cwd, (mask, watchdog.pipe, os.getpid()))
        except BaseException:
            watchdog.release()
            raise
    return child, watchdog


def _finish(child, started, timeout, cancel, grace) -> int | None:
    """The child's return code once its group is gone; None when it was stopped (timeout,
    cancel), and on any exception (Ctrl-C) its group is killed before it propagates."""
    try:
        code = _wait(child, started, timeout, cancel)
    except BaseException:
        kill_group(child, grace)
        raise
    if code is None:
        kill_group(child, grace)
        return None
    _reap_group(child.pid)
    return code


def _spawn(argv, out, env, cwd, child_setup: tuple) -> subprocess.Popen:
    from orchestrator import lifeline

    try:
        return subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True,
            preexec_fn=functools.partial(lifeline.prepare_child, *child_setup),
        )
    except OSError as exc:
        raise ProcessFailed(argv, None, (), None, f"could not start: {exc.strerror}") from None


def _wait(child: subprocess.Popen, started: float, timeout: float | None,
          cancel: threading.Event | None) -> int | None:
    """The return code, or None when the timeout passed or the cancel event was set."""
    while True:
        try:
            return child.wait(POLL_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        if cancel is not None and cancel.is_set():
            return None
        if timeout is not None and time.monotonic() - started > timeout:
            return None


def _stopped(argv, log: Path, timeout, cancel) -> ProcessFailed:
    if cancel is not None and cancel.is_set():
        return ProcessCancelled(argv, None, log_tail(log), log, "was cancelled")
    return ProcessTimedOut(argv, None, log_tail(log), log, f"timed out after {timeout:g}s")


def kill_group(child: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the child's process group, then SIGKILL whatever is left after `grace` seconds."""
    _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if child.poll() is not None and not _group_alive(child.pid):
            return
        time.sleep(POLL_SECONDS)
    _signal_group(child.pid, signal.SIGKILL)
    child.wait()


def _reap_group(pgid: int) -> None:
    """A child that exited may leave background processes in its group: end them too."""
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    """Whether any live (not zombie) process is left in the group.

    `killpg(pgid, 0)` answers the common case (group gone) in microseconds; only when it
    says the group exists is /proc scanned, since zombies still count as members for it."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc/self"):
        return True
    return any(_is_live_member(stat, pgid) for stat in Path("/proc").glob("[0-9]*/stat"))


def _is_live_member(stat: Path, pgid: int) -> bool:
    """From /proc/PID/stat: `pid (comm) state ppid pgrp ...`; the comm may hold spaces."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z" and int(fields[2]) == pgid


def log_tail(log: Path, lines: int = TAIL_LINES) -> tuple[str, ...]:
    """The last `lines` lines of a log file (empty when it cannot be read)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ()
    return tuple(text.splitlines()[-lines:])
