"""conda-build inside the test image (issue 11): the host's conda-build environment, mounted.

Given a workspace with `builder = "conda-build"`, `container = "docker"` and the test image of
tools/images/make-test-image.sh (which has no conda-build: its environment, made by `make
conda-build`, is mounted read-only at its own path), the example organization's `recipes/python`
(built by rattler-build) and two meta.yaml recipes, one of them with `python` in host, when
`orchestrate build` runs without network, then conda-build made the meta.yaml packages inside the
container (their about.json says so), their tests ran there, and py-rattler installs them.
"""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import about_of, commit_all, git, write_files
from test_containers import TEST_IMAGE, docker  # noqa: F401  (the fixture)
from test_containers_build import HELLO as BUILD_HELLO
from test_containers_build import REPO, channel_packages, install, orchestrate

pytestmark = [pytest.mark.containers, pytest.mark.slow]

# test_containers_build's recipe (conda-build reads it as meta.yaml), with a test to run inside
HELLO = BUILD_HELLO + """\
test:
  commands:
    - grep -q "hello from Linux" $PREFIX/share/acme-hello/greeting.txt
"""
WITH_PYTHON = """\
package:
  name: acme-pyver
  version: "1.0"
build:
  number: 0
  noarch: generic
  script:
    - mkdir -p $PREFIX/share/acme-pyver
    - $PYTHON --version > $PREFIX/share/acme-pyver/built-with.txt
requirements:
  host:
    - python
test:
  commands:
    - test -s $PREFIX/share/acme-pyver/built-with.txt
"""


def workspace_toml(conda_build_env) -> str:
    return ('[workspace]\nname = "acme"\n\n[variant]\npython = "3.11"\n\n[build]\n'
            f'builder = "conda-build"\nconda_build = "{conda_build_env}/bin/conda-build"\n'
            f'container = "docker"\nimage = "{TEST_IMAGE}"\nnetwork = false\ntimeout = 900\n')


def test_conda_build_builds_meta_yaml_recipes_inside_the_test_image(
        docker, conda_build_env, tmp_path):  # noqa: F811
    root = tmp_path / "ws"
    write_files(root, {"WORKSPACE.toml": workspace_toml(conda_build_env),
                       ".gitignore": "cache/\n",
                       "recipes/acme-hello/meta.yaml": HELLO,
                       "recipes/acme-pyver/meta.yaml": WITH_PYTHON})
    shutil.copytree(REPO / "recipes/python", root / "recipes/python")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "init")

    done = orchestrate(root, "build", "-j", "2", "//...")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "3 success" in done.stdout
    by_conda_build = {p.name.rsplit("-", 2)[0] for p in channel_packages(root)
                      if "conda_build_version" in about_of(p, tmp_path / "info")}
    assert by_conda_build == {"acme-hello", "acme-pyver"}
    assert all(p.stat().st_uid == os.getuid() for p in channel_packages(root))

    prefix = tmp_path / "env"
    install(root / "cache/channel", ["acme-hello", "acme-pyver"], prefix)
    assert (prefix / "share/acme-hello/greeting.txt").read_text() == "hello from Linux\n"
    assert (prefix / "share/acme-pyver/built-with.txt").read_text() == "Python 3.11.7\n"
