"""The GitLab child pipeline with `--lint`: a lint job of its own, valid for GitLab, whose
command is the real `orchestrate lint`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from example_org import copy_example_org
from ruamel.yaml import YAML

SCHEMA = Path(__file__).resolve().parents[1] / "../shared/schemas/gitlab-ci.schema.json"


def test_lint_job_is_valid_and_runs_orchestrate_lint(run_cli, tmp_path):
    root = copy_example_org(tmp_path / "acme")
    result = run_cli(["pipeline", "gitlab", "--offline", "--lint", "//recipes/python-six"],
                     cwd=root)
    assert result.code == 0, result.err
    document = YAML(typ="safe").load(result.out)
    assert document["stages"] == ["lint", "build"]
    job = document["lint:recipes"]
    assert job["stage"] == "lint" and job["needs"] == []
    assert job["script"][1] == "orchestrate -C . lint"
    if not SCHEMA.is_file():
        pytest.skip(f"GitLab's CI schema is not at {SCHEMA}")
    import jsonschema

    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    assert list(validator.iter_errors(document)) == []
    argv = shlex.split(job["script"][1])[1:]
    assert run_cli(argv, cwd=root).code == 0  # the example organization passes its rules


def test_without_lint_the_pipeline_has_no_lint_job(run_cli, tmp_path):
    root = copy_example_org(tmp_path / "acme")
    result = run_cli(["pipeline", "gitlab", "--offline", "//recipes/python-six"], cwd=root)
    document = YAML(typ="safe").load(result.out)
    assert "lint:recipes" not in document and document["stages"] == ["build"]
