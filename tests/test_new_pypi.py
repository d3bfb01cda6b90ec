"""`orchestrate new pypi`: grayskull really run against a local PyPI (recorded responses and
sdists), its recipe normalised to the workspace's conventions; an existing name is updated."""

from __future__ import annotations

import hashlib

import pytest
from example_org import copy_example_org
from pypi_server import DATA, pypi_server

WORKSPACE = '[workspace]\nname = "n"\n[variant]\npython = "3.11"\npython_min = "3.9"\n'


@pytest.fixture
def pypi(monkeypatch):
    with pypi_server() as server:
        monkeypatch.setenv("ORCHESTRATE_PYPI_URL", server.base)
        yield server


SCM = """\
package:
  name: setuptools_scm
  version: "8.1.0"
build:
  noarch: python
"""


def test_new_recipe_in_the_workspace_conventions(pypi, run_cli, make_workspace):
    root = make_workspace({"WORKSPACE.toml": WORKSPACE, "recipes/python-scm/meta.yaml": SCM})
    result = run_cli(["-C", root, "new", "pypi", "iniconfig"])
    assert result.code == 0, result.err
    assert result.out.startswith("created recipes/python-iniconfig/meta.yaml")
    text = (root / "recipes/python-iniconfig/meta.yaml").read_text()
    sha = hashlib.sha256((DATA / "files/iniconfig-2.3.1.tar.gz").read_bytes()).hexdigest()
    assert f"sha256: {sha}" in text and '{% set version = "2.3.1" %}' in text
    assert "script: {{ PYTHON }} -m pip install . -vv --no-deps --no-build-isolation" in text
    assert "    - setuptools_scm >=8\n" in text  # mapped to the workspace's package name
    assert "  host:\n    - python\n" in text and "  run:\n    - python >=3.10\n" in text
    assert "AddYourGitHubIdHere" not in text and "extra:" not in text
    assert "test:\n  imports:\n    - iniconfig\n" in text
    assert "  license: MIT\n" in text and "  home: " in text
    lint = run_cli(["-C", root, "lint", "//recipes/python-iniconfig"])
    assert lint.code == 0 and lint.out == "", lint.out + lint.err


def test_python_spec_and_missing_backend_fixed(pypi, run_cli, make_workspace):
    root = make_workspace({})
    result = run_cli(["-C", root, "new", "pypi", "six"])
    assert result.code == 0, result.err
    text = (root / "recipes/python-six/meta.yaml").read_text()
    assert "  host:\n    - python\n    - pip\n    - setuptools\n" in text
    assert "!=3.0" not in text


def test_existing_name_is_updated(pypi, run_cli, tmp_path):
    root = copy_example_org(tmp_path / "acme")
    result = run_cli(["-C", root, "new", "pypi", "six"])
    assert result.code == 0, result.err
    assert result.out.startswith("//recipes/python-six exists: updating it")
    assert '+{% set version = "1.17.0" %}' in result.out
    assert '{% set version = "1.17.0" %}' in (root / "recipes/python-six/meta.yaml").read_text()


def test_a_recipe_producing_the_name_elsewhere_is_updated(pypi, run_cli, make_workspace,
                                                          shared_corpus):
    import shutil

    root = make_workspace({"WORKSPACE.toml": WORKSPACE})
    shutil.copytree(shared_corpus / "recipes/iniconfig", root / "recipes/iniconfig")
    result = run_cli(["-C", root, "new", "pypi", "iniconfig"])
    assert result.code == 0, result.err
    assert result.out.startswith("//recipes/iniconfig exists: updating it")
    assert not (root / "recipes/python-iniconfig").exists()
    assert '{% set version = "2.3.1" %}' in (root / "recipes/iniconfig/meta.yaml").read_text()
