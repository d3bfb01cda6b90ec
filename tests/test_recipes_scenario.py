"""Given the `recipes_org` scenario (conda-forge shaped recipes, an internal project and a v1
recipe) copied into a real git repository, when the workspace is rendered for linux-64 and
win-64, then each recipe has the outputs, requirements, sources and skips its text says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import commit_all, git
from orchestrator.recipes.render_workspace import render_workspace
from orchestrator.workspace import load_workspace

SCENARIO = Path(__file__).parent / "scenarios" / "recipes_org"


@pytest.fixture
def org(tmp_path):
    """render(platform) -> ({target: Recipe}, [error lines]) of a fresh copy of the scenario."""
    root = tmp_path / "org"
    shutil.copytree(SCENARIO, root)
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "scenario")

    def render(platform: str):
        toml = root / "WORKSPACE.toml"
        toml.write_text(toml.read_text().replace('name = "org"', f'name = "org"\n'
                                                 f'platform = "{platform}"'))
        result = render_workspace(load_workspace(root, explicit=True))
        return {r.target: r for r in result.recipes}, [str(e) for e in result.errors]

    return render


def specs(recipe, *sections):
    return [f"{r.section}: {r.spec}" for r in recipe.requirements() if r.section in sections]


def test_linux_render_of_the_organization(org):
    recipes, errors = org("linux-64")
    assert errors == []
    assert sorted(recipes) == ["//internal/own-util", "//recipes/python-attrs",
                               "//recipes/pywin32-ctypes", "//recipes/rich-v1", "//recipes/zstd"]
    attrs = recipes["//recipes/python-attrs"]
    assert (attrs.package_names, attrs.outputs[0].noarch) == (("python-attrs",), "python")
    assert specs(attrs, "run", "test") == ["run: python >=3.7", "test: pip"]
    assert attrs.data["build"]["script"].startswith("$PYTHON -m pip install")
    assert attrs.sources[0].url.endswith("/a/attrs/attrs-23.2.0.tar.gz")

    zstd = recipes["//recipes/zstd"]
    assert zstd.package_names == ("libzstd", "zstd")
    assert zstd.outputs[0].run_exports == ("libzstd >=1.5.5,<1.6.0a0",)
    assert specs(zstd, "build") == ["build: gcc_linux-64", "build: gxx_linux-64",
                                    "build: cmake", "build: ninja", "build: make"]
    assert "run: libzstd ==1.5.5" in specs(zstd, "run")
    assert zstd.sources[0].patches == ("recipes/zstd/patches/0002-cmake.patch",)
    assert zstd.files == ("recipes/zstd/build.sh", "recipes/zstd/meta.yaml",
                          "recipes/zstd/patches/0001-no-rpath.patch",
                          "recipes/zstd/patches/0002-cmake.patch")

    windows_only = recipes["//recipes/pywin32-ctypes"]
    assert windows_only.skipped and windows_only.outputs[0].requirements == ()
    assert windows_only.outputs[0].version == "0.2.2"

    own = recipes["//internal/own-util"]
    assert (own.outputs[0].name, own.outputs[0].version) == ("own-util", "0.3.0")
    assert specs(own, "host", "run") == [
        "host: python >=3.9", "host: pip", "host: hatchling", "run: python >=3.9",
        "run: attrs >=21.3", "run: zstd"]
    assert own.sources[0].path == "internal/own-util"
    assert own.files == ("internal/own-util/conda/meta.yaml",)

    rich = recipes["//recipes/rich-v1"]
    assert specs(rich, "run", "test") == [
        "run: python >=3.8", "run: markdown-it-py >=2.2.0", "run: pygments >=2.13.0,<3.0.0",
        "run: own-util", "test: attrs"]
    assert rich.variant == ()  # noarch: python uses no python variant (rattler-build's rule)


def test_windows_render_of_the_organization(org):
    recipes, errors = org("win-64")
    assert errors == [  # only rendered on Windows, where it is not skipped
        "recipes/pywin32-ctypes/meta.yaml:20: pin_subpackage('pywin32-ctypes-helper'): this "
        "recipe has no output named 'pywin32-ctypes-helper' (hint: pin only outputs of this "
        "recipe)"]
    assert "//recipes/pywin32-ctypes" not in recipes
    zstd = recipes["//recipes/zstd"]
    # compiler('c') and compiler('cxx') are the same package on Windows; no make there
    assert specs(zstd, "build") == ["build: vs2019_win-64", "build: cmake", "build: ninja"]
    assert "run: colorama" in specs(recipes["//recipes/rich-v1"], "run")
