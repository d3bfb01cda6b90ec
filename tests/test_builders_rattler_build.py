"""The rattler-build builder: the recipe it writes, the command it describes, what it collects.

The builds here are real (py-rattler-build through the stand-alone runner, in a subprocess),
with tiny `noarch: generic` recipes that need no channel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from orchestrator.builders import BUILDERS, BuildRequest, CondaBuild, RattlerBuild
from orchestrator.builders.rattler_build import RUNNER, translated_recipe
from orchestrator.builders.translate import translate
from orchestrator.errors import BuildError
from orchestrator.recipes.model import Output, Recipe
from orchestrator.workspace import Channel
from ruamel.yaml import YAML

MULTI_OUTPUT = """\
context:
  name: acme-split
  version: "1.10"
recipe:
  name: ${{ name }}
  version: ${{ version }}
source:
  path: ../../internal/lib
outputs:
  - package:
      name: ${{ name }}-lib
      version: ${{ version }}
    build:
      string: will_be_replaced
  - package:
      name: acme-tools
      version: ${{ version }}
    source:
      - path: extra
      - url: https://example.invalid/t.tar.gz
        sha256: "0000000000000000000000000000000000000000000000000000000000000000"
"""

GENERIC = """\
package:
  name: acme-hello
  version: "0.3"
build:
  number: 2
  noarch: generic
  script:
    - mkdir -p $PREFIX/share/acme
    - echo "{greeting}" > $PREFIX/share/acme/hello.txt
tests:
  - script:
      - grep -q "{greeting}" $PREFIX/share/acme/hello.txt
