"""The GitHub releases checker: `<github_api_url>/repos/OWNER/REPO/releases`.

Recognised from a source URL on github.com (`/OWNER/REPO/archive/...` or
`/OWNER/REPO/releases/download/...`) or from `extra: upstream: github: OWNER/REPO`. Drafts and
releases GitHub marks as pre-releases are skipped unless pre-releases are asked for; a tag's
version is the tag without a leading `v` or `REPO-` (`v1.2.3`, `pcre2-10.44` → `1.2.3`, `10.44`).
The base URL is configurable (`[updates] github_api_url`) so that a local server stands in for
GitHub in tests; set GITHUB_TOKEN to raise GitHub's rate limit.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlparse

from orchestrator.updates import Query, Release, Settings, UpstreamError
from orchestrator.updates.http import get_json
from orchestrator.updates.versions import newest


def github_repo(url: str) -> str | None:
    parts = urlparse(url)
    segments = [s for s in parts.path.split("/") if s]
    if parts.hostname != "github.com" or len(segments) < 3:
        return None
    return f"{segments[0]}/{segments[1]}" if segments[2] in ("archive", "releases") else None


def tag_version(tag: str, repo: str) -> str:
    name = repo.split("/")[-1]
    return re.sub(rf"^(v|{re.escape(name)}[-_]?v?|release[-_]?)", "", tag, flags=re.I)


class GitHubReleases:
    name = "github"

    def project(self, query: Query) -> str | None:
        explicit = dict(query.upstream).get(self.name)
        if explicit:
            return explicit
        return next((r for u in query.urls if (r := github_repo(u))), None)

    def latest(self, project: str, query: Query, settings: Settings) -> Release:
        url = f"{settings.github_api_url}/repos/{project}/releases?per_page=100"
        token = os.environ.get("GITHUB_TOKEN")
        headers = {"Accept": "application/vnd.github+json",
                   **({"Authorization": f"Bearer {token}"} if token else {})}
        releases = get_json(url, settings.timeout, headers)
        if not isinstance(releases, list):
            raise UpstreamError(f"{url}: not a list of releases")
        usable = [r for r in releases if isinstance(r, dict) and not r.get("draft")
                  and (settings.prereleases or not r.get("prerelease"))]
        by_version = {tag_version(str(r.get("tag_name", "")), project): r for r in usable}
        version = newest(by_version, settings.prereleases)
        if version is None:
            raise UpstreamError(f"{url}: no release")
        return Release(version, str(by_version[version].get("html_url", "")))
