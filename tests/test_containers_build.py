"""Real builds inside containers of the test image (tools/images/make-test-image.sh).

Given a workspace with the example organization's `recipes/python` (its `pip` output is noarch)
and a small noarch recipe, when `orchestrate build` runs with `container = "docker"`, then the
packages land in the channel, installable with py-rattler, with the same files as a host build;
a build killed by its timeout or by Ctrl-C leaves no container and no package; a build run as a
non-root user leaves files owned by that user.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from orchestrator import containers, proc
from test_containers import TEST_IMAGE, docker  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.containers, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
ORCHESTRATE = Path(sys.executable).with_name("orchestrate")
HELLO = """\
package:
  name: acme-hello
  version: "1.0"
build:
  number: 0
  noarch: generic
  script:
    - mkdir -p $PREFIX/share/acme-hello
    - echo hello from $(uname -s) > $PREFIX/share/acme-hello/greeting.txt
"""
SLEEPY = """\
package:
  name: {name}
  version: "1.0"
build:
  number: 0
  noarch: generic
  script:
    - sleep 600
"""


def workspace_toml(container: str, extra: str = "") -> str:
    return (f'[workspace]\nname = "acme"\n\n[build]\ncontainer = "{container}"\n'
            f'image = "{TEST_IMAGE}"\nnetwork = false\n{extra}')


def make_ws(root: Path, toml: str, recipes: dict[str, str], copy: tuple[str, ...] = ()) -> Path:
    """A git workspace at `root`: WORKSPACE.toml, recipes written or copied from this repo."""
    root.mkdir(parents=True)
    (root / "WORKSPACE.toml").write_text(toml)
    for name in copy:
        shutil.copytree(REPO / "recipes" / name, root / "recipes" / name)
    for name, text in recipes.items():
        (root / "recipes" / name).mkdir(parents=True)
        (root / "recipes" / name / "recipe.yaml").write_text(text)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=root, check=True)
    return root


def orchestrate(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(ORCHESTRATE), "-C", str(root), *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def channel_packages(root: Path) -> list[Path]:
    return sorted((root / "cache/channel").glob("*/*.conda"))


def file_lists(root: Path) -> dict[str, list[str]]:
    """Package name → the paths it installs (from each package's info/paths.json)."""
    from rattler.package import IndexJson, PathsJson

    return {
        IndexJson.from_package_archive(p).name.normalized:
            sorted(str(e.relative_path) for e in PathsJson.from_package_archive(p).paths)
        for p in channel_packages(root)
    }


def install(channel: Path, specs: list[str], prefix: Path) -> list[str]:
    from rattler import install, solve

    async def go():
        records = await solve([channel.as_uri()], specs, platforms=["linux-64", "noarch"])
        await install(records, prefix, cache_dir=prefix.parent / "pkgs", show_progress=False)
        return sorted(r.name.normalized for r in records)

    return asyncio.run(go())


def leftovers(target: str) -> list[str]:
    """Containers (running or not) of any run that built `target`."""
    out = subprocess.run(["docker", "ps", "-a", "--filter", f"label=orchestrate.target={target}",
                          "--format", "{{.Names}}"], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_python_and_a_noarch_recipe_built_in_parallel_in_containers_install_and_match_host(
        docker, tmp_path):  # noqa: F811
    recipes = {"acme-hello": HELLO}
    inside = make_ws(tmp_path / "inside", workspace_toml("docker"), recipes, copy=("python",))
    host = make_ws(tmp_path / "host", workspace_toml("none"), recipes, copy=("python",))

    done = orchestrate(inside, "build", "-j", "2", "//...")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 success" in done.stdout
    names = install(inside / "cache/channel", ["python", "pip", "acme-hello"], tmp_path / "env")
    assert names == ["acme-hello", "pip", "python"]
    greeting = tmp_path / "env/share/acme-hello/greeting.txt"
    assert greeting.read_text() == "hello from Linux\n"
    assert all(p.stat().st_uid == os.getuid() for p in channel_packages(inside))

    done = orchestrate(host, "build", "-j", "2", "//...")
    assert done.returncode == 0, done.stdout + done.stderr
    assert file_lists(host) == file_lists(inside)
    assert sorted(file_lists(inside)) == ["acme-hello", "pip", "python"]


def test_a_build_killed_by_its_timeout_leaves_no_container_and_no_package(
        docker, tmp_path):  # noqa: F811
    name = f"sleepy-{uuid.uuid4().hex[:8]}"
    toml = workspace_toml("docker", f'\n[build.overrides."//recipes/{name}"]\ntimeout = 8\n')
    root = make_ws(tmp_path / "ws", toml, {name: SLEEPY.format(name=name)})

    done = orchestrate(root, "build", f"//recipes/{name}")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "timed out after 8s" in done.stdout + done.stderr
    assert leftovers(f"//recipes/{name}") == []
    assert channel_packages(root) == []
    assert list((root / "cache").rglob("*.conda")) == []


def test_ctrl_c_during_a_container_build_leaves_no_container_and_no_package(
        docker, tmp_path):  # noqa: F811
    name = f"sleepy-{uuid.uuid4().hex[:8]}"
    root = make_ws(tmp_path / "ws", workspace_toml("docker"), {name: SLEEPY.format(name=name)})
    client = subprocess.Popen([str(ORCHESTRATE), "-C", str(root), "build", f"//recipes/{name}"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 120
        while not leftovers(f"//recipes/{name}"):
            assert time.monotonic() < deadline, "the build did not start"
            assert client.poll() is None, client.stdout.read()
            time.sleep(0.3)
        time.sleep(3)  # into the build script (rattler-build's log is not streamed)
        client.send_signal(signal.SIGINT)
        out, _ = client.communicate(timeout=120)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
            containers.remove_stale("docker")  # its client was killed: no cleanup ran
    assert client.returncode == 130, out
    assert leftovers(f"//recipes/{name}") == []
    assert list((root / "cache").rglob("*.conda")) == []


@pytest.fixture
def builder_user():
    """A non-root user in the docker group (so its client reaches the engine), removed after."""
    if os.getuid() != 0:
        pytest.skip("creating a user needs root")
    name = f"orch{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--groups", "docker", name], check=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=False)


def test_a_container_build_run_by_a_non_root_user_leaves_files_it_owns(
        docker, builder_user, tmp_path):  # noqa: F811
    from orchestrator.builders import BuildRequest, RattlerBuild
    from orchestrator.plan import PlanRequest
    from orchestrator.planning import compute_plan
    from orchestrator.workspace import load_workspace

    base = Path(tempfile.mkdtemp(prefix="orchestrate-user-", dir="/tmp"))
    try:
        root = make_ws(base / "ws", workspace_toml("docker"), {"acme-hello": HELLO})
        graph, plan = compute_plan(load_workspace(root, explicit=True),
                                   PlanRequest(("//recipes/acme-hello",), offline=True),
                                   with_data=True)
        node = plan.nodes["//recipes/acme-hello"]
        out = base / "out"
        request = BuildRequest(
            recipe=graph.graph.nodes["//recipes/acme-hello"]["recipe"], workspace_root=root,
            build_strings={o.name: o.build for o in node.outputs}, channels=(),
            output_dir=out, work_dir=base / "work", source_cache=base / "src")
        builder = RattlerBuild()
        builder.prepare(request)
        uid, gid = builder_user.pw_uid, builder_user.pw_gid
        settings = dataclasses.replace(
            containers.settings_for(load_workspace(root, explicit=True), "//recipes/acme-hello"),
            uid=uid, gid=gid)
        wrapped = containers.wrap(builder.invocation(request), settings, f"user-{uuid.uuid4()}")
        for path in (base, out, base / "work", base / "src"):
            os.chown(path, uid, gid)
        as_user = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--"]
        proc.run([*as_user, *wrapped.argv], log=tmp_path / "log",
                 cwd=base, timeout=600)
        packages = builder.collect(request)
        assert [p.name for p in packages] == [f"acme-hello-1.0-{node.outputs[0].build}.conda"]
        owners = {p.stat().st_uid for p in out.rglob("*")}
        assert owners == {uid}, f"owned by {owners}, expected only {uid}"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_one_target_timing_out_leaves_the_other_builds_of_the_run_running(
        docker, tmp_path):  # noqa: F811
    short, long = (f"{kind}-{uuid.uuid4().hex[:8]}" for kind in ("short", "long"))
    toml = workspace_toml("docker", f'\n[build.overrides."//recipes/{short}"]\ntimeout = 8\n')
    recipes = {short: SLEEPY.format(name=short),
               long: SLEEPY.format(name=long).replace("sleep 600", "sleep 25")}
    root = make_ws(tmp_path / "ws", toml, recipes)

    done = orchestrate(root, "build", "-j", "2", "-k", "//...")
    assert "timed out after 8s" in done.stdout + done.stderr
    assert [p.name.split("-1.0-")[0] for p in channel_packages(root)] == [long]
