"""Helpers (no tests): a real HTTP server on 127.0.0.1 answering like PyPI's JSON API from the
responses recorded in tests/data/pypi (re-recorded with tests/data/pypi/record.py), plus any
extra routes a test adds (GitHub's releases API, directory listings, files).

`/pypi/<name>/json` and `/pypi/<name>/<version>/json` (names compared as PEP 503 normalises
them), `/files/<file>` and `/packages/source/<c>/<name>/<file>` from tests/data/pypi/files;
`@BASE@` in a recorded URL becomes the server's own address.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from contextlib import contextmanager
from pathlib import Path

DATA = Path(__file__).parent / "data" / "pypi"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def recorded() -> dict[str, dict]:
    return {normalized(p.stem): json.loads(p.read_text()) for p in (DATA / "json").glob("*.json")}


class PyPIServer:
    def __init__(self):
        self.documents = recorded()
        self.routes: dict[str, bytes] = {}
        self.hits: list[str] = []
        self.base = ""

    def answer(self, path: str) -> bytes | None:
        if path in self.routes:
            return self.routes[path]
        parts = path.strip("/").split("/")
        if parts[0] in ("files", "packages") and (DATA / "files" / parts[-1]).is_file():
            return (DATA / "files" / parts[-1]).read_bytes()  # also /packages/source/x/y/FILE
        if parts[0] == "pypi" and parts[-1] == "json" and len(parts) in (3, 4):
            return self._document(parts[1], parts[2] if len(parts) == 4 else None)
        return None

    def _document(self, name: str, version: str | None) -> bytes | None:
        document = self.documents.get(normalized(name))
        if document is None or (version and version not in document["releases"]):
            return None
        if version:
            files = document["releases"][version]
            document = {**document, "info": {**document["info"], "version": version},
                        "urls": files}
        return json.dumps(document).replace("@BASE@", self.base).encode()


@contextmanager
def pypi_server():
    """Yields a started PyPIServer (`.base` is its URL); stopped afterwards."""
    server = PyPIServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            server.hits.append(self.path)
            body = server.answer(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.base = f"http://127.0.0.1:{httpd.server_port}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
