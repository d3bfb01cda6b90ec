"""Helpers for the channel service's tests: a real uvicorn server on 127.0.0.1, tiny packages
built by rattler-build from a trivial recipe, and HTTP requests with urllib."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNNER = REPO_ROOT / "tools" / "orchestrator" / "builders" / "rattler_build_runner.py"
TINY_RECIPE = """\
package:
  name: {name}
  version: "1.0.${{{{ n }}}}"
build:
  noarch: generic
  script:
    - mkdir -p $PREFIX/share/{name}
    - echo ${{{{ n }}}} > $PREFIX/share/{name}/n.txt
"""


def build_tiny_packages(directory: Path, count: int, name: str = "tiny") -> list[Path]:
    """`count` noarch packages `<name>-1.0.<n>` built for real by rattler-build."""
    directory.mkdir(parents=True, exist_ok=True)
    recipe = directory / "recipe.yaml"
    recipe.write_text(TINY_RECIPE.format(name=name), encoding="utf-8")
    variants = [f"--variant=n={n}" for n in range(1, count + 1)]
    subprocess.run([sys.executable, str(RUNNER), "--recipe", str(recipe), "--output-dir",
                    str(directory / "out"), "--test", "skip", *variants],
                   check=True, capture_output=True)
    packages = sorted((directory / "out" / "noarch").glob(f"{name}-*.conda"))
    assert len(packages) == count
    return packages


class Server:
    """uvicorn serving `create_app(config)` in a thread on a free port of 127.0.0.1."""

    def __init__(self, config):
        import uvicorn
        from orchestrator.serve.app import create_app
        from orchestrator.serve.config import ensure_channels

        ensure_channels(config)
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(config), access_log=False,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info):
        self.server.should_exit = True
        self.thread.join(20)
        self.socket.close()


def request(url: str, data: bytes | None = None, token: str | None = None,
            method: str | None = None, headers: dict | None = None):
    """(status, body bytes, headers) of one request; HTTP errors are answers, not exceptions."""
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def upload(server_url: str, channel: str, package: Path, token: str | None,
           name: str | None = None):
    url = f"{server_url}/api/channels/{channel}/upload?filename={name or package.name}"
    return request(url, package.read_bytes(), token, "POST")


def post_json(server_url: str, channel: str, action: str, body: dict, token: str | None):
    url = f"{server_url}/api/channels/{channel}/{action}"
    return request(url, json.dumps(body).encode(), token, "POST",
                   {"Content-Type": "application/json"})


def repodata(root: Path, channel: str, subdir: str = "noarch") -> dict:
    return json.loads((root / channel / subdir / "repodata.json").read_text())


def served_config(root: Path, **changes):
    """A ServerConfig serving `root`: testing and stable, an archive for stable, 1 MiB uploads."""
    from orchestrator.serve.config import ServerConfig

    settings = {"root": root, "channels": ("testing", "stable"), "archive": "archive",
                "archived": ("stable",), "public": (), "size_limit": 1 << 20,
                "platform": "linux-64", **changes}
    return ServerConfig(**settings)
