"""Variant configuration (issue 10, item 1): variant files merged in order, inline `[variant]`
values (lists are matrices), a recipe's own conda_build_config.yaml, conda-build's types, zip_keys
and used-key rules.

Given a workspace in a real git repository with variant files, when it is rendered, then each
recipe gives one Recipe per combination of the keys it uses, with the values conda-build would use.
"""

from __future__ import annotations

import json

import pytest
from orchestrator.recipes.render_workspace import render_workspace
from orchestrator.workspace import load_workspace

CBC = """\
python:
  - 3.11.* *_cpython
  - 3.12.* *_cpython
  - 3.13.* *_cp313    # [not win]
is_python_min:
  - true
  - false
  - false             # [not win]
zip_keys:
  - - python
    - is_python_min
zlib:
  - '1'
c_compiler:
  - gcc   # [linux]
c_compiler_version:
  - '15'  # [linux]
c_stdlib_version:
  - '2.17'
with_icu: false
cuda: none  # [linux and os.environ.get("CF_CUDA_ENABLED", "False") == "True"]
"""

NUMPY_LIKE = """\
package:
  name: nplike
  version: '1.0'
requirements:
  build:
    - {{ compiler('c') }}
    - {{ stdlib('c') }}
  host:
    - python
    - zlib
  run:
    - python
"""

NOARCH = """\
package:
  name: pure
  version: '1.0'
build:
  noarch: python
requirements:
  host:
    - python {{ python_min }}
  run:
    - python >={{ python_min }}
"""

ICU = """\
package:
  name: sqlite-like
  version: '1.0'
requirements:
  host:
    - icu  # [with_icu]
    - readline
"""


def workspace_toml(variant: str = "", files: str = '"conda_build_config.yaml"') -> str:
    return (f'[workspace]\nname = "v"\nroots = ["recipes"]\nvariant_config = [{files}]\n\n'
            f"[variant]\n{variant}")


def rendered(make_workspace, files: dict[str, str]):
    root = make_workspace(files)
    result = render_workspace(load_workspace(root))
    assert [str(e) for e in result.errors] == []
    return {r.target: [] for r in result.recipes} | _grouped(result.recipes)


def _grouped(recipes) -> dict:
    out: dict = {}
    for recipe in recipes:
        out.setdefault(recipe.target, []).append(recipe)
    return out


def test_a_compiled_python_recipe_is_one_build_per_python(make_workspace):
    recipes = rendered(make_workspace, {
        "WORKSPACE.toml": workspace_toml(), "conda_build_config.yaml": CBC,
        "recipes/nplike/meta.yaml": NUMPY_LIKE})
    variants = recipes["//recipes/nplike"]
    assert [dict(r.variant)["python"] for r in variants] == [
        "3.11.* *_cpython", "3.12.* *_cpython", "3.13.* *_cp313"]
    host = [[q.spec for q in r.outputs[0].requirements_in("host")] for r in variants]
    assert host[1] == ["python 3.12.* *_cpython", "zlib 1.*"]
    build = [q.spec for q in variants[0].outputs[0].requirements_in("build")]
    assert build == ["gcc_linux-64 15.*", "sysroot_linux-64 2.17.*"]
    assert dict(variants[0].variant)["target_platform"] == "linux-64"
    assert len({r.data["requirements"]["host"][0] for r in variants}) == 3


def test_a_noarch_recipe_stays_one_build(make_workspace):
    recipes = rendered(make_workspace, {
        "WORKSPACE.toml": workspace_toml('python_min = "3.10"\n'),
        "conda_build_config.yaml": CBC, "recipes/pure/meta.yaml": NOARCH})
    (pure,) = recipes["//recipes/pure"]
    assert pure.variant == (("python_min", "3.10"),)
    assert [q.spec for q in pure.outputs[0].requirements] == ["python 3.10", "python >=3.10"]


BARE_NOARCH = NOARCH.replace(" {{ python_min }}", "").replace(" >={{ python_min }}", "")


def test_a_noarch_recipe_naming_python_is_built_with_the_newest_python_only(make_workspace):
    # conda-build's noarch_python_reduction: one build, with the newest python of the matrix
    recipes = rendered(make_workspace, {
        "WORKSPACE.toml": workspace_toml(), "conda_build_config.yaml": CBC,
        "recipes/pure/meta.yaml": BARE_NOARCH})
    (pure,) = recipes["//recipes/pure"]
    assert dict(pure.variant)["python"] == "3.13.* *_cp313"


