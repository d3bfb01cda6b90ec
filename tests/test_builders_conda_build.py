"""The conda-build builder: the exact command and the files it is given.

conda-build (and its `conda` binary) cannot be installed here (no conda channel is
reachable), so these tests stop at the command: they check the argv and the recipe copy and
variant file the command would read. Collecting uses the same code as rattler-build's, which
tests/test_builders_rattler_build.py checks against real packages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from orchestrator.builders import BUILDERS, BuildRequest, CondaBuild
from orchestrator.builders.conda_build import (
    with_absolute_path_sources,
    with_build_string_from_variant,
)
from orchestrator.errors import BuildError
from orchestrator.recipes.model import Output, Recipe

OWN_UTIL = Path(__file__).parents[1] / "internal/own-util/conda/meta.yaml"


def own_util_request(root: Path, tmp: Path, **changes) -> BuildRequest:
    recipe = Recipe("//internal/own-util", "internal/own-util/conda/meta.yaml", "meta.yaml",
                    (Output("own-util", "1.2.0", noarch="python"),))
    fields = dict(recipe=recipe, workspace_root=root, build_strings={"own-util": "h0a1b2c3d4e_0"},
                  channels=("file:///srv/acme/channel", "https://conda.acme.invalid/extra"),
                  output_dir=tmp / "out", work_dir=tmp / "work", source_cache=tmp / "src",
                  platform="linux-64", variant={"python": "3.11"})
    return BuildRequest(**{**fields, **changes})


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    (root / "internal/own-util/conda").mkdir(parents=True)
    (root / "internal/own-util/conda/meta.yaml").write_text(OWN_UTIL.read_text())
    return root


def test_the_command(workspace, tmp_path):
    invocation = CondaBuild().invocation(own_util_request(workspace, tmp_path))
    assert invocation.argv == (
        "conda", "build", str(tmp_path / "work/recipe"),
        "--output-folder", str(tmp_path / "out"),
        "--no-anaconda-upload", "--override-channels",
        "-m", str(tmp_path / "work/orchestrate_variant.yaml"),
        "--croot", str(tmp_path / "work/conda-bld"),
        "--cache-dir", str(tmp_path / "src"),
        "-c", "file:///srv/acme/channel", "-c", "https://conda.acme.invalid/extra",
    )
    assert invocation.cwd == tmp_path / "work"
    assert invocation.reads == (workspace,)
    assert invocation.writes == (tmp_path / "out", tmp_path / "work", tmp_path / "src")
    assert BUILDERS["conda-build"] is CondaBuild


def test_skipping_tests_adds_no_test(workspace, tmp_path):
    argv = CondaBuild().invocation(own_util_request(workspace, tmp_path, test="skip")).argv
    assert argv[argv.index("--cache-dir") + 2] == "--no-test"


def test_the_files_the_command_reads(workspace, tmp_path):
    request = own_util_request(workspace, tmp_path)
    CondaBuild().prepare(request)
    assert (tmp_path / "work/orchestrate_variant.yaml").read_text() == (
        'orchestrate_build_string:\n  - "h0a1b2c3d4e_0"\n'
        'python:\n  - "3.11"\n'
        'target_platform:\n  - "linux-64"\n'
    )
    meta = (tmp_path / "work/recipe/meta.yaml").read_text()
    assert f"  path: {workspace / 'internal/own-util'}\n" in meta
    assert "build:\n  string: {{ orchestrate_build_string }}\n  number: 0\n" in meta
    original = OWN_UTIL.read_text()
    assert meta.replace("{{ orchestrate_build_string }}", "").count("{{") == original.count("{{")


@pytest.mark.parametrize(("text", "expected"), [
    ("package:\n  name: a\nbuild:\n  number: 1\n  string: py_0  # old\nabout: {}\n",
     "package:\n  name: a\nbuild:\n  string: {{ orchestrate_build_string }}\n  number: 1\n"
     "about: {}\n"),
    ("build:  # [linux]\n    noarch: python\n",
     "build:  # [linux]\n    string: {{ orchestrate_build_string }}\n    noarch: python\n"),
    ("package:\n  name: a\n",
     "package:\n  name: a\nbuild:\n  string: {{ orchestrate_build_string }}\n"),
    ("build:\n  run_exports:\n    string: keep-me\n",
     "build:\n  string: {{ orchestrate_build_string }}\n  run_exports:\n    string: keep-me\n"),
])
def test_build_string_lines(text, expected):
    assert with_build_string_from_variant(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("source:\n  path: ..\n", "source:\n  path: /ws/pkg\n"),
    ("source:\n  - path: ../src  # ours\n  - url: u\n",
     "source:\n  - path: /ws/pkg/src  # ours\n  - url: u\n"),
    ("source:\n  path: /abs\n", "source:\n  path: /abs\n"),
    ("source:\n  path: {{ root }}\n", "source:\n  path: {{ root }}\n"),
    ("test:\n  files:\n    path: ..\n", "test:\n  files:\n    path: ..\n"),
])
def test_path_source_lines(text, expected):
    assert with_absolute_path_sources(text, Path("/ws/pkg/conda")) == expected


def test_recipe_yaml_recipes_are_not_for_conda_build(workspace, tmp_path):
    recipe = Recipe("//recipes/python", "recipes/python/recipe.yaml", "recipe.yaml",
                    (Output("python", "3.11.7"), Output("pip", "23.2.1", noarch="python")))
    request = own_util_request(workspace, tmp_path, recipe=recipe)
    with pytest.raises(BuildError, match="recipes/python/recipe.yaml: conda-build builds meta"):
        CondaBuild().invocation(request)
