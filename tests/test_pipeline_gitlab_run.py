"""A generated child pipeline, run job by job the way GitLab runs it: each job in a fresh clone
of the repository, the artifacts of the jobs it `needs` unpacked over each other into it, its
`script` run by a shell, its `artifacts: paths` kept for the jobs after it. Real rattler-build
builds; no GitLab (it cannot exist here), so the runner is this test's small loop."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import git
from ruamel.yaml import YAML
from test_pipeline_gitlab import generic

pytestmark = pytest.mark.slow

WORKSPACE = '[workspace]\nname = "ci"\n[build]\ntimeout = 600\n'
TOP_LEVEL = ("stages", "variables", "default")


@pytest.fixture
def repo(make_workspace):
    """The diamond (top needs left and right, both need base) and //recipes/alone."""
    files = {"WORKSPACE.toml": WORKSPACE, ".gitignore": "cache/\njunit.xml\n"}
    for part in (generic("base"), generic("left", "base"), generic("right", "base"),
                 generic("top", "left", "right"), generic("alone")):
        files.update(part)
    return make_workspace(files, name="origin")


def shell_env() -> dict[str, str]:
    """The job's image: `orchestrate` on PATH (this venv's)."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def clone(repo: Path, where: Path) -> Path:
    git(repo.parent, "clone", "-q", str(repo), str(where))
    return where


def unpack(artifact: Path, project: Path) -> None:
    """GitLab extracts each needed artifact over the project dir: later files win."""
    shutil.copytree(artifact, project, dirs_exist_ok=True)


def keep(paths: list[str], project: Path, artifact: Path) -> None:
    for pattern in paths:
        for match in glob.glob(pattern, root_dir=project, recursive=True):
            source = project / match
            copy = shutil.copytree if source.is_dir() else shutil.copy2
            (artifact / match).parent.mkdir(parents=True, exist_ok=True)
            copy(source, artifact / match, **({"dirs_exist_ok": True} if source.is_dir() else {}))


def run_job(name: str, job: dict, repo: Path, work: Path) -> subprocess.CompletedProcess:
    project = clone(repo, work / "jobs" / name.replace(":", "_").replace("/", "_"))
    for need in job["needs"]:
        assert need["artifacts"] is True
        unpack(work / "artifacts" / need["job"].replace("/", "_"), project)
    done = subprocess.run(["sh", "-c", "\n".join(job["script"])], cwd=project,
                          env=shell_env(), capture_output=True, text=True, timeout=900)
    keep(job["artifacts"]["paths"], project, work / "artifacts" / name.replace("/", "_"))
    return done


def packages(channel: Path) -> set[str]:
    return {p.name.split("-1.0-")[0] for p in channel.glob("noarch/*.conda")}


def listed(channel: Path) -> set[str]:
    data = json.loads((channel / "noarch/repodata.json").read_text())
    return {name.split("-1.0-")[0] for name in data["packages.conda"]}


def test_the_child_pipeline_builds_each_target_once_from_its_needs_artifacts(repo, tmp_path):
    generated = subprocess.run(
        ["orchestrate", "pipeline", "gitlab"], cwd=repo, env=shell_env(),
        capture_output=True, text=True, timeout=300, check=True,
    )
    jobs = {k: v for k, v in YAML(typ="safe").load(generated.stdout).items()
            if k not in TOP_LEVEL}
    assert len(jobs) == 5
    for name, job in jobs.items():  # file order is plan order: a valid order for GitLab too
        done = run_job(name, job, repo, tmp_path)
        assert done.returncode == 0, f"{name}\n{done.stdout}\n{done.stderr}"
        project = tmp_path / "jobs" / name.replace(":", "_").replace("/", "_")
        cases = ElementTree.parse(project / "junit.xml").getroot().findall("testsuite/testcase")
        assert [c.get("name") for c in cases] == [job["script"][0].split()[-1]]
    top = tmp_path / "artifacts" / "build:recipes_top" / "cache/channel"
    # left's and right's artifacts both carry a repodata.json; the last one unpacked listed
    # only base and right, and the build re-indexed the merged channel before planning
    assert packages(top) == listed(top) == {"base", "left", "right", "top"}
    assert packages(tmp_path / "artifacts" / "build:recipes_alone" / "cache/channel") == {"alone"}


def test_only_refuses_to_pull_in_a_dependency_no_channel_has(repo, tmp_path):
    project = clone(repo, tmp_path / "job")
    done = subprocess.run(["orchestrate", "build", "--only", "//recipes/left"], cwd=project,
                          env=shell_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: channel ")
    assert "//recipes/base" in done.stderr and "required by //recipes/left" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert list((project / "cache/channel").glob("*/*.conda")) == []  # nothing was built
