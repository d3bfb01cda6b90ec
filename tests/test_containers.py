"""Builds inside containers: settings from WORKSPACE.toml, the exact `docker run` argv, and real
containers of the test image (`tools/images/make-test-image.sh`) running real commands.

The engine tests skip when no docker engine or test image is reachable, and fail instead when
ORCHESTRATE_REQUIRE_CONTAINERS=1 (as in CI). Builds with rattler-build are in
test_containers_build.py.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from orchestrator import containers, proc
from orchestrator.containers import ContainerSettings, Mount
from orchestrator.errors import BuildError, WorkspaceError
from orchestrator.workspace import parse_workspace_config, read_workspace

TEST_IMAGE = os.environ.get("ORCHESTRATE_TEST_IMAGE", "orchestrate-test:bookworm")
REQUIRE = os.environ.get("ORCHESTRATE_REQUIRE_CONTAINERS") == "1"


@dataclass(frozen=True)
class Invocation:
    """The builder's Invocation as docs/CONTRACTS.md describes it (builders/ defines the real
    one; `wrap` only needs these fields and `dataclasses.replace`)."""

    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = Path("/")
    reads: tuple[Path, ...] = ()
    writes: tuple[Path, ...] = ()
    passed: tuple[str, ...] | None = ()
    withheld: tuple[str, ...] = ()


def engine_problem(runtime: str, image: str) -> str:
    """Why containers cannot run here, or "" when they can."""
    if not containers.runtime_available(runtime):
        return f"no {runtime} engine answers (start dockerd, or see .ci/run)"
    found = subprocess.run([runtime, "image", "inspect", image], capture_output=True, check=False)
    if found.returncode != 0:
        prefix = "" if runtime == "docker" else f"RUNTIME={runtime} "
        return f"{runtime} image {image} is missing (run {prefix}tools/images/make-test-image.sh)"
    return ""


@pytest.fixture(scope="session")
def docker():
    problem = engine_problem("docker", TEST_IMAGE)
    if problem and REQUIRE:
        pytest.fail(f"ORCHESTRATE_REQUIRE_CONTAINERS=1 but {problem}")
    if problem:
        pytest.skip(problem)
    return "docker"


@pytest.fixture(scope="session")
def podman():
    """Podman where it can start containers (with the rlimits `wrap` asks for); where it
    cannot, skip, even with ORCHESTRATE_REQUIRE_CONTAINERS=1, saying why."""
    problem = engine_problem("podman", TEST_IMAGE)
    if not problem:
        limits = [arg for limit in containers.podman_ulimits() for arg in ("--ulimit", limit)]
        probe = subprocess.run(["podman", "run", "--rm", *limits, TEST_IMAGE, "true"],
                               capture_output=True, text=True, timeout=120, check=False)
        tail = (probe.stderr.strip().splitlines() or [""])[-1]
        problem = f"podman cannot start containers here: {tail}" if probe.returncode else ""
    if problem:
        pytest.skip(problem)
    return "podman"


def settings(**changes) -> ContainerSettings:
    base = dict(runtime="docker", image=TEST_IMAGE, target="//recipes/acme-hello",
                uid=os.getuid(), gid=os.getgid(), pid=os.getpid(), host=os.uname().nodename)
    return ContainerSettings(**{**base, **changes})


# --- settings from WORKSPACE.toml ---------------------------------------------------------------

WORKSPACE = {
    "workspace": {"name": "acme"},
    "channels": {"target": "cache/channel", "extra": ["/srv/conda/extra", "https://x.invalid/c"]},
    "build": {
        "container": "docker", "image": "acme/build:1", "env": ["HTTP_PROXY"],
        "mounts": ["/opt/sdk", "data:rw"], "network": False, "timeout": 60,
        "overrides": {
            "//recipes/gcc": {"image": "acme/gcc:2", "network": True, "timeout": 600},
            "//recipes/host-only": {"container": "none"},
            "//recipes/podman": {"container": "podman"},
        },
    },
}


def workspace(tmp_path, data=None):
    return read_workspace_from(tmp_path, data or WORKSPACE)


def read_workspace_from(root: Path, data: dict):
    config = parse_workspace_config(data, "WORKSPACE.toml")
    (root / "WORKSPACE.toml").write_text('[workspace]\nname = "acme"\n')
    return read_workspace(root).model_copy(update={"config": config})


@pytest.mark.parametrize(("target", "runtime", "image"), [
    ("//recipes/zlib", "docker", "acme/build:1"),
    ("//recipes/gcc", "docker", "acme/gcc:2"),
    ("//recipes/host-only", "none", ""),
    ("//recipes/podman", "podman", "acme/build:1"),
])
def test_runtime_and_image_follow_overrides(tmp_path, target, runtime, image):
    settings = workspace(tmp_path).target_settings(target)
    assert (settings.container, settings.image) == (runtime, image)


def test_settings_hold_overrides_channels_mounts_and_the_invoking_user(tmp_path):
    (tmp_path / "cache/channel").mkdir(parents=True)  # /srv/conda/extra does not exist here
    ws = workspace(tmp_path)
    gcc = containers.settings_for(ws, "//recipes/gcc")
    zlib = containers.settings_for(ws, "//recipes/zlib")
    assert (gcc.image, gcc.network) == ("acme/gcc:2", True)
    assert (zlib.image, zlib.network) == ("acme/build:1", False)
    assert ws.target_settings("//recipes/gcc").timeout == 600
    assert ws.target_settings("//recipes/zlib").timeout == 60
    assert zlib.mounts == (
        Mount(tmp_path.resolve() / "cache/channel"), Mount(Path("/opt/sdk")),
        Mount(tmp_path.resolve() / "data", writable=True),
    )
    assert (zlib.env, zlib.uid, zlib.gid, zlib.pid) == (
        ("HTTP_PROXY",), os.getuid(), os.getgid(), os.getpid())
    assert containers.settings_for(ws, "//recipes/host-only") is None
    assert zlib.ulimits == ()
    podman = containers.settings_for(ws, "//recipes/podman")
    assert [u.split("=")[0] for u in podman.ulimits] == ["nofile", "nproc"]


def test_a_container_without_an_image_is_a_one_line_error(tmp_path):
    data = {"workspace": {"name": "acme"}, "build": {"container": "docker"}}
    with pytest.raises(WorkspaceError, match=r"WORKSPACE.toml: build.image: required when "
                       r"container = 'docker' \(target //recipes/zlib\)"):
        containers.settings_for(workspace(tmp_path, data), "//recipes/zlib")


def test_the_host_ca_bundle_is_ssl_cert_file_when_set_else_the_systems(tmp_path):
    mine = tmp_path / "corporate.pem"
    mine.write_text("-----BEGIN CERTIFICATE-----\n")
    assert containers.host_ca_bundle({"SSL_CERT_FILE": str(mine)}) == mine
    system = next(Path(c) for c in containers.CA_BUNDLES if Path(c).is_file())
    assert containers.host_ca_bundle({"SSL_CERT_FILE": str(tmp_path / "gone.pem")}) == system
    assert containers.host_ca_bundle({}) == system


@pytest.mark.parametrize(("text", "expected"), [
    ("/opt/sdk", Mount(Path("/opt/sdk"))),
    ("/opt/sdk:ro", Mount(Path("/opt/sdk"))),
    ("/opt/sdk:rw", Mount(Path("/opt/sdk"), writable=True)),
    ("data:rw", Mount(Path("/ws/data"), writable=True)),
])
def test_parse_mount(text, expected):
    assert containers.parse_mount(text, Path("/ws")) == expected


def test_parse_mount_rejects_an_empty_path():
    with pytest.raises(WorkspaceError, match=r"/ws/WORKSPACE.toml: build.mounts: empty path"):
        containers.parse_mount(":rw", Path("/ws"))


# --- wrap: the exact argv ------------------------------------------------------------------------

@pytest.mark.parametrize(("run_id", "target", "name"), [
    ("r1", "//recipes/python-attrs", "orchestrate-r1-recipes-python-attrs"),
    ("2026-11-24T18:00", "//internal/own-util", "orchestrate-2026-11-24T18-00-internal-own-util"),
    ("r1", "//", "orchestrate-r1-target"),
])
def test_container_name(run_id, target, name):
    assert containers.container_name(run_id, target) == name


@pytest.mark.parametrize(("argv", "expected"), [
    (("/work/.venv/bin/python", "runner.py"), ("python3", "runner.py")),
    (("/usr/bin/python3.11", "-c", "x"), ("python3", "-c", "x")),
    (("/usr/bin/env", "python"), ("/usr/bin/env", "python")),
    (("conda-build", "recipe"), ("conda-build", "recipe")),
])
def test_image_command_replaces_only_a_host_interpreter(argv, expected):
    assert containers.image_command(argv) == expected


def test_a_conda_environment_of_conda_build_on_this_machine_is_read_at_its_real_path(tmp_path):
    from orchestrator.builders.conda_build import conda_build_python, environment_read

    env = tmp_path / "envs/cb"
    (env / "bin").mkdir(parents=True)
    (env / "conda-meta").mkdir()
    (env / "bin/conda-build").write_text("#!/bin/sh\n")
    (tmp_path / "link").symlink_to(env)  # like a worktree's .venv-conda-build
    assert environment_read(str(tmp_path / "link/bin/conda-build")) == (env,)
    assert conda_build_python(str(tmp_path / "link/bin/conda-build")) == str(env / "bin/python")
    (env / "conda-meta").rmdir()  # a system prefix (/usr) is never mounted
    assert environment_read(str(env / "bin/conda-build")) == ()
    # the production image's conda-build is not on this machine: named, not mounted
    assert environment_read("/opt/conda/bin/conda-build") == ()
    assert conda_build_python("/opt/conda/bin/conda-build") == "/opt/conda/bin/python"


def test_wrap_gives_the_exact_docker_run_argv(tmp_path):
    ws = tmp_path / "ws"
    invocation = Invocation(
        argv=("/ws/.venv/bin/python", f"{ws}/tools/runner.py", "--output-dir", f"{ws}/cache/out"),
        env={"RATTLER_CACHE": f"{ws}/cache/src"},  # what the builder sets: all that goes in
        cwd=ws / "cache/work",
        reads=(ws,),
        writes=(ws / "cache/work", ws / "cache/out", ws / "cache/src"),
    )
    s = settings(target="//recipes/zlib", network=False, env=("HTTP_PROXY",), uid=1000,
                 gid=100, pid=4242, host="build1", ca_bundle=Path("/etc/ca.crt"),
                 mounts=(Mount(ws / "cache/channel"), Mount(Path("/srv/chan"))))
    wrapped = containers.wrap(invocation, s, "r7")
    ca = "/opt/orchestrate/ca-certificates.crt"
    assert wrapped.argv == (
        "docker", "run", "--rm", "--init", "--name", "orchestrate-r7-recipes-zlib",
        "--label", "orchestrate.run=r7", "--label", "orchestrate.target=//recipes/zlib",
        "--label", "orchestrate.pid=4242", "--label", "orchestrate.host=build1",
        "--user", "1000:100", "--network", "none",
        "--mount", "type=bind,source=/srv/chan,target=/srv/chan,readonly",
        "--mount", f"type=bind,source={ws},target={ws},readonly",
        "--mount", f"type=bind,source={ws}/cache/channel,target={ws}/cache/channel,readonly",
        "--mount", f"type=bind,source={ws}/cache/out,target={ws}/cache/out",
        "--mount", f"type=bind,source={ws}/cache/src,target={ws}/cache/src",
        "--mount", f"type=bind,source={ws}/cache/work,target={ws}/cache/work",
        "--mount", f"type=bind,source=/etc/ca.crt,target={ca},readonly",
        "-e", f"CONDA_SSL_VERIFY={ca}", "-e", f"CURL_CA_BUNDLE={ca}", "-e", "HOME=/tmp",
        "-e", f"PIP_CERT={ca}",
        "-e", f"RATTLER_CACHE={ws}/cache/src", "-e", f"REQUESTS_CA_BUNDLE={ca}",
        "-e", f"SSL_CERT_FILE={ca}", "-e", "HTTP_PROXY",
        "--workdir", f"{ws}/cache/work", "orchestrate-test:bookworm",
        "python3", f"{ws}/tools/runner.py", "--output-dir", f"{ws}/cache/out",
    )
    assert (wrapped.env, wrapped.passed) == ({}, None)  # the client: the caller's environment
    assert (wrapped.cwd, wrapped.reads, wrapped.writes) == (
        invocation.cwd, invocation.reads, invocation.writes)
    assert all(path.is_dir() for path in invocation.writes)  # made, so that docker can mount


def test_wrap_with_network_and_podman_and_a_path_both_read_and_written(tmp_path):
    invocation = Invocation(argv=("true",), reads=(tmp_path,), writes=(tmp_path,))
    s = settings(runtime="podman", ulimits=("nofile=1024:2048", "nproc=512:512"))
    argv = containers.wrap(invocation, s, "r").argv
    assert argv[:3] == ("podman", "run", "--rm")
    assert "--init" not in argv
    assert argv[argv.index("--user") + 2:argv.index("--mount")] == (
        "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=512:512")
    assert "--network" not in argv
    assert argv[argv.index("--mount") + 1] == f"type=bind,source={tmp_path},target={tmp_path}"


@pytest.mark.parametrize(("line", "expected"), [
    ("orchestrate-r1-x\torchestrate.run=r1,orchestrate.pid=12",
     ("orchestrate-r1-x", {"orchestrate.run": "r1", "orchestrate.pid": "12"})),
    ('orchestrate-r1-x\t"orchestrate.run=r1,orchestrate.pid=12"',
     ("orchestrate-r1-x", {"orchestrate.run": "r1", "orchestrate.pid": "12"})),
    ('orchestrate-r1-x\t{"orchestrate.run":"r1","orchestrate.pid":"12"}',
     ("orchestrate-r1-x", {"orchestrate.run": "r1", "orchestrate.pid": "12"})),
])
def test_parse_ps_line_reads_docker_and_podman_labels(line, expected):
    assert containers.parse_ps_line(line) == expected


def test_an_engine_that_is_not_installed_is_not_available():
    assert not containers.runtime_available("no-such-engine-here")
    with pytest.raises(BuildError, match=r"`no-such-engine-here ps -a .*` could not start"):
        containers.remove_run("r", "no-such-engine-here")


# --- real containers ----------------------------------------------------------------------------

def run_id(name: str) -> str:
    return f"test-{name}-{os.getpid()}-{time.monotonic_ns()}"


def dirs(tmp_path: Path):
    reads, writes = tmp_path / "in", tmp_path / "out"
    reads.mkdir()
    writes.mkdir()
    (reads / "input.txt").write_text("from the host\n")
    return reads, writes


@pytest.mark.containers
def test_a_wrapped_command_sees_the_same_paths_and_writes_only_where_allowed(docker, tmp_path):
    reads, writes = dirs(tmp_path)
    script = (
        "import os, pathlib, sys\n"
        f"text = pathlib.Path('{reads}/input.txt').read_text()\n"
        f"pathlib.Path('{writes}/copy.txt').write_text(text + os.environ['GREETING'] + '\\n')\n"
        f"try:\n    open('{reads}/forbidden', 'w')\nexcept OSError as e:\n    print(e.errno)\n"
        "print(os.getcwd(), os.environ['HOME'], os.environ['SSL_CERT_FILE'])\n"
        "open(os.environ['SSL_CERT_FILE']).read(1)\n"
    )
    invocation = Invocation(argv=("/some/venv/bin/python", "-c", script), env={"GREETING": "hi"},
                            cwd=writes, reads=(reads,), writes=(writes,))
    s = settings(ca_bundle=containers.host_ca_bundle(), network=False)
    wrapped = containers.wrap(invocation, s, run_id("paths"))
    log = tmp_path / "log"
    proc.run(wrapped.argv, log=log, cwd=wrapped.cwd, timeout=120)
    assert (writes / "copy.txt").read_text() == "from the host\nhi\n"
    assert (writes / "copy.txt").stat().st_uid == os.getuid()
    assert not (reads / "forbidden").exists()
    lines = log.read_text().splitlines()
    assert lines[-2:] == ["30", f"{writes} /tmp {containers.CA_IN_CONTAINER}"]  # 30: EROFS


@pytest.mark.containers
def test_podman_runs_the_wrapped_command_as_the_invoking_user(podman, tmp_path):
    reads, writes = dirs(tmp_path)
    script = f"import shutil; shutil.copy('{reads}/input.txt', '{writes}/copy.txt')"
    invocation = Invocation(argv=("python3", "-c", script), cwd=writes, reads=(reads,),
                            writes=(writes,))
    rid = run_id("podman")
    s = settings(runtime="podman", ulimits=containers.podman_ulimits())
    wrapped = containers.wrap(invocation, s, rid)
    proc.run(wrapped.argv, log=tmp_path / "log", timeout=120)
    assert (writes / "copy.txt").read_text() == "from the host\n"
    assert (writes / "copy.txt").stat().st_uid == os.getuid()
    assert containers.run_containers(rid, "podman") == ()


@pytest.mark.containers
def test_no_network_means_no_network(docker, tmp_path):
    script = "import socket; socket.create_connection(('pypi.org', 443), timeout=5)"
    invocation = Invocation(argv=("python3", "-c", script), cwd=tmp_path)
    wrapped = containers.wrap(invocation, settings(network=False), run_id("net"))
    with pytest.raises(proc.ProcessFailed, match="exited with return code 1"):
        proc.run(wrapped.argv, log=tmp_path / "log", timeout=120)
    assert "socket.gaierror" in (tmp_path / "log").read_text()


def stubborn(tmp_path: Path) -> Invocation:
    """A build that ignores SIGTERM, so killing the `docker run` client leaves its container."""
    script = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "print('ready', flush=True)\ntime.sleep(600)")
    return Invocation(argv=("python3", "-c", script), cwd=tmp_path)


def wait_for_container(rid: str, runtime: str = "docker", seconds: float = 60) -> tuple[str, ...]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        names = containers.run_containers(rid, runtime)
        if names:
            return names
        time.sleep(0.2)
    raise AssertionError(f"no container of run {rid} appeared")


@pytest.mark.containers
def test_a_timed_out_build_leaves_no_container(docker, tmp_path):
    rid = run_id("timeout")
    wrapped = containers.wrap(stubborn(tmp_path), settings(), rid)
    with pytest.raises(proc.ProcessTimedOut):
        proc.run(wrapped.argv, log=tmp_path / "log", timeout=5, grace=1)
    # the client is dead but its container still runs: that is why remove_run exists
    assert containers.run_containers(rid) == ("orchestrate-" + rid + "-recipes-acme-hello",)
    assert containers.remove_run(rid) == (containers.container_name(rid, "//recipes/acme-hello"),)
    assert containers.run_containers(rid) == ()


@pytest.mark.containers
def test_a_cancelled_run_ctrl_c_leaves_no_container(docker, tmp_path):
    rid = run_id("cancel")
    cancel = threading.Event()
    targets = ("//recipes/a", "//recipes/b")
    errors: list[BaseException] = []

    def build(target: str) -> None:
        wrapped = containers.wrap(stubborn(tmp_path), settings(target=target), rid)
        try:
            proc.run(wrapped.argv, log=tmp_path / target.rsplit("/")[-1],
                     cancel=cancel, grace=1)
        except proc.ProcessCancelled as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    logs = [tmp_path / t.rsplit("/")[-1] for t in targets]
    deadline = time.monotonic() + 60
    while not all(log.exists() and "ready" in log.read_text().splitlines() for log in logs):
        assert time.monotonic() < deadline, "the builds did not start"
        time.sleep(0.2)
    cancel.set()
    for thread in threads:
        thread.join(60)
    assert len(errors) == 2
    name_a, name_b = (containers.container_name(rid, t) for t in targets)
    assert containers.run_containers(rid) == (name_a, name_b)  # still running: SIGTERM ignored
    # one target's cleanup leaves the run's other builds alone
    assert containers.remove_run(rid, "docker", target="//recipes/a") == (name_a,)
    assert containers.run_containers(rid) == (name_b,)
    assert containers.remove_run(rid) == (name_b,)
    assert containers.run_containers(rid) == ()


@pytest.mark.containers
def test_remove_stale_removes_containers_of_dead_runs_only(docker, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive_rid, dead_rid = run_id("alive"), run_id("dead")
    clients = [
        subprocess.Popen(containers.wrap(stubborn(tmp_path), settings(pid=pid), rid).argv,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for rid, pid in ((alive_rid, os.getpid()), (dead_rid, dead.pid))
    ]
    try:
        wait_for_container(alive_rid)
        wait_for_container(dead_rid)
        removed = containers.remove_stale("docker")
        assert containers.container_name(dead_rid, "//recipes/acme-hello") in removed
        assert containers.run_containers(dead_rid) == ()
        assert containers.run_containers(alive_rid) != ()
    finally:
        containers.remove_run(alive_rid)
        containers.remove_run(dead_rid)
        for client in clients:
            client.kill()
            client.wait()
