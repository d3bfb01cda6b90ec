"""Builds inside containers: a builder's Invocation wrapped in `docker run` / `podman run`.

Owns three things:
- a target's container settings (`settings_for`): its runtime, image, network and env are
  `Workspace.target_settings`, the same values its hash is made of, plus what this machine
  adds (the invoking user, the CA bundle, the mounts);
- `wrap(invocation, settings, run_id)`: the same build as a container command (pure). Every path
  is mounted at the same place inside as outside, so the builder's argv works unchanged;
- cleaning up: `remove_run(run_id)` after a timeout or Ctrl-C (killing the `docker run` client
  does not stop its container) and `remove_stale(runtime)` for containers of dead runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from orchestrator import proc
from orchestrator.errors import BuildError, WorkspaceError
from orchestrator.recipes.model import label_of
from orchestrator.workspace import Workspace

# Where Debian/Ubuntu, RHEL/CentOS and Alpine/macOS keep the system's CA bundle.
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
              "/etc/ssl/cert.pem")
# A path of our own: on CentOS 7 /etc/ssl/certs is a symlink, so the host's path may not exist.
CA_IN_CONTAINER = "/opt/orchestrate/ca-certificates.crt"
CA_ENV = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "CURL_CA_BUNDLE",
          "CONDA_SSL_VERIFY")
HOME_IN_CONTAINER = "/tmp"
IMAGE_PYTHON = "python3"
LABEL_RUN = "orchestrate.run"
LABEL_TARGET = "orchestrate.target"
LABEL_PID = "orchestrate.pid"
LABEL_HOST = "orchestrate.host"
QUERY_TIMEOUT = 60.0
PODMAN_NPROC = 32768
PODMAN_NOFILE = 1048576
REMOVE_ROUNDS = 3
REMOVE_PAUSE = 0.5
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_GONE = re.compile(r"no such container|already in progress", re.IGNORECASE)
_NOT_IN_NAME = re.compile(r"[^a-zA-Z0-9_.-]+")


class Invocation(Protocol):
    """What containers need of a builder's Invocation (builders/ defines the dataclass)."""

    argv: tuple[str, ...]
    env: Mapping[str, str]  # what the builder sets: exactly what goes in with `-e`
    cwd: Path
    reads: tuple[Path, ...]
    writes: tuple[Path, ...]
    passed: tuple[str, ...] | None  # the caller's variables it sees on the host; None: all
    withheld: tuple[str, ...]


@dataclass(frozen=True)
class Mount:
    path: Path
    writable: bool = False


@dataclass(frozen=True)
class ContainerSettings:
    """How one target's build runs in a container; made by `settings_for`."""

    runtime: str
    image: str
    target: str
    mounts: tuple[Mount, ...] = ()
    env: tuple[str, ...] = ()
    network: bool = True
    uid: int = 0
    gid: int = 0
    pid: int = 0
    host: str = ""
    ca_bundle: Path | None = None
    ulimits: tuple[str, ...] = ()


# --- settings: Workspace.target_settings → ContainerSettings ----------------------------------

def settings_for(workspace: Workspace, target: str) -> ContainerSettings | None:
    """The container settings of `target` (a node id), or None when it builds on the host."""
    settings = workspace.target_settings(label_of(target))
    if settings.container == "none":
        return None
    if not settings.image:
        raise WorkspaceError(
            f"{workspace.root / 'WORKSPACE.toml'}: build.image: required when container = "
            f"{settings.container!r} (target {target})"
        )
    return ContainerSettings(
        runtime=settings.container, image=settings.image, target=target,
        mounts=_workspace_mounts(workspace), env=settings.env, network=settings.network,
        uid=os.getuid(), gid=os.getgid(), pid=os.getpid(), host=socket.gethostname(),
        ca_bundle=host_ca_bundle(),
        ulimits=RUNTIMES[settings.container].ulimits(),
    )


def host_ca_bundle(env: Mapping[str, str] | None = None) -> Path | None:
    """The CA bundle the host trusts: $SSL_CERT_FILE when set, else the system's."""
    env = os.environ if env is None else env
    candidates = (env.get("SSL_CERT_FILE", ""), *CA_BUNDLES)
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def podman_ulimits() -> tuple[str, ...]:
    """Podman asks runc for rlimits above this process's (nofile 1048576, nproc the host's
    maximum), which some machines refuse ("error setting rlimit type 7: operation not
    permitted"): ask for this process's open files and at most PODMAN_NPROC processes."""
    import resource

    nofile = [_finite(v, PODMAN_NOFILE) for v in resource.getrlimit(resource.RLIMIT_NOFILE)]
    nproc = [min(_finite(v, PODMAN_NPROC), PODMAN_NPROC)
             for v in resource.getrlimit(resource.RLIMIT_NPROC)]
    return f"nofile={nofile[0]}:{nofile[1]}", f"nproc={nproc[0]}:{nproc[1]}"


