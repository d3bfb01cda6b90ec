"""A multi-output meta.yaml, rendered, translated and built for real by rattler-build.

Given a recipe with a library output (its own script file), a tools output (inline commands,
run-requiring the library through `pin_subpackage`) and a metapackage (requirements only),
when it is rendered by the real renderer, translated and built with the builder's own command,
then each package exists with the build string the plan gave it and the right dependencies.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from orchestrator.builders import BuildRequest, RattlerBuild
from orchestrator.builders.rattler_build import recipe_path
from orchestrator.builders.translate import translate
from orchestrator.builders.workdir import copy_recipe_dir
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.model import RawRecipe
from orchestrator.recipes.render import render_recipe
from ruamel.yaml import YAML

META_YAML = """\
{% set version = "1.2" %}
package:
  name: foo-split
  version: {{ version }}
build:
  number: 1
outputs:
  - name: libfoo
    script: install_lib.sh
    build:
      noarch: generic
    test:
      commands:
        - grep -q "libfoo {{ version }}" $PREFIX/share/foo/lib.txt
  - name: foo-tools
    script:
      - mkdir -p $PREFIX/share/foo
      - echo "tools" > $PREFIX/share/foo/tools.txt
    build:
      noarch: generic
    requirements:
      run:
        - {{ pin_subpackage("libfoo", exact=True) }}
    test:
      commands:
        - test -f $PREFIX/share/foo/lib.txt
        - test -f $PREFIX/share/foo/tools.txt
  - name: foo
    build:
      noarch: generic
    requirements:
      - {{ pin_subpackage("libfoo", exact=True) }}
      - {{ pin_subpackage("foo-tools", exact=True) }}
about:
  license: MIT
  summary: a library, its tools and a metapackage
"""

INSTALL_LIB = """\
mkdir -p "$PREFIX/share/foo"
echo "libfoo $PKG_VERSION" > "$PREFIX/share/foo/lib.txt"
"""

PLANNED = {"libfoo": "h1111111111_1", "foo-tools": "h2222222222_1", "foo": "h3333333333_1"}


def rendered_recipe(root: Path, install_lib: str = INSTALL_LIB):
    directory = root / "recipes/foo-split"
    directory.mkdir(parents=True)
    (directory / "meta.yaml").write_text(META_YAML)
    (directory / "install_lib.sh").write_text(install_lib)
    raw = RawRecipe("//recipes/foo-split", "recipes/foo-split/meta.yaml", "meta.yaml",
                    META_YAML)
    return render_recipe(raw, RenderContext("linux-64", ()))


def prepared(request: BuildRequest) -> None:
    """What RattlerBuild.prepare does, with the multi-output translation."""
    v1 = translate(request.recipe.data, recipe_file=request.recipe.path,
                   recipe_dir=request.recipe_dir.as_posix(), build_strings=request.build_strings)
    target = recipe_path(request)
    copy_recipe_dir(request, target.parent)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with target.open("w", encoding="utf-8") as out:
        yaml.dump(v1, out)


def request_for(recipe, root: Path, tmp: Path) -> BuildRequest:
    return BuildRequest(recipe=recipe, workspace_root=root, build_strings=PLANNED, channels=(),
                        output_dir=tmp / "out", work_dir=tmp / "work", source_cache=tmp / "src")


def built(request: BuildRequest) -> subprocess.CompletedProcess:
    prepared(request)
    invocation = RattlerBuild().invocation(request)
    return subprocess.run(invocation.argv,
                          env=invocation.environment(os.environ), cwd=invocation.cwd,
                          capture_output=True, text=True, timeout=900)


def files_of(package: Path) -> list[str]:
    from rattler.package import PathsJson

    return [str(entry.relative_path) for entry in PathsJson.from_package_archive(package).paths]


def index_of(package: Path) -> dict:
    from rattler.package import IndexJson

    index = IndexJson.from_package_archive(package)
    return {"name": index.name.normalized, "build": index.build, "depends": index.depends,
            "subdir": index.subdir}


def test_a_multi_output_meta_yaml_builds_every_output_with_its_planned_string(tmp_path):
    root = tmp_path / "ws"
    recipe = rendered_recipe(root)
    assert [o.name for o in recipe.outputs] == ["libfoo", "foo-tools", "foo"]
    request = request_for(recipe, root, tmp_path)
    done = built(request)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    packages = RattlerBuild().collect(request)
    assert [p.name for p in packages] == [
        "libfoo-1.2-h1111111111_1.conda", "foo-tools-1.2-h2222222222_1.conda",
        "foo-1.2-h3333333333_1.conda"]
    libfoo, tools, meta = (index_of(p) for p in packages)
    assert libfoo["depends"] == [] and libfoo["subdir"] == "noarch"
    assert tools["depends"] == ["libfoo ==1.2"]
    assert sorted(meta["depends"]) == ["foo-tools ==1.2", "libfoo ==1.2"]
    assert [files_of(p) for p in packages] == [
        ["share/foo/lib.txt"], ["share/foo/tools.txt"], []]


def test_an_output_test_translated_from_meta_yaml_runs_and_can_fail(tmp_path):
    root = tmp_path / "ws"
    recipe = rendered_recipe(root, INSTALL_LIB.replace("libfoo $PKG_VERSION", "something else"))
    done = built(request_for(recipe, root, tmp_path))
    assert done.returncode == 1
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("rattler-build failed: ") and "Test failed" in last_line


def test_a_meta_yaml_with_one_output_goes_through_the_builder_as_it_is(tmp_path):
    root = tmp_path / "ws"
    one_output = META_YAML.split("  - name: foo-tools")[0] + "about:\n  license: MIT\n"
    directory = root / "recipes/libfoo"
    directory.mkdir(parents=True)
    (directory / "install_lib.sh").write_text(INSTALL_LIB)
    raw = RawRecipe("//recipes/libfoo", "recipes/libfoo/meta.yaml", "meta.yaml", one_output)
    recipe = render_recipe(raw, RenderContext("linux-64", ()))
    request = BuildRequest(recipe=recipe, workspace_root=root,
                           build_strings={"libfoo": "h4444444444_1"}, channels=(),
                           output_dir=tmp_path / "out", work_dir=tmp_path / "work",
                           source_cache=tmp_path / "src")
    builder = RattlerBuild()
    builder.prepare(request)
    invocation = builder.invocation(request)
    done = subprocess.run(invocation.argv,
                          env=invocation.environment(os.environ), cwd=invocation.cwd,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [package] = builder.collect(request)
    assert package.name == "libfoo-1.2-h4444444444_1.conda"
    assert files_of(package) == ["share/foo/lib.txt"]
