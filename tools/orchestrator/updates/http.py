"""GET with a timeout for checkers; every failure becomes one UpstreamError line."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from orchestrator.updates import UpstreamError


def get_bytes(url: str, timeout: float, headers: dict[str, str] | None = None) -> bytes:
    try:
        all_headers = {"User-Agent": "orchestrate", **(headers or {})}
        request = urllib.request.Request(url, headers=all_headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise UpstreamError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UpstreamError(f"{url}: {getattr(exc, 'reason', exc)}") from None


def get_json(url: str, timeout: float, headers: dict[str, str] | None = None) -> object:
    data = get_bytes(url, timeout, headers)
    try:
        return json.loads(data)
    except ValueError:
        raise UpstreamError(f"{url}: the answer is not JSON") from None