def _finite(value: int, instead: int) -> int:
    return instead if value < 0 else value  # RLIM_INFINITY is -1


@dataclass(frozen=True)
class Runtime:
    """What differs between engines: whether `--init` is there (podman's catatonit is an
    optional package), and the rlimits to ask for on this machine."""

    init: bool
    ulimits: Callable[[], tuple[str, ...]]


RUNTIMES: dict[str, Runtime] = {
    "docker": Runtime(init=True, ulimits=tuple),
    "podman": Runtime(init=False, ulimits=podman_ulimits),
}


def _workspace_mounts(workspace: Workspace) -> tuple[Mount, ...]:
    """The local channels (read-only) and the `[build] mounts` ("PATH" or "PATH:rw")."""
    channels = [workspace.target_channel, *workspace.extra_channels]
    # A channel not made yet has nothing to read (and --mount refuses a missing source).
    mounts = [Mount(c.path) for c in channels if c.path is not None and c.path.is_dir()]
    mounts += [parse_mount(text, workspace.root) for text in workspace.config.build.mounts]
    return tuple(mounts)


def parse_mount(text: str, root: Path) -> Mount:
    """`/data` or `/data:ro` (read-only), `/data:rw` (writable); relative to the workspace."""
    path, _, mode = text.rpartition(":") if text.endswith((":ro", ":rw")) else (text, "", "ro")
    if not path:
        raise WorkspaceError(f"{root / 'WORKSPACE.toml'}: build.mounts: empty path in {text!r}")
    resolved = Path(path) if Path(path).is_absolute() else root / path
    return Mount(resolved, writable=mode == "rw")


# --- wrap: Invocation → the same Invocation run by docker / podman (pure) ---------------------

def container_name(run_id: str, target: str) -> str:
    """`orchestrate-<run>-<target slug>`: a valid, unique name to kill the container by."""
    slug = _NOT_IN_NAME.sub("-", target.strip("/")).strip("-.") or "target"
    return f"orchestrate-{_NOT_IN_NAME.sub('-', run_id)}-{slug}"


def wrap(invocation: Invocation, settings: ContainerSettings, run_id: str) -> Invocation:
    """`invocation` run in a container: same argv, paths and cwd inside as outside.

    The host interpreter that starts the builder (a venv's python) is replaced by the image's
    `python3`. What the builder sets (`invocation.env`) goes in with `-e`, and the `[build]
    env` names from the host; the client itself runs with the caller's whole environment.
    The one side effect: missing directories the build writes are made, by the invoking user
    (the engine would refuse them as mount sources).
    """
    for path in invocation.writes:
        Path(path).mkdir(parents=True, exist_ok=True)
    argv = (
        settings.runtime, "run", "--rm",
        *(("--init",) if RUNTIMES[settings.runtime].init else ()),  # reaps, forwards signals
        "--name", container_name(run_id, settings.target),
        *_labels(settings, run_id),
        "--user", f"{settings.uid}:{settings.gid}",
        *(("--network", "none") if not settings.network else ()),
        *(arg for limit in settings.ulimits for arg in ("--ulimit", limit)),
        *_mount_args(invocation, settings),
        *_env_args(invocation.env, settings),
        "--workdir", str(invocation.cwd),
        settings.image,
        *image_command(invocation.argv),
    )
    return dataclasses.replace(invocation, argv=argv, env={}, passed=None, withheld=())


def _labels(settings: ContainerSettings, run_id: str) -> tuple[str, ...]:
    labels = {LABEL_RUN: run_id, LABEL_TARGET: settings.target,
              LABEL_PID: str(settings.pid), LABEL_HOST: settings.host}
    return tuple(arg for key, value in labels.items() for arg in ("--label", f"{key}={value}"))


def container_mounts(invocation: Invocation, settings: ContainerSettings) -> tuple[Mount, ...]:
    """Every path once, parents before children, writable when anyone writes it."""
    writable: dict[Path, bool] = {}
    for mount in (*(Mount(Path(p)) for p in invocation.reads), *settings.mounts,
                  *(Mount(Path(p), True) for p in invocation.writes)):
        writable[mount.path] = writable.get(mount.path, False) or mount.writable
    return tuple(Mount(path, writable[path]) for path in sorted(writable, key=_depth_then_text))


def _depth_then_text(path: Path) -> tuple[int, str]:
    return len(path.parts), str(path)


def _mount_args(invocation: Invocation, settings: ContainerSettings) -> tuple[str, ...]:
    # --mount (not -v): a missing source is an error instead of a root-owned directory.
    args = [_bind(m.path, str(m.path), m.writable) for m in container_mounts(invocation, settings)]
    if settings.ca_bundle is not None:
        args.append(_bind(settings.ca_bundle, CA_IN_CONTAINER, writable=False))
    return tuple(arg for spec in args for arg in ("--mount", spec))


