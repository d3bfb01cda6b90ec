"""Uploads that cannot corrupt a channel: validated, written aside, published atomically.

The body is streamed into `<root>/.uploads/<random>/<file name>` (the size limit is checked as
it arrives), read as a conda package (its info/index.json must give the file's own name,
version and build, and a subdir the channel serves), and handed to publish.publish_atomically,
the code local builds use. A file already in the channel with other bytes is a conflict (409);
the same bytes again are accepted and change nothing. One lock per channel orders the
check-then-publish, so 20 uploads at once each land exactly once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import OrchestratorError

PACKAGE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+!-]*-[^-/]+-[^-/]+\.(conda|tar\.bz2)$")
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
UPLOAD_LOCK = ".upload.lock"


class UploadRefused(OrchestratorError):
    """An upload the server refuses, with its HTTP status."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Stored:
    """A package as it is in the channel: `subdir/filename`, sha256, and whether it is new."""

    path: str
    sha256: str
    created: bool


def check_channel_name(name: str) -> str:
    """A channel name that cannot leave the root (no `/`, no `..`, no hidden names)."""
    if not CHANNEL_NAME.match(name) or name.startswith("."):
        raise UploadRefused(404, f"not a channel name: {name!r}")
    return name


def check_file_name(name: str) -> str:
    """A package file name: `<name>-<version>-<build>.conda|.tar.bz2`, nothing else."""
    if "/" in name or "\\" in name or name.startswith(".") or not PACKAGE_NAME.match(name):
        raise UploadRefused(400, f"not a conda package file name: {name!r}")
    return name


class Incoming:
    """One upload being received: written under `<root>/.uploads/<random>/`, removed after."""

    def __init__(self, root: Path, name: str, limit: int):
        self.staging = root / ".uploads" / secrets.token_hex(8)
        self.path = self.staging / check_file_name(name)
        self.limit, self.size, self.digest = limit, 0, hashlib.sha256()
        self.staging.mkdir(parents=True)
        self.handle = open(self.path, "wb")  # noqa: SIM115 (closed in finish/discard)

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise UploadRefused(413, f"upload larger than the limit of {self.limit} bytes")
        self.digest.update(chunk)
        self.handle.write(chunk)

    def finish(self, channel_dir: Path, subdirs: tuple[str, ...], platform: str,
               subdir: str | None = None) -> Stored:
        """Check the package and publish it (blocking: run it in a thread)."""
        self.handle.close()
        found = check_package(self.path, subdirs, subdir)
        return store_package(channel_dir, self.path, self.digest.hexdigest(), found, platform)

    def discard(self) -> None:
        self.handle.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def check_package(package: Path, subdirs: Iterable[str], subdir: str | None = None) -> str:
    """The package's subdir after checking its info/index.json against its name."""
    from rattler.package import IndexJson

    try:
        index = IndexJson.from_package_archive(package)
    except Exception:  # the binding raises its own types for unreadable archives
        raise UploadRefused(400, f"{package.name}: not a readable conda package") from None
    expected = f"{index.name.normalized}-{index.version}-{index.build}"
    if not package.name.startswith(expected + "."):
        raise UploadRefused(400, f"{package.name}: its info/index.json says {expected}")
    if index.subdir not in subdirs or (subdir and subdir != index.subdir):
        raise UploadRefused(400, f"{package.name}: subdir {index.subdir!r} is not served here"
                                 + (f" as {subdir!r}" if subdir else ""))
    return index.subdir


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def store_package(channel_dir: Path, package: Path, sha256: str, subdir: str,
                  platform: str) -> Stored:
    """Publish `package` into the channel unless the same bytes are there; 409 on other bytes."""
    from filelock import FileLock

    from orchestrator.publish import publish_atomically

    channel_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(channel_dir / UPLOAD_LOCK, timeout=600):
        existing = channel_dir / subdir / package.name
        if existing.is_file():
            if file_sha256(existing) != sha256:
                raise UploadRefused(409, f"{subdir}/{package.name} exists with other bytes")
            return Stored(f"{subdir}/{package.name}", sha256, False)
        publish_atomically(channel_dir, [package], platform)
    return Stored(f"{subdir}/{package.name}", sha256, True)
