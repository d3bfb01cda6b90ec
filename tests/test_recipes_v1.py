"""recipe.yaml rendered by rattler-build: variant files, inline values, the recipe's own
variants, one Recipe per variant, and a plan that reads nothing from the build machine."""

from __future__ import annotations

import subprocess

from orchestrator.builders import RattlerBuild
from orchestrator.builders.rattler_build import build_variant
from orchestrator.recipes.render_workspace import render_workspace
from orchestrator.workspace import load_workspace
from test_builders_rattler_build import request_for

WORKSPACE = """\
[workspace]
name = "acme"
roots = ["recipes"]
variant_config = ["config/conda_build_config.yaml"]

[variant]
python = ["3.11", "3.12"]
"""

PINNING = """\
c_compiler:
  - gcc                        # [linux]
  - vs2022                     # [win]
c_compiler_version:
  - 13
  - 14
libfoo:
  - 1
  - 2
zip_keys:
  - [c_compiler_version, libfoo]
python:
  - 3.9
"""

COMPILED = """\
package: {name: ext, version: "1.0"}
requirements:
  build: ["${{ compiler('c') }}"]
  host: [python, libfoo]
"""

NOARCH = """\
package: {name: pure, version: "1.0"}
build: {noarch: python}
requirements:
  host: [python]
  run: [python]
"""


def rendered(make_workspace, files):
    root = make_workspace({"WORKSPACE.toml": WORKSPACE,
                           "config/conda_build_config.yaml": PINNING, **files})
    result = render_workspace(load_workspace(root, explicit=True))
    return root, result


def test_a_recipe_is_multiplied_by_the_keys_it_uses(make_workspace):
    _, result = rendered(make_workspace, {"recipes/ext/recipe.yaml": COMPILED,
                                          "recipes/pure/recipe.yaml": NOARCH})
    assert result.errors == ()
    ext = [dict(r.variant) for r in result.recipes if r.target == "//recipes/ext"]
    # inline [variant] python wins over the file's; zip_keys pair compiler version and libfoo
    assert sorted((v["python"], v["c_compiler_version"], v["libfoo"]) for v in ext) == [
        ("3.11", "13", "1"), ("3.11", "14", "2"), ("3.12", "13", "1"), ("3.12", "14", "2")]
    assert {v["c_compiler"] for v in ext} == {"gcc"}  # the selector of the file applied
    pure = [r for r in result.recipes if r.target == "//recipes/pure"]
    assert len(pure) == 1 and "python" not in dict(pure[0].variant)


def test_the_recipes_own_variants_file_comes_last(make_workspace):
    _, result = rendered(make_workspace, {"recipes/ext/recipe.yaml": COMPILED,
                                          "recipes/ext/variants.yaml": "python: ['3.13']\n"})
    assert {dict(r.variant)["python"] for r in result.recipes} == {"3.13"}


def test_build_skip_is_per_variant(make_workspace):
    recipe = COMPILED.replace("requirements:", "build:\n  skip: match(python, '<3.12')\n"
                              "requirements:")
    _, result = rendered(make_workspace, {"recipes/ext/recipe.yaml": recipe})
    skips = {(dict(r.variant)["python"], r.skipped) for r in result.recipes}
    assert skips == {("3.11", True), ("3.12", False)}


def test_pins_of_outputs_are_specs(make_workspace):
    recipe = """\
        recipe: {name: split, version: "2.4.1"}
        outputs:
          - package: {name: libsplit}
            requirements:
              run_exports: ["${{ pin_subpackage('libsplit', upper_bound='x.x') }}"]
          - package: {name: split-tools}
            requirements:
              run: ["${{ pin_subpackage('libsplit', exact=True) }}"]
        """
    import textwrap

    _, result = rendered(make_workspace, {"recipes/split/recipe.yaml": textwrap.dedent(recipe)})
    (split,) = result.recipes
    lib, tools = split.outputs
    assert lib.run_exports == ("libsplit >=2.4.1,<2.5.0a0",)
    assert [r.spec for r in tools.requirements] == ["libsplit ==2.4.1"]


def test_reading_the_environment_is_refused_with_file_and_line(make_workspace, run_cli,
                                                               monkeypatch):
    monkeypatch.setenv("ACME_TOKEN", "s3cret")
    recipe = "package:\n  name: leak\n  version: \"${{ env.get('ACME_TOKEN') }}\"\n"
    root, result = rendered(make_workspace, {"recipes/leak/recipe.yaml": recipe})
    assert [str(e) for e in result.errors] == [
        "recipes/leak/recipe.yaml:3: `env.get('ACME_TOKEN')` reads the build machine's "
        "environment while the recipe is rendered, which orchestrate refuses (hint: put the "
        "value in the recipe's context: or in a variant file)"]
    done = run_cli(["-C", root, "plan"])
    assert done.code == 2
    assert "recipes/leak/recipe.yaml:3: `env.get('ACME_TOKEN')` reads" in done.err
    assert "s3cret" not in done.out + done.err


def test_loading_a_file_is_refused(make_workspace):
    recipe = "context:\n  data: ${{ load_from_file('/etc/passwd') }}\n" \
             "package: {name: x, version: '1'}\n"
    _, result = rendered(make_workspace, {"recipes/x/recipe.yaml": recipe})
    assert [e.line for e in result.errors] == [2]
    assert "reads the file system" in str(result.errors[0])


def test_a_build_sees_only_the_documented_environment(make_workspace, tmp_path, monkeypatch):
    """The package holds what the build saw of a secret in orchestrate's environment: nothing."""
    monkeypatch.setenv("ACME_TOKEN", "s3cret")
    recipe = """\
package: {name: envprobe, version: "1.0"}
build:
  noarch: generic
  script:
    - mkdir -p $PREFIX/share
    - echo "token=${ACME_TOKEN:-absent}" > $PREFIX/share/probe.txt
"""
    root, result = rendered(make_workspace, {"recipes/envprobe/recipe.yaml": recipe})
    (probe,) = result.recipes
    request = request_for(root, probe, {"envprobe": "h0000000001_0"}, tmp_path, test="skip")
    builder = RattlerBuild()
    builder.prepare(request)
    invocation = builder.invocation(request)
    assert "ACME_TOKEN" not in invocation.env
    done = subprocess.run(invocation.argv, env=dict(invocation.env), cwd=invocation.cwd,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (package,) = builder.collect(request)
    from rattler.package_streaming import extract

    extract(package, tmp_path / "unpacked")
    assert (tmp_path / "unpacked/share/probe.txt").read_text().strip() == "token=absent"


def test_the_build_gets_exactly_the_planned_variant(make_workspace, tmp_path):
    root, result = rendered(make_workspace, {"recipes/ext/recipe.yaml": COMPILED})
    last = result.recipes[-1]
    request = request_for(root, last, {"ext": "h1_0"}, tmp_path,
                          variant={"python": ("3.11", "3.12")})
    variant = build_variant(request)
    assert variant["python"] == ("3.12",) and variant["libfoo"] == ("2",)


def test_a_bad_match_spec_is_rattler_builds_reason_without_its_rust_dressing(make_workspace):
    recipe = ("package:\n  name: bad\n  version: \"1\"\nrequirements:\n  host:\n"
              "    - python 3.9\n")
    _, result = rendered(make_workspace, {"recipes/bad/recipe.yaml": recipe})
    (error,) = result.errors
    assert str(error) == (
        "recipes/bad/recipe.yaml:6: rattler-build cannot render it: invalid value for 'item': "
        "missing range specifier for '3.9'. Did you mean '==3.9' or '3.9.*'?")
