"""`orchestrate update`: real corpus recipes moved to the version a local PyPI (recorded
responses and sdists) offers, byte-identical except the changed lines; refusals leave files."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from pypi_server import DATA, pypi_server


@pytest.fixture
def pypi(monkeypatch):
    with pypi_server() as server:
        monkeypatch.setenv("ORCHESTRATE_PYPI_URL", server.base)
        yield server


WORKSPACE = '[workspace]\nname = "corpus"\n[variant]\npython = "3.11"\npython_min = "3.9"\n'


def corpus_workspace(make_workspace, shared_corpus, *names):
    root = make_workspace({"WORKSPACE.toml": WORKSPACE})
    for name in names:
        shutil.copytree(shared_corpus / "recipes" / name, root / "recipes" / name)
    return root


def changed_lines(before: str, after: str) -> list[int]:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


def file_sha256(name: str) -> str:
    return hashlib.sha256((DATA / "files" / name).read_bytes()).hexdigest()


def test_meta_yaml_from_the_corpus(pypi, run_cli, make_workspace, shared_corpus):
    root = corpus_workspace(make_workspace, shared_corpus, "iniconfig")
    recipe = root / "recipes/iniconfig/meta.yaml"
    before = recipe.read_text()
    result = run_cli(["-C", root, "update", "iniconfig"])
    assert result.code == 0, result.err
    after = recipe.read_text()
    sha = file_sha256("iniconfig-2.3.1.tar.gz")
    lines = after.splitlines()
    assert [lines[i].strip() for i in changed_lines(before, after)] == [
        '{% set version = "2.3.1" %}', f"sha256: {sha}"]
    assert f"+  sha256: {sha}" in result.out and '-{% set version = "2.3.0" %}' in result.out
    assert (root / "cache/sources" / sha / "iniconfig-2.3.1.tar.gz").is_file()
    assert "/files/iniconfig-2.3.1.tar.gz" in pypi.hits


def test_recipe_yaml_from_the_corpus(pypi, run_cli, make_workspace, shared_corpus):
    root = corpus_workspace(make_workspace, shared_corpus, "tomli")
    recipe = root / "recipes/tomli/recipe.yaml"
    before = recipe.read_text()
    result = run_cli(["-C", root, "update", "//recipes/tomli"])
    assert result.code == 0, result.err
    after = recipe.read_text()
    lines = after.splitlines()
    assert [lines[i].strip() for i in changed_lines(before, after)] == [
        'version: "2.5.0"', f"sha256: {file_sha256('tomli-2.5.0.tar.gz')}"]


def test_dry_run_prints_the_diff_and_writes_nothing(pypi, run_cli, make_workspace, shared_corpus):
    root = corpus_workspace(make_workspace, shared_corpus, "iniconfig")
    recipe = root / "recipes/iniconfig/meta.yaml"
    before = recipe.read_bytes()
    result = run_cli(["-C", root, "update", "iniconfig", "--dry-run"])
    assert result.code == 0, result.err
    assert result.out.startswith("--- a/recipes/iniconfig/meta.yaml\n+++ b/")
    assert recipe.read_bytes() == before


LOCAL = """\
{% set version = "1.16.0" %}  # bumped by `orchestrate update`
{% set build = 4 %}

package:
  name: six
  version: {{ version }}

source:
  url: BASE/files/six-{{ version }}.tar.gz
  sha256: 1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926

build:
  number: {{ build }}
  skip: true  # [win]
  noarch: python
"""


def test_to_version_resets_the_build_number(pypi, run_cli, make_workspace):
    root = make_workspace({"recipes/six/meta.yaml": LOCAL.replace("BASE", pypi.base)})
    recipe = root / "recipes/six/meta.yaml"
    before = recipe.read_text()
    result = run_cli(["-C", root, "update", "six", "--to", "1.17.0"])
    assert result.code == 0, result.err
    after = recipe.read_text()
    assert [after.splitlines()[i] for i in changed_lines(before, after)] == [
        '{% set version = "1.17.0" %}  # bumped by `orchestrate update`',
        "{% set build = 0 %}",
        f"  sha256: {file_sha256('six-1.17.0.tar.gz')}"]


def test_refuses_when_the_download_fails(pypi, run_cli, make_workspace):
    root = make_workspace({"recipes/six/meta.yaml": LOCAL.replace("BASE", pypi.base)})
    recipe = root / "recipes/six/meta.yaml"
    before = recipe.read_bytes()
    result = run_cli(["-C", root, "update", "six", "--to", "9.9.9"])
    assert result.code == 2
    assert result.err.startswith("error: recipes/six/meta.yaml: ")
    assert "six-9.9.9.tar.gz: HTTP 404" in result.err and "left unchanged" in result.err
    assert recipe.read_bytes() == before