def test_boolean_values_behave_as_booleans(make_workspace):
    files = {"conda_build_config.yaml": CBC, "recipes/sqlite/meta.yaml": ICU}
    from_file = rendered(make_workspace, {"WORKSPACE.toml": workspace_toml(), **files})
    # `with_icu: false` in a file is the text "false", which selectors see as False
    assert [q.name for q in from_file["//recipes/sqlite"][0].outputs[0].requirements] == [
        "readline"]


def test_inline_values_override_files_and_keep_their_toml_type(make_workspace):
    recipes = rendered(make_workspace, {
        "WORKSPACE.toml": workspace_toml("with_icu = true\n"), "conda_build_config.yaml": CBC,
        "recipes/sqlite/meta.yaml": ICU})
    (sqlite,) = recipes["//recipes/sqlite"]
    assert [q.name for q in sqlite.outputs[0].requirements] == ["icu", "readline"]
    assert sqlite.variant == (("target_platform", "linux-64"), ("with_icu", True))


def test_an_inline_list_is_a_matrix(make_workspace):
    recipes = rendered(make_workspace, {
        "WORKSPACE.toml": '[workspace]\nname = "v"\nroots = ["recipes"]\n\n[variant]\n'
                          'python = ["3.11", "3.12"]\n',
        "recipes/nplike/meta.yaml": NUMPY_LIKE.replace("    - zlib\n", "")})
    assert [dict(r.variant)["python"] for r in recipes["//recipes/nplike"]] == ["3.11", "3.12"]


def test_a_recipes_own_config_comes_last(make_workspace):
    recipes = rendered(make_workspace, {
        "WORKSPACE.toml": workspace_toml(), "conda_build_config.yaml": CBC,
        "recipes/z/meta.yaml": NUMPY_LIKE.replace("nplike", "z"),
        "recipes/z/conda_build_config.yaml": "c_compiler:\n  - gcc_bootstrap\npython:\n"
                                             "  - 3.12.* *_cpython\n"})
    variants = recipes["//recipes/z"]
    assert [dict(r.variant)["python"] for r in variants] == ["3.12.* *_cpython"]
    build = [q.spec for q in variants[0].outputs[0].requirements_in("build")]
    assert build[0] == "gcc_bootstrap_linux-64 15.*"


def test_zip_keys_move_together(make_workspace):
    recipes = rendered(make_workspace, {
        "WORKSPACE.toml": workspace_toml(), "conda_build_config.yaml": CBC,
        "recipes/m/meta.yaml": "package:\n  name: m\n  version: '1'\nbuild:\n"
                               "  number: 1  # [is_python_min]\nrequirements:\n  host:\n"
                               "    - python\n"})
    pairs = [(dict(r.variant)["python"], dict(r.variant)["is_python_min"])
             for r in recipes["//recipes/m"]]
    assert pairs == [("3.11.* *_cpython", "true"), ("3.12.* *_cpython", "false"),
                     ("3.13.* *_cp313", "false")]
    assert [r.outputs[0].build_number for r in recipes["//recipes/m"]] == [1, 0, 0]


def test_an_unknown_selector_name_names_the_variant_files(make_workspace):
    root = make_workspace({
        "WORKSPACE.toml": workspace_toml(), "conda_build_config.yaml": CBC,
        "recipes/t/meta.yaml": "package:\n  name: t\n  version: '1'\nbuild:\n"
                               "  skip: true  # [tk_variant == 'x']\n"})
    (error,) = render_workspace(load_workspace(root)).errors
    assert str(error).startswith("recipes/t/meta.yaml:5: unknown selector name 'tk_variant'")
    assert str(error).endswith("variant files read: conda_build_config.yaml)")


def test_a_variant_file_outside_the_workspace_is_an_error(make_workspace, run_cli, tmp_path):
    (tmp_path / "cbc.yaml").write_text(CBC)
    root = make_workspace({"WORKSPACE.toml": workspace_toml(files='"cbc.yaml"'),
                           "recipes/t/meta.yaml": NOARCH})
    (root / "cbc.yaml").symlink_to(tmp_path / "cbc.yaml")
    result = run_cli(["plan"], cwd=root)
    assert result.code == 2
    assert result.err.startswith(f"error: WORKSPACE.toml: variant_config: cbc.yaml resolves to "
                                 f"{tmp_path / 'cbc.yaml'}, outside the workspace")


@pytest.mark.parametrize("value", ["[3, 11]", "[\"3.11\", \"3.12\"]"])
def test_a_list_in_variant_is_a_matrix_never_a_string(value):
    from orchestrator.workspace import parse_workspace_config

    config = parse_workspace_config({"workspace": {"name": "w"}, "variant": {
        "python": json.loads(value)}}, "WORKSPACE.toml")
    assert isinstance(config.variant["python"], tuple)
