"""acme's release records: parsing, sorting by version, grouping."""

from dataclasses import dataclass

import idna
from own_util import chunks, slugify
from packaging.version import Version

__version__ = "0.4.0"


@dataclass(frozen=True)
class Release:
    project: str
    version: Version
    host: str

    @property
    def slug(self) -> str:
        return f"{slugify(self.project)}-{self.version}"


def parse_release(line: str) -> Release:
    """'Name 1.2.3 host' -> Release; the host is IDNA-encoded."""
    project, version, host = line.rsplit(maxsplit=2)
    return Release(project, Version(version), idna.encode(host).decode("ascii"))


def newest_first(releases):
    return sorted(releases, key=lambda r: r.version, reverse=True)


def pages(releases, size: int = 2):
    return chunks(newest_first(releases), size)
