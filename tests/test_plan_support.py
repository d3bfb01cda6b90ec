"""Shared by the hashing, channels and plan tests (no tests here): a small organization of real
recipes, planning helpers, publishing planned outputs into a repodata.json, and a channel
served over HTTP on 127.0.0.1 with ETag revalidation.

The organization, by requirement:
  //recipes/zlib          (build.sh; a `# [win]` line)
  //recipes/libpng        host: zlib, run: zlib
  //recipes/python-attrs  noarch python
  //internal/own-util     path source; run: python-attrs
  //internal/own-app      path source; host: own-util; run: zlib (run only)
  //internal/own-cli      path source; run: own-app (run only)
  docs/README.md          nobody's input
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.plan import PlanRequest
from orchestrator.planning import compute_plan
from orchestrator.workspace import read_workspace

ZLIB = """\
    package:
      name: zlib
      version: "1.3"
    build:
      number: 0
    requirements:
      build:
        - make
        - vs2019  # [win]
    # a comment nobody builds from
    """

LIBPNG = """\
    package:
      name: libpng
      version: "1.6.43"
    build:
      number: 2
    requirements:
      host:
        - zlib
      run:
        - zlib
    """

ATTRS = """\
    package:
      name: python-attrs
      version: "23.2.0"
    build:
      noarch: python
    requirements:
      host:
        - pip
    """


def internal(name: str, host: str = "", run: str = "") -> dict[str, str]:
    module = name.replace("-", "_")
    recipe = f"""\
        package:
          name: {name}
          version: "0.1.0"
        source:
          path: ..
        build:
          noarch: python
        requirements:
          host:
            - pip
            {f"- {host}" if host else ""}
          run:
            {f"- {run}" if run else "[]"}
        """
    return {
        f"internal/{name}/conda/meta.yaml": recipe,
        f"internal/{name}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "0.1.0"\n',
        f"internal/{name}/src/{module}/__init__.py": "",
        f"internal/{name}/src/{module}/core.py": "def answer():\n    return 42\n",
        f"internal/{name}/tests/test_core.py": "def test_answer():\n    assert True\n",
    }


ORG: dict[str, str] = {
    ".gitignore": "cache/\n__pycache__/\n*.log\n",
    "recipes/zlib/meta.yaml": ZLIB,
    "recipes/zlib/build.sh": "./configure --prefix=$PREFIX && make install\n",
    "recipes/libpng/meta.yaml": LIBPNG,
    "recipes/python-attrs/meta.yaml": ATTRS,
    **internal("own-util", run="python-attrs"),
    **internal("own-app", host="own-util", run="zlib"),
    **internal("own-cli", run="own-app"),
    "docs/README.md": "# acme\n",
}
TARGETS = (
    "//internal/own-app", "//internal/own-cli", "//internal/own-util",
    "//recipes/libpng", "//recipes/python-attrs", "//recipes/zlib",
)


def hashes(root: Path) -> dict[str, str]:
    """target → hash of every target, through the real planning I/O."""
    _, plan = compute_plan(read_workspace(root), PlanRequest(full=True))
    return {t: n.hash for t, n in plan.nodes.items()}


def changed_targets(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {t for t in before if before[t] != after[t]}


def plan_json(run_cli, root: Path, *args: str) -> dict:
    result = run_cli(["-C", root, "plan", "--format", "json", *args])
    assert result.code == 0, result.err
    return json.loads(result.out)


def actions(document: dict) -> dict[str, str]:
    return {n["target"]: n["action"] for n in document["nodes"]}


def reasons(document: dict) -> dict[str, list[str]]:
    return {n["target"]: n["reasons"] for n in document["nodes"]}


def publish_outputs(channel: Path, nodes: list[dict]) -> None:
    """Write repodata.json records (valid conda package records) for the nodes' outputs."""
    by_subdir: dict[str, dict] = {"noarch": {}, "linux-64": {}}
    for node in nodes:
        for out in node["outputs"]:
            by_subdir[out["subdir"]][out["filename"]] = package_record(out)
    for subdir, records in by_subdir.items():
        repodata = {"info": {"subdir": subdir}, "packages": {}, "packages.conda": records,
                    "repodata_version": 1}
        (channel / subdir).mkdir(parents=True, exist_ok=True)
        (channel / subdir / "repodata.json").write_text(json.dumps(repodata, indent=1))
        for filename, record in records.items():  # a listed file must be there (issue 9)
            (channel / subdir / filename).write_bytes(b"\0" * record["size"])


def package_record(out: dict) -> dict:
    number = int(out["build"].rsplit("_", 1)[1])
    fake = hashlib.sha256(out["filename"].encode()).hexdigest()
    return {
        "name": out["name"], "version": out["version"], "build": out["build"],
        "build_number": number, "subdir": out["subdir"], "depends": [],
        "sha256": fake, "md5": fake[:32], "size": 1234,
        **({"noarch": "python"} if out["subdir"] == "noarch" else {}),
    }


class Requests(list):
    """(method, path, status) of every request the server answered."""


@contextmanager
def serve_channel(directory: Path) -> Iterator[tuple[str, Requests]]:
    """An HTTP server on 127.0.0.1 serving `directory` with ETags and 304 revalidation."""
    seen = Requests()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def etag(self) -> str | None:
            file = Path(self.translate_path(self.path))
            if not file.is_file():
                return None
            return '"' + hashlib.blake2b(file.read_bytes(), digest_size=8).hexdigest() + '"'

        def send_head(self):
            if self.etag() is not None and self.headers.get("If-None-Match") == self.etag():
                self.send_response(304)
                self.end_headers()
                return None
            return super().send_head()

        def end_headers(self):
            if self.etag() is not None:
                self.send_header("ETag", self.etag())
            super().end_headers()

        def log_request(self, code="-", size="-"):
            seen.append((self.command, self.path, int(code)))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
