"""`orchestrate develop`: a real environment solved and installed from a channel built in the
test (python and setuptools, by rattler-build), the project importable from its source tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import commit_all, git

ACME = Path(__file__).resolve().parents[1]

PROJECT = {
    "internal/own-dev/pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "own-dev"\nversion = "0.1.0"\n'
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n'),
    "internal/own-dev/src/own_dev/__init__.py": 'ANSWER = 1\n',
    "internal/own-dev/conda/meta.yaml": (
        "package:\n  name: own-dev\n  version: 0.1.0\nsource:\n  path: ..\n"
        "build:\n  noarch: python\n  script: '{{ PYTHON }} -m pip install . --no-deps'\n"
        "requirements:\n  host:\n    - python\n    - pip\n    - setuptools >=61\n"
        "  run:\n    - python\n"
        "test:\n  imports:\n    - own_dev\n"),
}


def python_in(prefix: Path, code: str) -> str:
    done = subprocess.run([prefix / "bin/python", "-c", code], capture_output=True, text=True,
                          check=True, cwd=prefix)
    return done.stdout.strip()


@pytest.mark.slow
def test_develop_environment_from_a_built_channel(make_workspace, run_cli, tmp_path):
    root = make_workspace({".gitignore": "cache/\n", **PROJECT})
    for name in ("python", "python-setuptools"):
        shutil.copytree(ACME / "recipes" / name, root / "recipes" / name)
    commit_all(root, "recipes")
    built = run_cli(["-C", root, "build", "//recipes/python-setuptools"])
    assert built.code == 0, built.out + built.err
    env = tmp_path / "env"
    result = run_cli(["-C", root, "develop", "//internal/own-dev", "--env", env])
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == f"activate with: source {env / 'activate.sh'}"
    source = root / "internal/own-dev/src/own_dev/__init__.py"
    assert python_in(env, "import own_dev; print(own_dev.__file__)") == str(source)
    source.write_text("ANSWER = 2\n")
    assert python_in(env, "import own_dev, setuptools; print(own_dev.ANSWER)") == "2"
    again = run_cli(["-C", root, "develop", "//internal/own-dev", "--env", env])
    assert again.code == 0, again.err
    assert python_in(env, "import own_dev; print(own_dev.ANSWER)") == "2"
    changed = git(root, "status", "--porcelain").strip()
    assert changed == "M internal/own-dev/src/own_dev/__init__.py"  # nothing else written
