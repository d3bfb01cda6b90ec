"""acme built by conda-build: `orchestrate build //...` with `builder = "conda-build"` (issue 11).

Given a copy of the example organization in a new git repository whose WORKSPACE.toml says
`builder = "conda-build"` (the environment of `make conda-build`), on the host or in the test
image (`container = "docker"`: the environment is mounted, the image has gcc and libarchive),
when I run the real CLI with `-j 2`, then every planned package is in one channel: the meta.yaml
recipes built by conda-build (their info/about.json has `conda_build_version`) and the
recipe.yaml ones (python, the system-toolchain bridges) by rattler-build. An environment
py-rattler creates from that channel imports acme's C extension, which calls acme's C library,
and markupsafe's C speedups, and runs acme's app. A second `orchestrate build //...` builds
nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import about_of, commit_all
from example_org import (
    COMPILED,
    assert_compiled_packages_run,
    copy_example_org,
    create_env,
    orchestrate,
    run_in,
)
from orchestrator.plan import PlanRequest
from orchestrator.planning import compute_plan
from orchestrator.workspace import load_workspace
from test_containers import TEST_IMAGE, docker  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def build_with_conda_build(root: Path, conda_build_env: Path, container: str) -> None:
    """acme's WORKSPACE.toml switched to the conda-build builder (in `container`), committed."""
    workspace_toml = root / "WORKSPACE.toml"
    text = workspace_toml.read_text(encoding="utf-8")
    switched = text.replace('builder = "rattler-build"', 'builder = "conda-build"\n'
                            f'conda_build = "{conda_build_env}/bin/conda-build"')
    if container != "none":
        switched = switched.replace('container = "none"',
                                    f'container = "{container}"\nimage = "{TEST_IMAGE}"')
    assert 'builder = "conda-build"' in switched and f'container = "{container}"' in switched
    workspace_toml.write_text(switched, encoding="utf-8")
    commit_all(root, "build with conda-build")


@pytest.mark.parametrize("container", [
    "none", pytest.param("docker", marks=pytest.mark.containers)])
def test_acme_builds_with_conda_build_in_one_channel_with_rattler_build(
        container, conda_build_env, request, tmp_path):
    if container != "none":
        request.getfixturevalue(container)  # the engine and the test image, or skip / fail
    root = copy_example_org(tmp_path / "acme")
    build_with_conda_build(root, conda_build_env, container)
    graph, plan = compute_plan(load_workspace(root, explicit=True), PlanRequest())
    assert len(plan.order) == len(plan.nodes) == 22

    first, first_seconds = orchestrate(root, "build", "//...", "-j", "2")
    assert first.returncode == 0, f"{first.stdout}\n{first.stderr[-4000:]}"
    channel = root / "cache" / "channel"
    builders = set()
    for target, node in plan.nodes.items():
        by_conda_build = graph.recipe(target).format == "meta.yaml"
        builders.add(by_conda_build)
        for out in node.outputs:
            about = about_of(channel / out.subdir / out.filename, tmp_path / "info")
            assert ("conda_build_version" in about) == by_conda_build, out.filename
    assert builders == {True, False}  # a mixed graph

    prefix = tmp_path / "env"
    create_env(channel, ["own-app", *COMPILED], prefix, tmp_path / "pkgs")
    assert_compiled_packages_run(prefix, tmp_path)
    assert "Usage: own-app [OPTIONS] RELEASES" in run_in(prefix, "own-app", "--help",
                                                         cwd=tmp_path)

    again, again_seconds = orchestrate(root, "build", "//...")
    assert again.returncode == 0, again.stderr
    assert "nothing to build: 22 targets up to date" in again.stdout, again.stdout
    print(f"\nacme with conda-build ({container}): first build {first_seconds:.1f}s (-j 2), "
          f"second build {again_seconds:.1f}s")
