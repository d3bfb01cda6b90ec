"""No orphans: a child of orchestrate and its whole process group die when orchestrate dies.

Builds start in their own session (so Ctrl-C on the terminal reaches orchestrate, which stops
them in order), which also means nothing kills them when orchestrate itself is killed: after
`kill -9` the runner, its shell and their children ran on (issue 9). Two lines of defence:

- the child asks the kernel for SIGKILL when its parent dies (`PR_SET_PDEATHSIG`, set between
  fork and exec), which covers the direct child at once;
- a watchdog per child, a tiny Python process in a session of its own, holds the read end of a
  pipe whose write end only orchestrate has. It is started before the child, and the child
  itself tells it its process group between fork and exec (so no moment of a running child is
  unwatched, however late orchestrate's own thread runs again). When the build ends,
  orchestrate writes one more byte and the watchdog exits; when orchestrate dies by any signal,
  the kernel closes the pipe, the watchdog reads end-of-file and kills the child's process
  group (SIGTERM, then SIGKILL), so the grandchildren die too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 2.0
_WATCHDOG = """\
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
grace = float(sys.argv[1])
pipe = os.fdopen(0, "rb", buffering=0)
line = pipe.readline()
if line.endswith(b"\\n") and not pipe.read(1):
    pgid = int(line)
    try:
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)
            time.sleep(0.05)
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


def _load_prctl():
    """libc's prctl, looked up in the parent: the child between fork and exec must not load
    libraries (it would need locks another thread may hold)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        return None


_PRCTL = _load_prctl()


DEFERRED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@contextlib.contextmanager
def signals_deferred():
    """Ctrl-C and termination signals held back in this thread (delivered on leaving); yields
    the previous mask, for the child to restore."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED)
    try:
        yield previous
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def prepare_child(mask, watchdog_pipe: int, parent: int) -> None:
    """The `preexec_fn` of a child started in a session of its own: SIGKILL when the parent
    dies, its group told to the watchdog (its pid: setsid ran before this), and the parent's
    signal mask from before `signals_deferred` (a blocked mask would survive exec). A parent
    already dead before the first step never sends the death signal: the child goes itself."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.write(watchdog_pipe, b"%d\n" % os.getpid())
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@dataclass(frozen=True)
class Watchdog:
    process: subprocess.Popen
    pipe: int  # the write end: orchestrate's alone

    def release(self) -> None:
        """The child is over (or was killed by us): the watchdog may go without killing."""
        with contextlib.suppress(OSError):
            os.write(self.pipe, b"x")
        with contextlib.suppress(OSError):
            os.close(self.pipe)
        self.process.wait()


def start() -> Watchdog:
    """A watchdog, started before the child so that no moment of the child's life is
    unwatched: once the child has written its group to `pipe` (`prepare_child`), it kills
    that group if this process dies before `release`."""
    read_end, write_end = os.pipe()  # not inheritable: no other child holds the write end
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(GRACE_SECONDS)],
            stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=None,
        )
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    return Watchdog(process, write_end)
