"""The `orchestrate` command's front door: questions go to the workspace's server.

`plan`, `why`, `graph` and `query` are answered by a server process per workspace and build of
the tool (server.py) which keeps the graph, the hashes and the last plans in memory and knows
from inotify what changed since; this module starts it on demand, sends it the command line,
the working directory, the environment and whether stdout/stderr are terminals, and writes
back what it prints, as it prints it. Everything else, and everything when the server cannot
be used (`ORCHESTRATE_SERVER=0`, no private runtime directory, the server died), runs in this
process (cli.py). It imports little of the standard library (no hashlib, pathlib: OpenSSL and
urllib behind them cost a tenth of a warm answer): paths are strings, messages JSON (data that
cannot run code, like every cache), the socket this user's alone.

The socket's name holds a digest of the workspace's path and one of the tool itself (its code,
its interpreter, its installed packages), so a changed tool never talks to an old server, and
the new server tells the old ones to stop.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

try:
    from _blake2 import blake2b  # hashlib's, without loading OpenSSL first
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

SERVED = frozenset({"plan", "why", "graph", "query"})
WORKSPACE_FILE = "WORKSPACE.toml"  # workspace.py's; not imported (pydantic) to stay light
START_TIMEOUT = 60.0  # seconds for a new server to listen
_HEADER = struct.Struct(">I")
_PACKAGE = os.path.dirname(os.path.realpath(__file__))


class ServerUnavailable(Exception):
    """The server cannot answer: the caller answers in its own process."""


# ---------------------------------------------------------------- the front door


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = served_root(argv)
    if root is not None:
        try:
            return ask(root, argv)
        except ServerUnavailable as exc:
            if str(exc):
                print(f"warning: {exc}; answering without it", file=sys.stderr)
    from orchestrator.cli import main as in_process

    return in_process(argv)


def served_root(argv: list[str]) -> str | None:
    """The workspace root whose server answers `argv`; None when this process answers."""
    if os.environ.get("ORCHESTRATE_SERVER", "1").lower() in ("0", "off", "no", "false"):
        return None
    directory, command, rest = _split(argv)
    if command not in SERVED or {"-h", "--help"} & set(rest):
        return None
    if directory is not None:
        root = os.path.realpath(directory)
        return root if os.path.isfile(os.path.join(root, WORKSPACE_FILE)) else None
    return _found_above(os.getcwd())


def _found_above(start: str) -> str | None:
    """The first directory from `start` up holding WORKSPACE.toml (workspace.py's rule)."""
    directory = os.path.realpath(start)
    while True:
        if os.path.isfile(os.path.join(directory, WORKSPACE_FILE)):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _split(argv: list[str]) -> tuple[str | None, str | None, list[str]]:
    """(-C's directory, the command, what follows it) as cli.py reads them; no command when
    the top-level options are anything else (`--version`, a typo)."""
    directory, index = None, 0
    while index < len(argv):
        token = argv[index]
        if token == "-C" and index + 1 < len(argv):
            directory, index = argv[index + 1], index + 2
        elif token.startswith("-C") and len(token) > 2:
            directory, index = token[2:], index + 1
        elif token == "--debug":
            index += 1
        elif token.startswith("-"):
            return None, None, []
        else:
            return directory, token, argv[index + 1:]
    return None, None, []


def ask(root: str, argv: list[str]) -> int:
    """The server's answer to `argv`, its output written here as it comes; its exit code. A
    server that closes before answering anything (it was just stopping) is started again."""
    for _attempt in range(2):
        with connect(root, start=True) as sock:
            send(sock, {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                        "tty": [sys.stdout.isatty(), sys.stderr.isatty()]})
            code = _answer(sock)
        if code is not None:
            return code
    raise ServerUnavailable(f"the server of {root} stopped while answering "
                            f"(its log: {paths(root).log})")


def _answer(sock: socket.socket) -> int | None:
    """The exit code after writing the output; None when the server closed without a word."""
    streams, wrote = (sys.stdout, sys.stderr), False
    while True:
        message = receive(sock)
        if message is None:
            if wrote:
                raise ServerUnavailable("the server stopped in the middle of its answer")
            return None
        if "exit" in message:
            return int(message["exit"])
        try:
            streams[message["fd"]].write(message["text"])
            streams[message["fd"]].flush()
        except BrokenPipeError:  # `| head`: like cli.py, a reader that left is no error
            return 0
        wrote = True


# ---------------------------------------------------------------- where servers are


class ServerPaths:
    """The socket and log of the server of one workspace and one build of the tool (which
    holds `<tool>.lock` beside them)."""

    def __init__(self, directory: str, tool: str):
        self.directory = directory
        self.socket = os.path.join(directory, f"{tool}.sock")
        self.log = os.path.join(directory, f"{tool}.log")


def paths(root: str) -> ServerPaths:
    return ServerPaths(workspace_directory(root), tool_digest())


def workspace_directory(root: str) -> str:
    """This user's private directory for the servers of `root`."""
    name = blake2b(os.fsencode(root), digest_size=8).hexdigest()
    directory = os.path.join(runtime_directory(), name)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    return directory


def runtime_directory() -> str:
    """$XDG_RUNTIME_DIR/orchestrate or /tmp/orchestrate-<uid>, private to this user (else
    ServerUnavailable: another user's directory is not a place to talk to servers)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    base = os.path.join(xdg, "orchestrate") if xdg else f"/tmp/orchestrate-{os.getuid()}"
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        info = os.stat(base)
    except OSError as exc:
        raise ServerUnavailable(f"no runtime directory for the server: {exc}") from None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ServerUnavailable(f"{base} is not private to this user")
    return base


def tool_digest() -> str:
    """What the server's answers are a function of besides the workspace: this package's code
    (each file's size and modification time, as git and make judge a file), the interpreter,
    and the installed packages (their directories change when one is)."""
    digest = blake2b(digest_size=10)
    digest.update(f"{os.path.realpath(sys.executable)}\0{sys.version}\0".encode())
    for source in _sources(_PACKAGE):
        info = os.stat(source)
        digest.update(f"{source}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            digest.update(f"{entry}\0{os.stat(entry).st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _sources(top: str) -> list[str]:
    found = []
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [os.path.join(directory, f) for f in sorted(files) if f.endswith(".py")]
    return found


# ---------------------------------------------------------------- talking to a server


def connect(root: str, *, start: bool) -> socket.socket:
    """A connection to the server of `root`, started first when `start` and none listens."""
    where = paths(root)
    try:
        return _connected(where.socket)
    except OSError:
        if not start:
            raise ServerUnavailable("") from None
    server, spawned = _spawn(root, where), 1
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            return _connected(where.socket)
        except OSError:
            code = server.poll()
            if code not in (None, 0):
                raise ServerUnavailable(f"the server of {root} did not start "
                                        f"(its log: {where.log})") from None
            if code == 0 and spawned < 5:  # another held the lock: stopping, or now listening
                server, spawned = _spawn(root, where), spawned + 1
            time.sleep(0.01)
    raise ServerUnavailable(f"the server of {root} did not listen within {START_TIMEOUT:g}s")


def _connected(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with socket_address(path) as address:
            sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


@contextmanager
def socket_address(path: str) -> Iterator[str]:
    """An address for `path` within AF_UNIX's 108 bytes: the path itself, or when it is longer
    (a deep $XDG_RUNTIME_DIR), the same file through an open descriptor of its directory."""
    if len(os.fsencode(path)) < 100:
        yield path
        return
    fd = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{os.path.basename(path)}"
    finally:
        os.close(fd)


def _spawn(root: str, where: ServerPaths):
    import subprocess

    try:
        with open(where.log, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "orchestrator.server", root, where.socket],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/",
                start_new_session=True)  # not in the terminal's group: Ctrl-C stops the client
    except OSError as exc:
        raise ServerUnavailable(f"could not start the server of {root}: {exc}") from None


def send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode()  # ASCII: lone surrogates travel escaped
    sock.sendall(_HEADER.pack(len(data)) + data)


def receive(sock: socket.socket) -> dict | None:
    """The next message; None when the other end closed the connection."""
    header = _exactly(sock, _HEADER.size)
    if header is None:
        return None
    data = _exactly(sock, _HEADER.unpack(header)[0])
    return None if data is None else json.loads(data)


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        try:
            chunk = sock.recv(min(left, 1 << 20))
        except ConnectionError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def servers_of(root: str) -> list[str]:
    """The sockets of every server of `root`, whatever build of the tool started it."""
    try:
        directory = workspace_directory(root)
    except ServerUnavailable:
        return []
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".sock"))


def request(sock_path: str, message: dict) -> dict | None:
    """One message to the server at `sock_path` and its reply; None when none answers."""
    try:
        with _connected(sock_path) as sock:
            send(sock, message)
            return receive(sock)
    except OSError:
        return None
