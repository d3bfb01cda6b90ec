"""The PyPI checker: `<pypi_url>/pypi/<name>/json`, recognised from an sdist URL on PyPI's hosts
or from `extra: upstream: pypi: NAME`."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urljoin, urlparse

from orchestrator.updates import Query, Release, Settings, UpstreamError
from orchestrator.updates.http import get_json
from orchestrator.updates.versions import newest

HOSTS = ("pypi.io", "pypi.org", "files.pythonhosted.org", "pypi.python.org")


def pypi_name(url: str, version: str) -> str | None:
    """`https://pypi.org/packages/source/s/six/six-1.16.0.tar.gz` → `six`."""
    parts = urlparse(url)
    if parts.hostname not in HOSTS:
        return None
    segments = PurePosixPath(parts.path).parts
    if "source" in segments and len(segments) > segments.index("source") + 2:
        return segments[segments.index("source") + 2]
    file = segments[-1] if segments else ""
    marker = f"-{version}."
    return file.split(marker)[0] if marker in file else None


def release_files(document: dict, version: str, json_url: str) -> tuple:
    files = document.get("releases", {}).get(version) or []
    return tuple(
        (f["filename"], urljoin(json_url, f["url"]), f.get("digests", {}).get("sha256", ""))
        for f in files if f.get("url")
    )


def changelog(info: dict, name: str, version: str) -> str:
    for key, url in (info.get("project_urls") or {}).items():
        if key.lower().replace(" ", "") in ("changelog", "changes", "releasenotes", "history"):
            return url
    return f"https://pypi.org/project/{name}/{version}/"


def available(document: dict) -> list[str]:
    """Versions with at least one file that is not yanked."""
    return [v for v, files in document.get("releases", {}).items()
            if files and not all(f.get("yanked") for f in files)]


class PyPI:
    name = "pypi"

    def project(self, query: Query) -> str | None:
        explicit = dict(query.upstream).get(self.name)
        if explicit:
            return explicit
        return next((n for u in query.urls if (n := pypi_name(u, query.version))), None)

    def latest(self, project: str, query: Query, settings: Settings) -> Release:
        url = f"{settings.pypi_url}/pypi/{project}/json"
        document = get_json(url, settings.timeout)
        if not isinstance(document, dict):
            raise UpstreamError(f"{url}: not a PyPI project document")
        version = newest(available(document), settings.prereleases)
        if version is None:
            raise UpstreamError(f"{url}: no release with files")
        info = document.get("info") or {}
        return Release(version, changelog(info, project, version),
                       release_files(document, version, url))
