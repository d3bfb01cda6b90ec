"""`orchestrate fetch`: url sources of recipes downloaded into the source cache, verified."""

from __future__ import annotations

import hashlib

import pytest

TARBALL = b"a source tarball\n" * 64
SHA = hashlib.sha256(TARBALL).hexdigest()


@pytest.fixture
def server(serve_files):
    """Serves TARBALL at /tool-1.0.tar.gz on 127.0.0.1; records every request."""
    return serve_files({"/tool-1.0.tar.gz": TARBALL})


def recipe(name: str, url: str, sha: str) -> dict[str, str]:
    return {f"recipes/{name}/meta.yaml": (
        f"package:\n  name: {name}\n  version: 1.0\n"
        f"source:\n  url: {url}\n  sha256: {sha}\n"
        "build:\n  number: 0\n  noarch: generic\n"
    )}


def test_fetch_downloads_each_source_once(make_workspace, run_cli, server):
    base, hits = server
    root = make_workspace({**recipe("tool", f"{base}/tool-1.0.tar.gz", SHA),
                           **recipe("other", f"{base}/tool-1.0.tar.gz", SHA)})
    result = run_cli(["-C", root, "fetch"])
    assert result.code == 0, result.err
    cached = root / "cache/sources" / SHA / "tool-1.0.tar.gz"
    assert cached.read_bytes() == TARBALL
    assert f"//recipes/tool: cache/sources/{SHA}/tool-1.0.tar.gz" in result.out.splitlines()
    assert run_cli(["-C", root, "fetch", "//recipes/tool"]).code == 0
    assert hits == ["/tool-1.0.tar.gz"]


def test_fetch_names_each_bad_source_and_fails(make_workspace, run_cli, server):
    base, _ = server
    root = make_workspace({**recipe("wrong", f"{base}/tool-1.0.tar.gz", "0" * 64),
                           **recipe("gone", f"{base}/gone-1.0.tar.gz", SHA)})
    result = run_cli(["-C", root, "fetch"])
    assert result.code == 2
    gone, wrong = result.err.splitlines()
    assert gone.startswith("error: recipes/gone/meta.yaml: ") and "download failed" in gone
    assert wrong.startswith("error: recipes/wrong/meta.yaml: ") and "sha256 mismatch" in wrong
    assert not (root / "cache/sources" / ("0" * 64) / "tool-1.0.tar.gz").exists()
