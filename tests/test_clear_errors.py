"""Bad input and hostile environments end in one line `error: <file>: <what>` and exit 2: a
git source URL that git would read as an option, a git source that is not there, an empty
--changed-since, a root that does not exist, a full disk under cache/, a channel directory that
cannot be created, a build record of another shape (issue 9)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from orchestrator.cache import parse_record
from test_plan_support import ORG

GIT_SOURCE = """\
package:
  name: fromgit
  version: "1.0"
source:
  git_url: {url}
  git_rev: main
build:
  noarch: generic
"""


def one_error(result) -> str:
    assert result.code == 2, (result.out, result.err)
    (line,) = result.err.splitlines()
    assert line.startswith("error: ") and "Traceback" not in line
    return line


def test_a_git_url_that_git_would_read_as_an_option_runs_nothing(make_workspace, run_cli,
                                                                 tmp_path):
    marker = tmp_path / "upload-pack-ran"
    url = f'"--upload-pack=touch {marker}"'
    root = make_workspace({**ORG, "recipes/fromgit/meta.yaml": GIT_SOURCE.format(url=url)})
    line = one_error(run_cli(["-C", root, "plan"]))
    assert line.startswith(f"error: {Path('recipes/fromgit/meta.yaml')}: source: git source ")
    assert "may not start with '-'" in line
    assert not marker.exists()


def test_a_missing_git_source_says_what_git_said_first(make_workspace, run_cli, tmp_path):
    url = tmp_path / "no-such-repository"
    root = make_workspace({**ORG, "recipes/fromgit/meta.yaml": GIT_SOURCE.format(url=url)})
    line = one_error(run_cli(["-C", root, "plan"]))
    assert line.startswith("error: recipes/fromgit/meta.yaml: source: git ls-remote ")
    assert "does not appear to be a git repository" in line
    assert "the repository exists" not in line


@pytest.mark.parametrize("command", ["plan", "build"])
def test_an_empty_changed_since_is_an_error(make_workspace, run_cli, command):
    root = make_workspace(ORG)
    line = one_error(run_cli(["-C", root, command, "--changed-since", ""]))
    assert "--changed-since: the REF is empty" in line


def test_a_root_that_does_not_exist_is_an_error(make_workspace, run_cli):
    toml = '[workspace]\nname = "x"\nroots = ["recipes", "recipies"]\n'
    root = make_workspace({**ORG, "WORKSPACE.toml": toml})
    for command in ("plan", "graph", "build"):
        line = one_error(run_cli(["-C", root, command]))
        assert line == (f"error: {root / 'WORKSPACE.toml'}: workspace.roots: 'recipies' is "
                        "not a directory of the workspace")


@pytest.fixture
def full_cache(make_workspace):
    """A workspace whose cache/ is a 16 kB tmpfs, full (we are root in CI: a mount works)."""
    root = make_workspace(ORG)
    cache = root / "cache"
    cache.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(cache)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    (cache / "filler").write_bytes(b"\0" * 12 * 1024)
    try:
        yield root
    finally:
        subprocess.run(["umount", str(cache)], check=True)


def test_plan_and_graph_on_a_full_disk_name_the_file(full_cache, run_cli):
    for command in ("plan", "graph"):
        line = one_error(run_cli(["-C", full_cache, command]))
        assert line.startswith(f"error: {full_cache / 'cache' / 'render'}/")
        assert line.endswith(": cannot write: No space left on device")
        assert [p.name for p in (full_cache / "cache").rglob("*.tmp-*")] == []


def test_a_channel_directory_that_cannot_be_created_is_one_line(make_workspace, run_cli):
    toml = '[workspace]\nname = "x"\n[channels]\ntarget = "WORKSPACE.toml/channel"\n'
    root = make_workspace({**ORG, "WORKSPACE.toml": toml})
    line = one_error(run_cli(["-C", root, "build"]))
    assert line.startswith(f"error: channel {root / 'WORKSPACE.toml' / 'channel'}")


def test_a_read_only_channel_is_one_line(make_workspace, run_cli, tmp_path):
    channel = tmp_path / "ro-channel"
    channel.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(channel)],
                   check=False, capture_output=True)
    if not os.path.ismount(channel):
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        toml = f'[workspace]\nname = "x"\n[channels]\ntarget = "{channel}"\n'
        root = make_workspace({**ORG, "WORKSPACE.toml": toml})
        line = one_error(run_cli(["-C", root, "build"]))
        assert str(channel) in line and "Read-only file system" in line
    finally:
        subprocess.run(["umount", str(channel)], check=True)


@pytest.mark.parametrize("data", [
    [], "record", {"target": "//x"},
    {"target": "//x", "hash": "h", "result": "success", "duration": "fast"},
    {"target": "//x", "hash": "h", "result": "success", "duration": 1.0, "artifacts": 5},
    {"target": "//x", "hash": "h", "result": "success", "duration": 1.0, "timestamp": 3},
    {"target": "//x", "hash": "h", "result": "success", "duration": True},
])
def test_a_build_record_of_another_shape_is_no_record(data):
    assert parse_record(data) is None


def test_a_build_record_of_the_right_shape_is_read():
    record = parse_record({"target": "//x", "hash": "h", "result": "success", "duration": 2,
                           "artifacts": ["noarch/x-1-h_0.conda"], "timestamp": "2026"})
    assert record.duration == 2.0 and record.artifacts == ("noarch/x-1-h_0.conda",)
