"""The client side of the channel service: uploads and API calls over HTTP (urllib).

Used by `build --publish` and by promote/prune/restore with `--server`. The token travels in
an `Authorization: Bearer` header, never in a URL that could be logged.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlparse

from orchestrator.errors import ChannelError, OrchestratorError

TIMEOUT = 300.0


def split_channel_url(url: str) -> tuple[str, str]:
    """`https://host/prefix/stable` → (`https://host/prefix`, `stable`)."""
    base, _, channel = url.rstrip("/").rpartition("/")
    if not channel or urlparse(url).scheme not in ("http", "https"):
        raise OrchestratorError(f"{url}: not an http(s) channel URL like https://host/<channel>")
    return base, channel


def token_from_env(name: str) -> str | None:
    return os.environ.get(name) or None if name else None


def _request(url: str, data: bytes, token: str | None, content_type: str) -> dict:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise ChannelError(_without_query(url), f"HTTP {exc.code}: {_error_text(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ChannelError(_without_query(url), f"{getattr(exc, 'reason', exc)}") from None


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read()).get("error", exc.reason)
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)


def upload_package(channel_url: str, package: Path, token: str | None) -> dict:
    """POST one package file to `<base>/api/channels/<channel>/upload`."""
    base, channel = split_channel_url(channel_url)
    url = f"{base}/api/channels/{quote(channel)}/upload?filename={quote(package.name)}"
    return _request(url, package.read_bytes(), token, "application/octet-stream")


def call(server: str, channel: str, action: str, body: dict, token: str | None) -> dict:
    """POST a JSON body to `<server>/api/channels/<channel>/<action>`."""
    url = f"{server.rstrip('/')}/api/channels/{quote(channel)}/{action}"
    return _request(url, json.dumps(body).encode(), token, "application/json")
