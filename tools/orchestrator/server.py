"""The server of one workspace: answers `plan`, `why`, `graph` and `query` from what it keeps.

Like Bazel's server and pantsd: started on demand by the front door (server_client.py) for one
workspace and one build of the tool, it holds its socket under a lock (one server per socket),
answers one command at a time by running cli.py in this process with the client's command
line, directory, environment and terminals, and keeps the graph, the hashes and the last plans
between commands (resident.py). Before each command it drains its inotify watch (watch.py):
what changed is read again, never answered from memory.

It stops when asked (`orchestrate server stop`), after ORCHESTRATE_SERVER_IDLE seconds without
a command (default 1800), when its workspace is deleted or moved, and when a server of another
build of the tool starts for the same workspace (it asks the others to stop).

  python -m orchestrator.server ROOT SOCKET
"""

from __future__ import annotations

import fcntl
import io
import os
import socket
import sys
import time
import traceback
from contextlib import contextmanager, suppress
from pathlib import Path

from orchestrator import server_client as wire
from orchestrator.watch import Changes, TreeWatch

POLL_SECONDS = 2.0  # how often an idle server looks at the clock and its workspace


class _Stream(io.TextIOBase):
    """stdout or stderr of a command: each write goes to the client as it is made."""

    def __init__(self, sock: socket.socket, fd: int, tty: bool):
        self._sock, self._fd, self._tty = sock, fd, tty

    def write(self, text: str) -> int:
        if text:
            wire.send(self._sock, {"fd": self._fd, "text": text})
        return len(text)

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:
        return "utf-8"


class Server:
    def __init__(self, root: Path, listener: socket.socket):
        from orchestrator import resident

        self.root = root
        self.listener = listener
        self.watch: TreeWatch | None = None  # set up once the first answer is sent
        self.kept = resident.Resident(root, self._drain)
        self.idle = float(os.environ.get("ORCHESTRATE_SERVER_IDLE", "1800"))
        self.started = self.last = time.monotonic()
        self.answered = 0

    def _drain(self) -> Changes:
        return self.watch.drain() if self.watch is not None else Changes(None)

    def _watch(self) -> None:
        """The watch is set up after the first answer (half a second for 7,000 directories,
        which that answer does not wait for); its first drain says everything changed, as
        nothing is known of what happened before it."""
        from orchestrator import vcs
        from orchestrator.hashing import skipped_path

        if self.watch is None:
            self.watch = TreeWatch(self.root, skipped_path, vcs.git_dir(self.root))

    def serve(self) -> None:
        self.listener.settimeout(POLL_SECONDS)
        while True:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                if self._should_stop():
                    return
                continue
            with conn:
                if not self._answer(conn):
                    return
            self._watch()

    def _should_stop(self) -> bool:
        return (time.monotonic() - self.last > self.idle or self.kept.refresh().gone
                or not (self.root / wire.WORKSPACE_FILE).is_file())

    def _answer(self, conn: socket.socket) -> bool:
        """Answer one message; False when the server is to stop."""
        conn.settimeout(None)
        message = wire.receive(conn)
        if message is None:
            return True
        if message.get("stop"):
            wire.send(conn, {"exit": 0})
            return False
        if message.get("status"):
            wire.send(conn, self._status())
            return True
        gone = self.kept.refresh().gone
        code = self._run(conn, message)
        self.answered += 1
        self.last = time.monotonic()
        with suppress(OSError):  # the client left (Ctrl-C, a closed pipe): nothing to tell
            wire.send(conn, {"exit": code})
        return not gone

    def _run(self, conn: socket.socket, message: dict) -> int:
        from orchestrator import cli, resident

        tty_out, tty_err = message.get("tty", (False, False))
        streams = (_Stream(conn, 0, tty_out), _Stream(conn, 1, tty_err))
        try:
            with _client_context(message["cwd"], message["env"], streams), \
                    resident.answering(self.kept):
                return cli.main(list(message["argv"]))
        except SystemExit as exc:  # argparse: its message is on the client's stderr already
            return exc.code if isinstance(exc.code, int) else 2
        except ConnectionError:  # the client left (BrokenPipeError is one)
            return 0
        except BaseException:  # a bug, or --debug: the traceback, as in a process of its own
            return self._failed(streams[1])

    def _failed(self, stderr: _Stream) -> int:
        self.kept.forget()  # nothing half made is kept
        with suppress(OSError):
            stderr.write(traceback.format_exc())
        return 1

    def _status(self) -> dict:
        with open("/proc/self/status") as status:
            memory = {k: v.strip() for k, v in (line.split(":", 1) for line in status)
                      if k in ("VmRSS", "VmHWM")}
        return {"pid": os.getpid(), "root": str(self.root), "answered": self.answered,
                "up_seconds": round(time.monotonic() - self.started, 1),
                "idle_seconds": round(time.monotonic() - self.last, 1), **memory}


@contextmanager
def _client_context(cwd: str, env: dict, streams: tuple[_Stream, _Stream]):
    """The client's directory, environment and output streams, while a command runs."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdout, sys.stderr
    os.environ.clear()
    os.environ.update(env)
    try:
        os.chdir(cwd)
        sys.stdout, sys.stderr = streams
        yield
    finally:
        sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def _stop_other_builds(root: Path, sock_path: Path) -> None:
    """Servers of the same workspace started by another build of the tool answer for a tool
    that is gone: they are asked to stop."""
    for other in wire.servers_of(str(root)):
        if other != str(sock_path):
            wire.request(other, {"stop": True})


def main(argv: list[str]) -> int:
    root, sock_path = Path(argv[0]), Path(argv[1])
    lock = open(sock_path.with_suffix(".lock"), "w")  # noqa: SIM115 (held for the lifetime)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another server of this workspace and tool is starting or running
    sock_path.unlink(missing_ok=True)  # a server that died left it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with wire.socket_address(str(sock_path)) as address:
        listener.bind(address)
    listener.listen(64)
    _stop_other_builds(root, sock_path)
    print(f"{time.strftime('%F %T')} server {os.getpid()} for {root}", flush=True)
    try:
        Server(root, listener).serve()
    finally:
        sock_path.unlink(missing_ok=True)
        listener.close()
    print(f"{time.strftime('%F %T')} server {os.getpid()} stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
