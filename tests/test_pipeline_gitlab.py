"""`orchestrate pipeline gitlab`: a scenario workspace (real git repo) → a GitLab CI child
pipeline with exactly the plan's jobs, `needs` mirroring its edges, valid against GitLab's
published schema, the same text every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import commit_all, write_files
from orchestrator.gitlab import (
    MAX_JOB_NAME,
    NOTHING_JOB,
    PipelineSettings,
    job_name,
    pipeline_document,
)
from orchestrator.plan import PlanRequest
from orchestrator.planning import compute_plan
from orchestrator.workspace import load_workspace
from ruamel.yaml import YAML

SCHEMA = Path(__file__).resolve().parents[1] / "../shared/schemas/gitlab-ci.schema.json"


def generic(name: str, *host: str) -> dict[str, str]:
    """A recipe with a shell script, no source, and `host` requirements."""
    hosts = "".join(f"    - {h}\n" for h in host)
    requirements = f"requirements:\n  host:\n{hosts}" if host else ""
    return {f"recipes/{name}/meta.yaml": (
        f"package:\n  name: {name}\n  version: 1.0\n"
        f"build:\n  number: 0\n  noarch: generic\n  script: echo {name} > $PREFIX/{name}.txt\n"
        f"{requirements}"
    )}


@pytest.fixture
def diamond(make_workspace):
    """//recipes/top needs left and right, both need base; //recipes/alone needs nothing."""
    files = {".gitignore": "cache/\n"}
    for part in (generic("base"), generic("left", "base"), generic("right", "base"),
                 generic("top", "left", "right"), generic("alone")):
        files.update(part)
    return make_workspace(files)


def load_yaml(text: str) -> dict:
    return YAML(typ="safe").load(text)


def pipeline(run_cli, root: Path, *args: str) -> str:
    result = run_cli(["pipeline", "gitlab", "--offline", *args], cwd=root)
    assert result.code == 0, result.err
    return result.out


def validator():
    if not SCHEMA.is_file():
        pytest.skip(f"GitLab's CI schema is not at {SCHEMA} (see /work/shared/schemas/README.md)")
    import jsonschema

    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def jobs_of(document: dict) -> dict[str, dict]:
    return {k: v for k, v in document.items() if k not in ("stages", "variables", "default")}


def test_one_job_per_target_to_build_with_needs_mirroring_the_plan(run_cli, diamond):
    document = load_yaml(pipeline(run_cli, diamond))
    _, plan = compute_plan(load_workspace(diamond, True), PlanRequest(offline=True))
    assert len(plan.order) == 5
    assert list(jobs_of(document)) == [job_name(t) for t in plan.order]
    for target in plan.order:
        needs = jobs_of(document)[job_name(target)]["needs"]
        assert needs == [{"job": job_name(d), "artifacts": True} for d in plan.nodes[target].deps]
    top = jobs_of(document)["build:recipes/top"]
    assert [n["job"] for n in top["needs"]] == ["build:recipes/left", "build:recipes/right"]
    assert top["script"] == ["orchestrate -C . build --only --junit junit.xml //recipes/top"]
    assert top["artifacts"]["paths"][0] == "cache/channel/"
    assert top["artifacts"]["reports"] == {"junit": "junit.xml"}
    assert jobs_of(document)["build:recipes/alone"]["needs"] == []


def test_the_pipeline_is_valid_for_gitlab_and_the_same_every_time(run_cli, diamond):
    schema = validator()
    first = pipeline(run_cli, diamond, "--image", "registry.example/orchestrate:1")
    assert pipeline(run_cli, diamond, "--image", "registry.example/orchestrate:1") == first
    document = load_yaml(first)
    assert list(schema.iter_errors(document)) == []
    assert document["default"] == {"image": "registry.example/orchestrate:1",
                                   "interruptible": True,
                                   "retry": {"max": 2, "when": ["runner_system_failure"]}}
    broken = {**document, "build:recipes/base": {"script": "x", "retry": {"when": ["oops"]}}}
    assert list(schema.iter_errors(broken))  # the schema does check jobs


def test_only_changed_targets_and_their_dependents_become_jobs(run_cli, diamond):
    write_files(diamond, {"recipes/left/meta.yaml": generic("left", "base")[
        "recipes/left/meta.yaml"].replace("echo left", "echo LEFT")})
    commit_all(diamond, "change left")
    out = pipeline(run_cli, diamond, "--changed-since", "HEAD~1", "--dependents",
                   "--output", "child.yml")
    assert out == ""
    document = load_yaml((diamond / "child.yml").read_text())
    # no channel has base or right: the plan pulls them in (top needs them), so they are jobs
    # too; alone is not
    assert list(jobs_of(document)) == ["build:recipes/base", "build:recipes/left",
                                       "build:recipes/right", "build:recipes/top"]
    assert [n["job"] for n in jobs_of(document)["build:recipes/top"]["needs"]] == [
        "build:recipes/left", "build:recipes/right"]


