"""`orchestrate pipeline gitlab [TARGETS...]`: the plan as a GitLab CI child pipeline (YAML).

One job per target to build, `needs:` mirroring the plan's dependency edges, packages passed
between jobs as artifacts of the workspace's target channel (see gitlab.py). Paths in the
pipeline are relative to the directory this runs in: run it at the root of the checkout.
The parent pipeline generates the child and triggers it:

    stages: [plan, build]

    plan:
      stage: plan
      image: $ORCHESTRATE_IMAGE
      variables: {GIT_DEPTH: "0"}
      script:
        - git fetch --quiet origin "$CI_DEFAULT_BRANCH"
        - orchestrate pipeline gitlab --changed-since FETCH_HEAD --dependents --output child.yml
      artifacts:
        paths: [child.yml]

    build:
      stage: build
      needs: [plan]
      trigger:
        include:
          - artifact: child.yml
            job: plan
        strategy: depend
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from orchestrator.commands._plan_options import add_plan_options, plan_request, workspace_of
from orchestrator.errors import WorkspaceError
from orchestrator.workspace import WORKSPACE_FILE, Workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    engines = parser.add_subparsers(dest="engine", metavar="ENGINE", required=True)
    gitlab = engines.add_parser("gitlab", help="a GitLab CI child pipeline (YAML)",
                                description="the plan as a GitLab CI child pipeline")
    add_plan_options(gitlab)
    gitlab.add_argument("--image", help="the jobs' image (default: [build] image, else the "
                                        "runner's default)")
    gitlab.add_argument("--lint", action="store_true",
                        help="add a job running `orchestrate lint` (stage lint)")
    gitlab.add_argument("--output", type=Path, metavar="FILE",
                        help="write the pipeline to FILE (default: stdout)")


def run(args: argparse.Namespace) -> int:
    from orchestrator import gitlab
    from orchestrator.commands.plan import warn
    from orchestrator.planning import compute_plan
    from orchestrator.serve.remote import planning_workspace, remote_target

    workspace = workspace_of(args)
    remote = remote_target(workspace, None)  # jobs upload to a served channel themselves
    settings = pipeline_settings(workspace, Path.cwd(), args.image, args.full, remote is not None)
    planned = planning_workspace(workspace, remote) if remote else workspace
    if args.lint:
        import dataclasses

        settings = dataclasses.replace(settings, lint=True)
    _, plan = compute_plan(planned, plan_request(args))  # the graph snapshot when warm
    warn(plan.notices)
    text = gitlab.pipeline_yaml(gitlab.pipeline_document(plan, settings))
    _write(text, args.output)
    return 0


def pipeline_settings(workspace: Workspace, project_dir: Path, image: str | None,
                      full: bool, remote: bool = False):
    """Where the workspace and its channel are, relative to the project directory."""
    from orchestrator.gitlab import PipelineSettings
    from orchestrator.publish import local_channel

    root = _relative(workspace.root, project_dir, "the workspace", workspace)
    channel = workspace.target_channel.url if remote else _relative(
        local_channel(workspace), workspace.root, "channels.target", workspace)
    return PipelineSettings(workspace=root, channel=channel,
                            image=image or workspace.config.build.image, full=full,
                            remote=remote)


def _relative(path: Path, base: Path, what: str, workspace: Workspace) -> str:
    relative = Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    if relative == ".." or relative.startswith("../"):
        raise WorkspaceError(
            f"{workspace.root / WORKSPACE_FILE}: {what} ({path}) is outside {base}: GitLab jobs "
            "only pass files under the project directory as artifacts (hint: run `orchestrate "
            "pipeline` at the root of the checkout, with a target channel inside it)"
        )
    return relative


def _write(text: str, output: Path | None) -> None:
    import sys

    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"{output}: cannot write the pipeline: {exc.strerror}") from None