def _bind(source: Path, target: str, writable: bool) -> str:
    return f"type=bind,source={source},target={target}" + ("" if writable else ",readonly")


def _env_args(inside: Mapping[str, str], settings: ContainerSettings) -> tuple[str, ...]:
    env = {"HOME": HOME_IN_CONTAINER, **inside}
    if settings.ca_bundle is not None:
        env.update(dict.fromkeys(CA_ENV, CA_IN_CONTAINER))
    pairs = [("-e", f"{k}={v}") for k, v in sorted(env.items())]
    # A bare `-e NAME` passes the client's value through (and nothing when it is unset).
    pairs += [("-e", name) for name in sorted(set(settings.env) - set(env))]
    return tuple(arg for pair in pairs for arg in pair)


def image_command(argv: Iterable[str]) -> tuple[str, ...]:
    """The builder's argv with a host python interpreter replaced by the image's `python3`."""
    argv = tuple(argv)
    if argv and _PYTHON.fullmatch(Path(argv[0]).name):
        return (IMAGE_PYTHON, *argv[1:])
    return argv


# --- the engine: is it there, and removing containers -----------------------------------------

def runtime_available(runtime: str) -> bool:
    """Whether `runtime` is installed and its engine answers."""
    try:
        _query(runtime, "info", "--format", "{{json .}}")
    except BuildError:
        return False
    return True


def remove_run(run_id: str, runtime: str = "docker", target: str | None = None
               ) -> tuple[str, ...]:
    """Force-remove the containers of `run_id` (of its `target` only, when given), running or
    not; returns their names. With a target, the run's other builds keep running.

    Looks again after removing: a client killed mid-`docker run` may leave a container the
    engine was still creating.
    """
    removed: set[str] = set()
    for _ in range(REMOVE_ROUNDS):
        names = run_containers(run_id, runtime, target)
        if not names:
            break
        _remove(runtime, names)
        removed.update(names)
        time.sleep(REMOVE_PAUSE)
    return tuple(sorted(removed))


def run_containers(run_id: str, runtime: str = "docker", target: str | None = None
                   ) -> tuple[str, ...]:
    """The names of the containers (running or not) of `run_id` (and `target`, when given)."""
    filters = [f"label={LABEL_RUN}={run_id}"]
    if target is not None:
        filters.append(f"label={LABEL_TARGET}={target}")
    return _names(runtime, *filters)


def remove_stale(runtime: str = "docker") -> tuple[str, ...]:
    """Remove the containers of runs whose orchestrate process on this host is gone."""
    host = socket.gethostname()
    stale = tuple(
        name for name, labels in _labelled(runtime)
        if labels.get(LABEL_HOST) == host and not _pid_alive(labels.get(LABEL_PID, ""))
    )
    _remove(runtime, stale)
    return stale


def _pid_alive(text: str) -> bool:
    if not text.isdigit():
        return False
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _names(runtime: str, *label_filters: str) -> tuple[str, ...]:
    filters = [arg for f in label_filters for arg in ("--filter", f)]
    out = _query(runtime, "ps", "-a", *filters, "--format", "{{.Names}}")
    return tuple(sorted(line.strip() for line in out.splitlines() if line.strip()))


def _labelled(runtime: str) -> list[tuple[str, dict[str, str]]]:
    """(name, labels) of every container carrying an orchestrate run label."""
    out = _query(runtime, "ps", "-a", "--filter", f"label={LABEL_RUN}",
                 "--format", "{{.Names}}\t{{json .Labels}}")
    return [parse_ps_line(line) for line in out.splitlines() if line.strip()]


def parse_ps_line(line: str) -> tuple[str, dict[str, str]]:
    """`name<TAB>labels`: docker prints labels as "k=v,k=v", podman as a JSON object."""
    name, _, raw = line.partition("\t")
    with contextlib.suppress(json.JSONDecodeError):
        value = json.loads(raw)
        if isinstance(value, dict):
            return name.strip(), {str(k): str(v) for k, v in value.items()}
        raw = value if isinstance(value, str) else ""
    pairs = (item.partition("=") for item in raw.split(",") if item)
    return name.strip(), {k: v for k, _, v in pairs}


def _remove(runtime: str, names: tuple[str, ...]) -> None:
    if names:
        _query(runtime, "rm", "-f", *names, missing_ok=True)


def _query(runtime: str, *args: str, missing_ok: bool = False) -> str:
    """A short engine command's stdout (through proc: a query, not a build with a log)."""
    done = proc.output((runtime, *args), timeout=QUERY_TIMEOUT)
    if done.returncode != 0 and missing_ok and _GONE.search(done.stderr):
        return done.stdout
    return done.checked()