"""


def request_for(root: Path, recipe: Recipe, build_strings: dict[str, str], tmp: Path,
                **changes) -> BuildRequest:
    fields = dict(recipe=recipe, workspace_root=root, build_strings=build_strings, channels=(),
                  output_dir=tmp / "out", work_dir=tmp / "work", source_cache=tmp / "src",
                  platform="linux-64")
    return BuildRequest(**{**fields, **changes})


def written_recipe(request: BuildRequest) -> dict:
    return YAML(typ="safe").load(request.work_dir / "recipe" / "recipe.yaml")


def test_builders_are_listed_by_their_workspace_names():
    assert {"rattler-build": RattlerBuild, "conda-build": CondaBuild} == BUILDERS


def test_a_recipe_yaml_gets_the_planned_build_string_of_each_output(tmp_path):
    root = tmp_path / "ws"
    (root / "recipes/split").mkdir(parents=True)
    (root / "recipes/split/recipe.yaml").write_text(MULTI_OUTPUT)
    (root / "recipes/split/extra.txt").write_text("copied with the recipe")
    recipe = Recipe("//recipes/split", "recipes/split/recipe.yaml", "recipe.yaml",
                    (Output("acme-split-lib", "1.10"), Output("acme-tools", "1.10")))
    request = request_for(root, recipe, {"acme-split-lib": "h1111111111_0",
                                         "acme-tools": "h2222222222_0"}, tmp_path)
    RattlerBuild().prepare(request)
    data = written_recipe(request)
    assert [o["build"]["string"] for o in data["outputs"]] == ["h1111111111_0", "h2222222222_0"]
    assert data["source"] == {"path": str(root / "internal/lib")}
    assert data["outputs"][1]["source"][0] == {"path": str(root / "recipes/split/extra")}
    assert data["outputs"][1]["source"][1]["url"] == "https://example.invalid/t.tar.gz"
    assert data["context"]["version"] == "1.10"  # still text, not the number 1.1
    assert (request.work_dir / "recipe/extra.txt").read_text() == "copied with the recipe"


def test_an_output_the_plan_does_not_know_is_an_error(tmp_path):
    root = tmp_path / "ws"
    (root / "recipes/split").mkdir(parents=True)
    (root / "recipes/split/recipe.yaml").write_text(MULTI_OUTPUT)
    recipe = Recipe("//recipes/split", "recipes/split/recipe.yaml", "recipe.yaml",
                    (Output("acme-split-lib", "1.10"),))
    request = request_for(root, recipe, {"acme-split-lib": "h1111111111_0"}, tmp_path)
    with pytest.raises(BuildError, match="recipes/split/recipe.yaml: output `acme-tools` has no"):
        RattlerBuild().prepare(request)


def test_a_meta_yaml_is_translated_from_its_rendered_tree(tmp_path):
    root = tmp_path / "ws"
    (root / "recipes/python-six").mkdir(parents=True)
    (root / "recipes/python-six/meta.yaml").write_text("{% set name = 'six' %}\n")
    data = {"package": {"name": "six", "version": "1.16.0"},
            "source": {"url": "https://x.invalid/six-1.16.0.tar.gz", "sha256": "1" * 64},
            "build": {"noarch": "python", "script": "$PYTHON -m pip install . --no-deps"},
            "requirements": {"host": ["python", "pip"], "run": ["python"]},
            "test": {"imports": ["six"]}}
    recipe = Recipe("//recipes/python-six", "recipes/python-six/meta.yaml", "meta.yaml",
                    (Output("six", "1.16.0", noarch="python"),), data=data)
    request = request_for(root, recipe, {"six": "h3333333333_0"}, tmp_path)
    RattlerBuild().prepare(request)
    assert written_recipe(request) == translate(
        data, recipe_file="recipes/python-six/meta.yaml",
        recipe_dir=str(root / "recipes/python-six"), build_string="h3333333333_0")


def test_a_multi_output_meta_yaml_gets_every_planned_build_string(tmp_path):
    data = {"package": {"name": "x-split", "version": "1"},
            "outputs": [{"name": "a", "script": ["touch $PREFIX/a"]},
                        {"name": "b", "requirements": {"run": ["a ==1"]}}]}
    recipe = Recipe("//recipes/x", "recipes/x/meta.yaml", "meta.yaml",
                    (Output("a", "1"), Output("b", "1")), data=data)
    request = request_for(tmp_path, recipe, {"a": "ha_0", "b": "hb_0"}, tmp_path)
    outputs = translated_recipe(request)["outputs"]
    assert [(o["package"]["name"], o["build"]["string"]) for o in outputs] == [
        ("a", "ha_0"), ("b", "hb_0")]


def test_the_invocation_runs_the_runner_with_every_channel_and_variant(tmp_path):
    recipe = Recipe("//recipes/x", "recipes/x/recipe.yaml", "recipe.yaml", (Output("x", "1"),))
    request = request_for(tmp_path / "ws", recipe, {"x": "h_0"}, tmp_path,
                          channels=(Channel.of("file:///ch/target"), Channel.of("https://extra.invalid/c")),
                          variant={"python": "3.11", "numpy": "2"}, platform="linux-aarch64")
    invocation = RattlerBuild().invocation(request)
    assert invocation.argv == (
        sys.executable, str(RUNNER), "--recipe", str(tmp_path / "work/recipe/recipe.yaml"),
        "--output-dir", str(tmp_path / "out"), "--source-cache", str(tmp_path / "src"),
        "--target-platform", "linux-aarch64", "--test", "native",
        "--channel", "file:///ch/target", "--channel", "https://extra.invalid/c",
        "--variant", "numpy=2", "--variant", "python=3.11",
    )
    assert invocation.cwd == tmp_path / "work"
    assert invocation.reads == (tmp_path / "ws", RUNNER.parent)
    assert invocation.writes == (tmp_path / "out", tmp_path / "work", tmp_path / "src")
    assert invocation.env["PYTHONUNBUFFERED"] == "1"


def generic_request(tmp_path: Path, build_string: str, greeting: str = "hi") -> BuildRequest:
    root = tmp_path / "ws"
    (root / "recipes/hello").mkdir(parents=True, exist_ok=True)
    (root / "recipes/hello/recipe.yaml").write_text(GENERIC.format(greeting=greeting))
    recipe = Recipe("//recipes/hello", "recipes/hello/recipe.yaml", "recipe.yaml",
                    (Output("acme-hello", "0.3", build_number=2, noarch="generic"),))
    return request_for(root, recipe, {"acme-hello": build_string}, tmp_path)


def run(request: BuildRequest) -> subprocess.CompletedProcess:
    builder = RattlerBuild()
    builder.prepare(request)
    invocation = builder.invocation(request)
    return subprocess.run(invocation.argv,
                          env=invocation.environment(os.environ), cwd=invocation.cwd,
                          capture_output=True, text=True, timeout=600)


def test_a_real_build_is_collected_with_the_planned_build_string(tmp_path):
    request = generic_request(tmp_path, "h4444444444_2")
    done = run(request)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "acme-hello" in done.stdout and "h4444444444_2" in done.stdout
    assert RattlerBuild().collect(request) == [
        tmp_path / "out/noarch/acme-hello-0.3-h4444444444_2.conda"]
    assert (tmp_path / "out/src_cache").resolve() == (tmp_path / "src/rattler-build").resolve()

    other_plan = generic_request(tmp_path, "h5555555555_2")
    with pytest.raises(BuildError) as info:
        RattlerBuild().collect(other_plan)
    assert str(info.value) == (
        "recipes/hello/recipe.yaml: expected package noarch/acme-hello-0.3-h5555555555_2, "
        "the build produced noarch/acme-hello-0.3-h4444444444_2")


def test_nothing_built_is_an_error(tmp_path):
    request = generic_request(tmp_path, "h6666666666_2")
    with pytest.raises(BuildError, match="the build produced no package noarch/acme-hello-0.3"):
        RattlerBuild().collect(request)


def test_a_failing_recipe_test_fails_the_runner_with_one_line(tmp_path):
    request = generic_request(tmp_path, "h7777777777_2")
    request.work_dir.mkdir(parents=True)
    RattlerBuild().prepare(request)
    recipe_file = request.work_dir / "recipe/recipe.yaml"
    recipe_file.write_text(recipe_file.read_text().replace('grep -q "hi"', 'grep -q "bye"'))
    invocation = RattlerBuild().invocation(request)
    done = subprocess.run(invocation.argv,
                          env=invocation.environment(os.environ), cwd=invocation.cwd,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("rattler-build failed: ")
    assert done.stdout == ""


FROM_URL = """\
package:
  name: acme-data
  version: "1.0"
