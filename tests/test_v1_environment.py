"""Issue 9: a recipe.yaml cannot read the environment, and builds get only PASSED_ENV.

rattler-build renders a recipe.yaml again when it builds it; a value read from the environment
there could differ from the one hashed at plan time (and carry a CI token into a package)."""

from __future__ import annotations

from orchestrator.builders import CondaBuild, RattlerBuild
from orchestrator.builders.rattler_build import PASSED_ENV
from orchestrator.recipes.model import Output, Recipe
from test_builders_rattler_build import request_for

V1_READING_ENV = """\
context:
  version: "1.0"
package:
  name: reads-env
  version: ${{ version }}
about:
  summary: ${{ env.get("CI_JOB_TOKEN", default="none") }}
"""


def test_env_get_in_a_recipe_yaml_is_one_clear_error(make_workspace, run_cli, monkeypatch):
    monkeypatch.setenv("CI_JOB_TOKEN", "s3cret-token")
    root = make_workspace({"recipes/reads-env/recipe.yaml": V1_READING_ENV})
    result = run_cli(["-C", root, "plan"])
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: recipes/reads-env/recipe.yaml:7:")
    assert "CI_JOB_TOKEN" in lines[0] and "s3cret-token" not in result.err + result.out


RECIPE = Recipe("//recipes/x", "recipes/x/meta.yaml", "meta.yaml", (Output("x", "1"),))
HOST = {"PATH": "/usr/bin", "HOME": "/root", "CI_JOB_TOKEN": "s3cret", "AWS_SECRET": "x",
        "CONDA_PREFIX": "/opt/conda", "VIRTUAL_ENV": "/ws/.venv", "PYTHONPATH": "/x"}


def test_a_build_sees_only_the_passed_variables(tmp_path):
    invocation = RattlerBuild().invocation(request_for(tmp_path, RECIPE, {}, tmp_path))
    assert invocation.env == {"PYTHONUNBUFFERED": "1"}  # all a container is given
    env = invocation.environment(HOST)
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "PYTHONUNBUFFERED": "1"}
    assert set(env) - {"PYTHONUNBUFFERED"} <= set(PASSED_ENV)


def test_a_conda_build_run_sees_the_callers_variables_but_condas_and_pythons(tmp_path):
    conda_build = "/opt/conda/bin/conda-build"  # not on this machine: named, not resolved
    request = request_for(tmp_path, RECIPE, {}, tmp_path, conda_build=conda_build)
    invocation = CondaBuild().invocation(request)
    own = {"HOME": f"{tmp_path}/work/home", "CONDARC": f"{tmp_path}/work/condarc",
           "PYTHONUNBUFFERED": "1", "PYTHONNOUSERSITE": "1"}
    assert invocation.env == own  # what the builder sets: all a container is given
    assert invocation.environment(HOST) == {
        "PATH": "/usr/bin", "CI_JOB_TOKEN": "s3cret", "AWS_SECRET": "x", **own}
