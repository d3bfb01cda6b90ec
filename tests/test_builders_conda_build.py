"""conda-build as a builder, for real: `orchestrate build` with `builder = "conda-build"`.

Given a workspace whose meta.yaml recipes build with the real conda-build (the environment of
`make conda-build`, through the `conda_build_env` fixture) and whose recipe.yaml (the python
bridge) builds with rattler-build in the same graph, when `orchestrate build //...` runs, then
every package is in the channel with the planned build string, a host dependency came from the
local channel, the recipes' tests ran, the packages carry conda-build's metadata, and a second
build builds nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PYTHON_RECIPE = (Path(__file__).parents[1] / "recipes/python/recipe.yaml").read_text()

LIBDEP = """\
package:
  name: libdep
  version: 2.0
build:
  number: 3
  script:
    - mkdir -p $PREFIX/share/libdep
    - echo "libdep 2.0" > $PREFIX/share/libdep/version.txt
test:
  commands:
    - grep -q "libdep 2.0" $PREFIX/share/libdep/version.txt
"""

USER = """\
package:
  name: user
  version: 1.0
build:
  number: 0
  noarch: generic
  script:
    - mkdir -p $PREFIX/share/user
    - cp $PREFIX/share/libdep/version.txt $PREFIX/share/user/from-host.txt
requirements:
  host:
    - libdep >=2
test:
  commands:
    - grep -q "libdep 2.0" $PREFIX/share/user/from-host.txt
    - echo "user test ran" > {marker}
"""

SPLIT = """\
{% set version = "1.2" %}
package:
  name: split
  version: {{ version }}
build:
  number: 1
outputs:
  - name: libsplit
    script: install_lib.sh
    build:
      noarch: generic
    test:
      commands:
        - test -f $PREFIX/share/split/lib.txt
  - name: split-tools
    script: install_tools.sh
    build:
      noarch: generic
    requirements:
      run:
        - {{ pin_subpackage("libsplit", exact=True) }}
    test:
      commands:
        - test -f $PREFIX/share/split/lib.txt
        - test -f $PREFIX/share/split/tools.txt
"""

OWN_PY = """\
package:
  name: own-py
  version: 0.1.0
source:
  path: ..
build:
  number: 0
  noarch: python
  script:
    - mkdir -p $SP_DIR
    - cp -r src/own_py $SP_DIR/own_py
requirements:
  host:
    - python
  run:
    - python
test:
  imports:
    - own_py
"""


def workspace_files(conda_build_env: Path, marker: Path) -> dict[str, str]:
    return {
        "WORKSPACE.toml": ('[workspace]\nname = "cb"\n[build]\nbuilder = "conda-build"\n'
                           f'conda_build = "{conda_build_env}/bin/conda-build"\ntimeout = 600\n'),
        ".gitignore": "cache/\n",
        "recipes/python/recipe.yaml": PYTHON_RECIPE,
        "recipes/libdep/meta.yaml": LIBDEP,
        "recipes/user/meta.yaml": USER.replace("{marker}", str(marker)),
        "recipes/split/meta.yaml": SPLIT,
        "recipes/split/install_lib.sh": ("mkdir -p $PREFIX/share/split\n"
                                         "echo lib > $PREFIX/share/split/lib.txt\n"),
        "recipes/split/install_tools.sh": "mkdir -p $PREFIX/share/split\n"
                                           "echo tools > $PREFIX/share/split/tools.txt\n",
        "internal/own-py/src/own_py/__init__.py": "VALUE = 1\n",
        "internal/own-py/conda/meta.yaml": OWN_PY,
    }


def build(root: Path, *args: str) -> str:
    argv = [sys.executable, "-m", "orchestrator", "-C", str(root), "build", *args]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


def planned(root: Path) -> dict[str, str]:
    """package file name → build string, as `orchestrate plan` says."""
    argv = [sys.executable, "-m", "orchestrator", "-C", str(root), "plan", "--format", "json"]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=True)
    nodes = json.loads(done.stdout)["nodes"]
    return {o["filename"]: o["subdir"] for n in nodes for o in n["outputs"]}


def about_of(package: Path, scratch: Path) -> dict:
    from rattler.package_streaming import extract

    extract(package, scratch / package.name)
    return json.loads((scratch / package.name / "info/about.json").read_text())


def test_a_workspace_builds_with_conda_build(make_workspace, conda_build_env, tmp_path):
    marker = tmp_path / "user-test-ran"
    root = make_workspace(workspace_files(conda_build_env, marker))
    expected = planned(root)
    build(root)
    channel = root / "cache/channel"
    for filename, subdir in expected.items():
        assert (channel / subdir / filename).is_file(), filename
    assert marker.read_text() == "user test ran\n"  # the recipe's tests ran
    by_conda_build = [f for f in expected if not f.startswith(("python-", "pip-"))]
    assert len(by_conda_build) == 5
    for filename in by_conda_build:
        about = about_of(channel / expected[filename] / filename, tmp_path)
        assert about["conda_build_version"] == "26.7.1", filename
    (python,) = [f for f in expected if f.startswith("python-")]
    assert "conda_build_version" not in about_of(channel / "linux-64" / python, tmp_path)
    assert build(root).startswith("nothing to build: 5 targets up to date")
