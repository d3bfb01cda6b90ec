"""`orchestrate lint --built DIR`: the linking rules on real packages compiled with the system gcc.

Given libfoo (a shared library), `bar` whose library links libfoo without run-requiring it and
`baz` that links libfoo and run-requires it and libunused (a library it does not link), built
into a channel while `[build] system_libs` still allowed libfoo, when the workspace's rules no
longer allow it and `lint --built` looks at the channel, then bar is an error naming its ELF
file and libfoo.so, baz's unused requirement is a warning (once enabled), and an output with no
package in the directory is said as such.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import linking
import pytest
from orchestrator import linkcheck

pytestmark = pytest.mark.slow


def library(name: str, **links) -> str:
    """linking.library with what the example organization's lint rules want besides."""
    return (linking.library(name, **links)
            + "about:\n  homepage: https://example.invalid\n  summary: s\n  license: MIT\n"
            + f"tests:\n  - script: [test -f $PREFIX/lib/lib{name}.so]\n")


BUILD_ALLOWS_FOO = ('[workspace]\nname = "links"\n[build]\ntimeout = 600\n'
                    'system_libs = ["libc.so.6", "libfoo.so"]\n')
LINT_ONLY = '[workspace]\nname = "links"\n[lint]\nenable = ["overdepending"]\n'
FILES = {
    "WORKSPACE.toml": BUILD_ALLOWS_FOO,
    ".gitignore": "cache/\n",
    "recipes/libfoo/recipe.yaml": library("foo"),
    "recipes/libunused/recipe.yaml": library("unused"),
    "recipes/bar/recipe.yaml": library("bar", host=("foo",), links="foo"),
    "recipes/baz/recipe.yaml": library("baz", host=("foo",), run=("foo", "unused"), links="foo"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The workspace, built once into cache/channel."""
    from conftest import commit_all, git, write_files

    root = tmp_path_factory.mktemp("links") / "ws"
    root.mkdir()
    write_files(root, FILES)
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    argv = [sys.executable, "-m", "orchestrator", "-C", str(root), "build", "--keep-going"]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    (root / "WORKSPACE.toml").write_text(LINT_ONLY)
    return root


def findings(run_cli, root: Path, *args: str) -> tuple[int, list[dict]]:
    result = run_cli(["-C", root, "lint", "--format", "json", *args])
    assert not result.err, result.err
    return result.code, json.loads(result.out)


def test_overlinking_is_an_error_naming_the_file_and_the_library(built, run_cli):
    code, found = findings(run_cli, built, "--built", built / "cache/channel")
    assert code == 1
    errors = [f for f in found if f["severity"] == "error"]
    (bar,) = errors
    assert bar["rule"] == "linked-libraries" and bar["file"] == "recipes/bar/recipe.yaml"
    assert bar["message"].endswith(".conda:lib/libbar.so needs libfoo.so")
    assert bar["message"].split(": ")[-1].startswith("bar-1.0.0-")
    assert bar["line"] == 10  # the `requirements:` line (bar has no run section)
    (unused,) = [f for f in found if f["rule"] == "overdepending"]
    assert unused["file"] == "recipes/baz/recipe.yaml" and unused["message"].endswith(": unused")
    assert unused["severity"] == "warning"


def test_text_output_is_one_line_per_finding(built, run_cli):
    result = run_cli(["-C", built, "lint", "--built", built / "cache/channel", "//recipes/bar"])
    assert result.code == 1
    (line,) = result.out.splitlines()
    assert line.startswith("recipes/bar/recipe.yaml:10: linked-libraries ")
    assert "needs libfoo.so (hint: " in line


def test_without_built_the_linking_rules_do_not_run(built, run_cli):
    code, found = findings(run_cli, built)
    assert code == 0 and found == []


def test_a_directory_of_package_files_and_an_output_not_built(built, run_cli, tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    for package in (built / "cache/channel").glob("*/baz-*.conda"):
        shutil.copy2(package, loose)
    for package in [*(built / "cache/channel").glob("*/foo-*.conda"),
                    *(built / "cache/channel").glob("*/unused-*.conda")]:
        shutil.copy2(package, loose)
    code, found = findings(run_cli, built, "--built", loose, "//recipes/bar", "//recipes/baz")
    assert code == 0
    assert [(f["file"], f["rule"]) for f in found] == [
        ("recipes/bar/recipe.yaml", "built-package"), ("recipes/baz/recipe.yaml", "overdepending")]
    assert found[0]["message"].endswith(": bar") and found[0]["line"] == 2


def test_newest_package_wins(built):
    channel = built / "cache/channel"
    newest = linkcheck.newest_packages(channel, ["foo", "bar", "nothing"])
    assert set(newest) == {"foo", "bar"}
    assert newest["bar"].name.startswith("bar-1.0.0-") and newest["bar"].is_file()


def test_a_missing_directory_is_one_line(built, run_cli):
    result = run_cli(["-C", built, "lint", "--built", built / "no-such-dir"])
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"error: lint --built {built / 'no-such-dir'}: not a directory (a channel, or package "
        "files)"]
