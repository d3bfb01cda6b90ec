"""`orchestrate build` input errors and dry runs: no package is built here."""

from __future__ import annotations

import subprocess
import sys

RECIPE = {"recipes/tool/meta.yaml": (
    "package:\n  name: tool\n  version: 1.0\nbuild:\n  number: 0\n  noarch: generic\n"
)}


def test_dry_run_prints_the_plan_and_builds_nothing(make_workspace, run_cli):
    root = make_workspace(RECIPE)
    result = run_cli(["-C", root, "build", "--dry-run", "--offline"])
    assert result.code == 0, result.err
    assert "//recipes/tool" in result.out and "1 to build" in result.out
    assert not (root / "cache/builds").exists()


def test_dry_run_with_reports_is_refused_rather_than_silently_writing_nothing(
    make_workspace, run_cli
):
    root = make_workspace(RECIPE)
    result = run_cli(["-C", root, "build", "--dry-run", "--report", str(root / "r.json")])
    assert result.code == 2
    assert result.err.startswith("error: --dry-run builds nothing, so --report and --junit")
    assert not (root / "r.json").exists()


def test_a_remote_target_channel_cannot_be_built_into(make_workspace, run_cli):
    root = make_workspace({
        **RECIPE,
        "WORKSPACE.toml": '[workspace]\nname = "x"\n[channels]\ntarget = "https://example.invalid/c"\n',
    })
    result = run_cli(["-C", root, "build", "--offline"])
    assert result.code == 2
    assert result.err.startswith(f"error: {root}/WORKSPACE.toml: channels.target: https://")
    assert "Traceback" not in result.err


def test_jobs_must_be_positive(make_workspace):
    root = make_workspace(RECIPE)
    done = subprocess.run([sys.executable, "-m", "orchestrator", "-C", root, "build", "-j", "0"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "'0' is not a positive number of builds" in done.stderr


def test_a_report_can_be_written_when_nothing_is_built(make_workspace, run_cli, tmp_path):
    root = make_workspace({})
    result = run_cli(["-C", root, "build", "--offline", "--report", tmp_path / "r.json",
                      "--junit", tmp_path / "j.xml"])
    assert result.out == "nothing to build: 0 targets up to date\n"
    assert '"targets": []' in (tmp_path / "r.json").read_text()
    assert 'tests="0"' in (tmp_path / "j.xml").read_text()


def test_a_container_without_an_image_stops_before_building(make_workspace, run_cli):
    root = make_workspace({
        **RECIPE,
        "WORKSPACE.toml": '[workspace]\nname = "x"\n[build]\ncontainer = "docker"\n',
    })
    result = run_cli(["-C", root, "build", "--offline"])
    assert result.code == 2
    assert result.err == (f"error: {root}/WORKSPACE.toml: build.image: required when container "
                          "= 'docker' (target //recipes/tool)\n")
    assert not (root / "cache/builds").exists()
