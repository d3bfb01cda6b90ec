"""`orchestrate fetch`: url sources of recipes downloaded into the source cache, verified."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

TARBALL = b"a source tarball\n" * 64
SHA = hashlib.sha256(TARBALL).hexdigest()


@pytest.fixture
def server():
    """Serves TARBALL at /tool-1.0.tar.gz on 127.0.0.1; records every request."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            hits.append(self.path)
            if self.path != "/tool-1.0.tar.gz":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(TARBALL)))
            self.end_headers()
            self.wfile.write(TARBALL)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", hits
    httpd.shutdown()


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
