"""Issue 9: a recipe.yaml cannot read the environment, and builds get only PASSED_ENV.

rattler-build renders a recipe.yaml again when it builds it; a value read from the environment
there could differ from the one hashed at plan time (and carry a CI token into a package)."""

from __future__ import annotations

from orchestrator.builders.rattler_build import PASSED_ENV, build_env

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


def test_a_build_sees_only_the_passed_variables():
    host = {"PATH": "/usr/bin", "HOME": "/root", "CI_JOB_TOKEN": "s3cret", "AWS_SECRET": "x"}
    env = build_env(host)
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "PYTHONUNBUFFERED": "1"}
    assert set(env) - {"PYTHONUNBUFFERED"} <= set(PASSED_ENV)