source:
  url: https://example.invalid/acme-data-1.0.tar.gz
  sha256: {sha256}
build:
  noarch: generic
  script:
    - mkdir -p $PREFIX/share/acme && cp data.txt $PREFIX/share/acme/
"""


def test_a_source_in_the_source_cache_is_used_without_network(tmp_path):
    import hashlib
    import tarfile

    (tmp_path / "data").mkdir()
    (tmp_path / "data/data.txt").write_text("cached\n")
    archive = tmp_path / "acme-data-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "data", arcname="acme-data-1.0")
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    (tmp_path / "src" / sha256).mkdir(parents=True)
    archive.rename(tmp_path / "src" / sha256 / archive.name)
    root = tmp_path / "ws"
    (root / "recipes/data").mkdir(parents=True)
    (root / "recipes/data/recipe.yaml").write_text(FROM_URL.format(sha256=sha256))
    recipe = Recipe("//recipes/data", "recipes/data/recipe.yaml", "recipe.yaml",
                    (Output("acme-data", "1.0", noarch="generic"),))
    request = request_for(root, recipe, {"acme-data": "h8888888888_0"}, tmp_path, test="skip")
    done = run(request)
    assert done.returncode == 0, done.stderr[-2000:]
    assert written_recipe(request)["source"]["url"] == [
        (tmp_path / "src" / sha256 / "acme-data-1.0.tar.gz").as_uri(),
        "https://example.invalid/acme-data-1.0.tar.gz"]
    assert RattlerBuild().collect(request)[0].name == "acme-data-1.0-h8888888888_0.conda"


def test_an_output_without_a_planned_build_string_is_an_error(tmp_path):
    request = generic_request(tmp_path, "h9999999999_2")
    request = request_for(request.workspace_root, request.recipe, {"other": "h_0"}, tmp_path)
    with pytest.raises(BuildError, match="recipes/hello/recipe.yaml: .* `acme-hello`"):
        RattlerBuild().collect(request)
