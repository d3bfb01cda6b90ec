"""The linking check after each build, on real packages built by rattler-build with the system gcc.

Given libfoo (a shared library), `bar` whose library links libfoo but does not run-require it,
and `baz` that links libfoo and run-requires it and libunused (a library it does not link),
when the workspace builds, then bar fails with one line naming its file and libfoo.so, baz
succeeds with an overdepending warning, and check_package answers the same on the files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from linking import library
from orchestrator import linkcheck

pytestmark = pytest.mark.slow


FILES = {
    "WORKSPACE.toml": '[workspace]\nname = "links"\n[build]\ntimeout = 600\n',
    ".gitignore": "cache/\n",
    "recipes/libfoo/recipe.yaml": library("foo"),
    "recipes/libunused/recipe.yaml": library("unused"),
    "recipes/bar/recipe.yaml": library("bar", host=("foo",), links="foo"),
    "recipes/baz/recipe.yaml": library("baz", host=("foo",), run=("foo", "unused"), links="foo"),
}


def build(root: Path, *args: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "orchestrator", "-C", str(root), "build", "--keep-going", *args]
    return subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=900)


def test_overlinking_fails_the_build_and_overdepending_warns(make_workspace):
    root = make_workspace(FILES)
    done = build(root)
    assert done.returncode == 1, done.stdout + done.stderr
    (log,) = (root / "cache/builds/recipes--bar").glob("*/build.log")
    errors = [line for line in log.read_text().splitlines() if ": overlinking: " in line]
    assert len(errors) == 1
    assert errors[0].startswith("bar-1.0.0-")
    assert ".conda:lib/libbar.so: overlinking: needs libfoo.so" in errors[0]
    channel = root / "cache/channel/linux-64"
    assert not list(channel.glob("bar-*"))
    (baz,) = channel.glob("baz-*.conda")
    (log,) = (root / "cache/builds/recipes--baz").glob("*/build.log")
    assert f"warning: {baz.name}: overdepending: run requirement unused" in log.read_text()

    providers = linkcheck.channel_providers([channel.parent])
    assert providers["foo"] == frozenset({"libfoo.so"})
    assert linkcheck.check_package(baz, providers) == [
        linkcheck.LinkProblem("overdepending", baz.name, "unused")]
    assert linkcheck.check_package(baz, {}) == [
        linkcheck.LinkProblem("overlinking", f"{baz.name}:lib/libbaz.so", "libfoo.so")]
    assert linkcheck.check_package(baz, {}, system_libs=("libfoo.so*",)) == []
