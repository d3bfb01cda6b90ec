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
from orchestrator import linkcheck

pytestmark = pytest.mark.slow


def library(name: str, *, host: tuple[str, ...] = (), run: tuple[str, ...] = (),
            links: str = "") -> str:
    """A v1 recipe compiling lib<name>.so from one C file with the system's gcc."""
    requirements = "".join([
        "requirements:\n",
        "  host:\n" + "".join(f"    - {h}\n" for h in host) if host else "",
        "  run:\n" + "".join(f"    - {r}\n" for r in run) if run else "",
    ]) if host or run else ""
    flags = f"-L$PREFIX/lib -l{links}" if links else ""
    body = f"int {links}_value(void); int {name}_value(void) {{ return {links}_value(); }}" if (
        links) else f"int {name}_value(void) {{ return 1; }}"
    return (
        f"package:\n  name: {name}\n  version: 1.0.0\n"
        "build:\n  number: 0\n  script:\n"
        "    - mkdir -p $PREFIX/lib\n"
        f"    - printf '{body}\\n' > {name}.c\n"
        f"    - gcc -shared -fPIC -o $PREFIX/lib/lib{name}.so {name}.c {flags}\n"
        + requirements
    )


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