def test_nothing_to_build_is_still_a_valid_pipeline(run_cli, diamond):
    schema = validator()
    document = load_yaml(pipeline(run_cli, diamond, "--changed-since", "HEAD"))
    assert list(jobs_of(document)) == [NOTHING_JOB]
    job = document[NOTHING_JOB]
    assert job["script"] == ["echo 'nothing to build: 0 selected targets up to date in "
                             "cache/channel'"]
    assert job["variables"] == {"GIT_STRATEGY": "none"}
    assert list(schema.iter_errors(document)) == []


def test_a_workspace_below_the_checkout_root_is_addressed_by_its_path(run_cli, diamond):
    result = run_cli(["-C", "ws", "pipeline", "gitlab", "--offline", "//recipes/alone",
                      "--full"], cwd=diamond.parent)
    assert result.code == 0, result.err
    job = jobs_of(load_yaml(result.out))["build:recipes/alone"]
    assert job["script"] == [
        "orchestrate -C ws build --only --junit junit.xml --full //recipes/alone"]
    assert job["artifacts"]["paths"] == ["ws/cache/channel/", "ws/cache/builds/**/build.log"]


def test_a_channel_outside_the_checkout_is_a_one_line_error(run_cli, make_workspace, tmp_path):
    root = make_workspace({**generic("alone"),
                           "WORKSPACE.toml": '[workspace]\nname = "x"\n[channels]\n'
                                             f'target = "{tmp_path}/elsewhere"\n'})
    result = run_cli(["pipeline", "gitlab", "--offline"], cwd=root)
    assert result.code == 2
    assert result.err.startswith(f"error: {root}/WORKSPACE.toml: channels.target (")
    assert "outside" in result.err and len(result.err.splitlines()) == 1


def test_job_names_are_unique_and_within_gitlabs_limit():
    assert job_name("//recipes/python-attrs") == "build:recipes/python-attrs"
    long_a, long_b = "//recipes/" + "a" * 300, "//recipes/" + "a" * 299 + "b"
    assert len(job_name(long_a)) == MAX_JOB_NAME and job_name(long_a) != job_name(long_b)


def test_settings_shape_the_commands():
    from orchestrator.plan import Plan, PlanNode

    node = PlanNode("//recipes/x", "0" * 64, "build", ("not in channel c",), (), ())
    plan = Plan("linux-64", "c", {"//recipes/x": node}, ("//recipes/x",))
    document = pipeline_document(plan, PipelineSettings(command=("python", "-m", "orchestrator")))
    assert document["build:recipes/x"]["script"] == [
        "python -m orchestrator -C . build --only --junit junit.xml //recipes/x"]


def test_the_documented_parent_pipeline_is_valid_and_the_same_in_both_places():
    import re
    import textwrap

    from orchestrator.commands import pipeline as command

    schema = validator()
    docstring = "\n".join(line for line in command.__doc__.splitlines()
                          if line.startswith("    ") or not line.strip())
    in_code = textwrap.dedent("    stages:" + docstring.split("    stages:", 1)[1])
    docs = (Path(__file__).resolve().parents[1] / "docs/distributed.md").read_text()
    in_docs = re.search(r"```yaml\n(stages:.*?)```", docs, re.S).group(1)
    parent = load_yaml(in_code)
    assert parent == load_yaml(in_docs)
    assert parent["stages"] == ["plan", "build"]
    assert parent["build"]["trigger"]["include"] == [{"artifact": "child.yml", "job": "plan"}]
    assert list(schema.iter_errors(parent)) == []


def test_a_served_target_channel_makes_jobs_upload_instead_of_passing_artifacts():
    from orchestrator.gitlab import PipelineSettings, build_job
    from orchestrator.plan import Plan, PlanNode

    nodes = {"//a": PlanNode("//a", "1" * 64, "build", (), (), ()),
             "//b": PlanNode("//b", "2" * 64, "build", (), (), ("//a",))}
    plan = Plan("linux-64", "https://conda.example/testing", nodes, ("//a", "//b"))
    job = build_job(plan, "//b", PipelineSettings(channel="https://conda.example/testing",
                                                  remote=True))
    assert job["needs"] == [{"job": "build:a", "artifacts": False}]
    assert job["artifacts"]["paths"] == ["cache/builds/**/build.log"]
    local = build_job(plan, "//b", PipelineSettings())
    assert local["needs"] == [{"job": "build:a", "artifacts": True}]
    assert "cache/channel/" in local["artifacts"]["paths"]
