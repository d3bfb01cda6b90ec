"""Plan → GitLab CI child pipeline: one job per target to build, `needs:` mirroring the plan.

Pure: a Plan and a few settings in, the pipeline document (plain dicts) and its YAML out. Each
job runs `orchestrate build --only <target>`: exactly that target, into the workspace's local
target channel. Packages travel between jobs as GitLab artifacts: a job's artifact is its whole
channel directory, and a job `needs` (with artifacts) the jobs of its workspace dependencies
built in the same pipeline, so it starts from a channel holding everything it depends on
(every dependency's artifact holds that dependency's own dependencies in turn). Several
artifacts unpacked into one directory leave one of their repodata.json files:
`orchestrate build` re-indexes a local channel whose files and repodata.json disagree.
With a served (http) target channel (`remote`), each job uploads its packages and the next
reads them from the server: `needs:` only orders the jobs and artifacts keep only the logs.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from typing import Any

from orchestrator.plan import Plan

STAGE = "build"
JOB_PREFIX = "build:"
MAX_JOB_NAME = 255  # GitLab's limit
JUNIT = "junit.xml"
NOTHING_JOB = "nothing-to-build"
RETRY = {"max": 2, "when": ["runner_system_failure"]}
EXPIRE_IN = "1 week"
LINT_STAGE = "lint"
LINT_JOB = "lint:recipes"


@dataclass(frozen=True)
class PipelineSettings:
    """Where things are, relative to the project directory (the root of the git checkout)."""

    workspace: str = "."  # the workspace root
    channel: str = "cache/channel"  # the target channel directory
    image: str = ""  # the jobs' image ("": the runner's default)
    full: bool = False  # rebuild even what a channel has (as `--full` planned it)
    command: tuple[str, ...] = ("orchestrate",)  # how the jobs' image runs orchestrate
    remote: bool = False  # the target is a served channel: jobs upload, no channel artifacts
    lint: bool = False  # add the `orchestrate lint` job (its own stage, needs nothing)


def job_name(target: str) -> str:
    """`//recipes/python-attrs` → `build:recipes/python-attrs` (unique, at most 255 chars)."""
    name = JOB_PREFIX + re.sub(r"\s+", "_", target.removeprefix("//"))
    if len(name) <= MAX_JOB_NAME:
        return name
    digest = hashlib.sha256(target.encode()).hexdigest()[:10]
    return f"{name[:MAX_JOB_NAME - 11]}-{digest}"


def pipeline_document(plan: Plan, settings: PipelineSettings) -> dict[str, Any]:
    """The child pipeline: top-level settings, then one job per target in plan order."""
    jobs = {job_name(t): build_job(plan, t, settings) for t in plan.order}
    if settings.lint:
        jobs = {LINT_JOB: lint_job(settings), **jobs}
    return {**_header(settings), **(jobs or {NOTHING_JOB: nothing_job(plan, settings)})}


def _header(settings: PipelineSettings) -> dict[str, Any]:
    default: dict[str, Any] = {"image": settings.image} if settings.image else {}
    default.update({"interruptible": True, "retry": dict(RETRY)})
    # hashes include `git describe`: every job needs the whole history, as the parent had
    stages = [LINT_STAGE, STAGE] if settings.lint else [STAGE]
    return {"stages": stages, "variables": {"GIT_DEPTH": "0"}, "default": default}


def build_job(plan: Plan, target: str, settings: PipelineSettings) -> dict[str, Any]:
    building = set(plan.order)
    deps = [d for d in plan.nodes[target].deps if d in building]
    return {
        "stage": STAGE,
        "needs": [{"job": job_name(d), "artifacts": not settings.remote} for d in sorted(deps)],
        "script": [build_command(target, settings)],
        "artifacts": {
            "when": "always",
            "expire_in": EXPIRE_IN,
            "paths": _artifact_paths(settings),
            "reports": {"junit": JUNIT},
        },
    }


def _artifact_paths(settings: PipelineSettings) -> list[str]:
    logs = f"{_under(settings.workspace, 'cache/builds')}/**/build.log"
    return [logs] if settings.remote else [f"{_under(settings.workspace, settings.channel)}/",
                                           logs]


def lint_job(settings: PipelineSettings) -> dict[str, Any]:
    """`orchestrate lint` of every recipe: fails on an error-level rule; JSON kept for review."""
    argv = [*settings.command, "-C", settings.workspace, "lint"]
    return {
        "stage": LINT_STAGE,
        "needs": [],
        "script": [shlex.join([*argv, "--format", "json"]) + " > lint.json || true",
                   shlex.join(argv)],
        "artifacts": {"when": "always", "expire_in": EXPIRE_IN, "paths": ["lint.json"]},
    }


def build_command(target: str, settings: PipelineSettings) -> str:
    argv = [*settings.command, "-C", settings.workspace, "build", "--only", "--junit", JUNIT]
    argv += ["--full"] if settings.full else []
    return shlex.join([*argv, target])


def _under(workspace: str, path: str) -> str:
    return path if workspace in ("", ".") else f"{workspace.rstrip('/')}/{path}"


def nothing_job(plan: Plan, settings: PipelineSettings) -> dict[str, Any]:
    """GitLab refuses a pipeline without jobs: one that says why there is nothing to do."""
    channel = settings.channel if settings.remote else _under(settings.workspace,
                                                                settings.channel)
    message = f"nothing to build: {len(plan.nodes)} selected targets up to date in {channel}"
    return {
        "stage": STAGE,
        "variables": {"GIT_STRATEGY": "none"},
        "script": [shlex.join(["echo", message])],
    }


def pipeline_yaml(document: dict[str, Any]) -> str:
    """The document as YAML, keys in the document's order (deterministic), a blank line
    between top-level entries."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.width = 4096  # one line per script command
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return re.sub(r"\n(?=\S)", "\n\n", buffer.getvalue())
