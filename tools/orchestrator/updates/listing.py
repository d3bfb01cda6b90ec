"""The directory listing checker: the page at the source URL's directory (an Apache or nginx
index, like ftp.gnu.org's), searched for files named like the source with another version.

It takes any http(s) url source whose file name contains the current version, so it is asked
last: PyPI and GitHub recognise their own URLs first.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlparse

from orchestrator.updates import Query, Release, Settings, UpstreamError
from orchestrator.updates.http import get_bytes
from orchestrator.updates.versions import newest


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def file_pattern(url: str, version: str) -> re.Pattern | None:
    """`gmp-6.3.0.tar.xz` → a pattern matching `gmp-<version>.tar.xz`."""
    file = unquote(urlparse(url).path.rsplit("/", 1)[-1])
    if version not in file:
        return None
    head, tail = file.split(version, 1)
    return re.compile(rf"{re.escape(head)}(\d[0-9A-Za-z.+_]*?){re.escape(tail)}")


def versions_in(html: str, pattern: re.Pattern) -> dict[str, str]:
    found = {}
    for href in links(html):
        match = pattern.fullmatch(unquote(href.rstrip("/").rsplit("/", 1)[-1]))
        if match:
            found[match.group(1)] = href
    return found


class DirectoryListing:
    name = "listing"

    def project(self, query: Query) -> str | None:
        explicit = dict(query.upstream).get(self.name)
        if explicit:
            return explicit
        for url in query.urls:
            if url.startswith(("http://", "https://")) and file_pattern(url, query.version):
                return url.rsplit("/", 1)[0] + "/"
        return None

    def latest(self, project: str, query: Query, settings: Settings) -> Release:
        source = next((u for u in query.urls if u.startswith(project)), (*query.urls, project)[0])
        pattern = file_pattern(source, query.version)
        html = get_bytes(project, settings.timeout).decode("utf-8", "replace")
        found = versions_in(html, pattern) if pattern else {}
        version = newest(found, settings.prereleases)
        if version is None:
            raise UpstreamError(f"{project}: no file like {source.rsplit('/', 1)[-1]} listed")
        return Release(version, project, ((found[version], urljoin(project, found[version]), ""),))
