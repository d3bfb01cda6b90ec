"""Publish packages into a local conda channel, atomically and safely with concurrent publishers.

A package is copied to `<subdir>/.<name>.tmp-<random>` and moved to its name with os.replace,
so a reader never sees half a package. The subdir is then re-indexed under a file lock on the
channel: py-rattler's indexer runs on a staging copy (hard links) of the subdirs, and each new
repodata.json replaces the old one with os.replace, so it is never seen half-written and never
lists a file that is not there. Before indexing, every file repodata.json does not vouch for
(by size and sha256) is read whole, and one that cannot be read is quarantined
(channel_integrity.py): the indexer would panic on it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

from orchestrator.channel_integrity import (
    Problem,
    content_mismatches,
    package_files,
    quarantine_unreadable,
    subdirs_of,
    unverified,
)
from orchestrator.errors import ChannelError, WorkspaceError
from orchestrator.workspace import WORKSPACE_FILE, Workspace

LOCK_NAME = ".orchestrate.lock"
LOCK_TIMEOUT = 600.0


def publish_atomically(
    channel_dir: Path, files: Iterable[Path], platform: str | None = None
) -> tuple[str, ...]:
    """Put `files` into the channel and re-index; returns their `subdir/filename`s.

    `noarch/repodata.json` (and `<platform>/repodata.json` when given) exist afterwards.
    """
    placed = tuple(place_package(channel_dir, Path(f)) for f in files)
    subdirs = {p.split("/")[0] for p in placed} | {"noarch"} | ({platform} if platform else set())
    moved = {m.file: m for m in reindex(channel_dir, sorted(subdirs))}
    for name in placed:  # another package's damage is not this build's failure; its own is
        if channel_dir / name in moved:
            raise ChannelError(str(channel_dir), str(moved[channel_dir / name]))
    return placed


def ensure_channel(channel_dir: Path, platform: str) -> None:
    """Make the channel usable before anything is built into it: both repodata.json files."""
    subdirs = ["noarch", platform]
    if not all((channel_dir / s / "repodata.json").is_file() for s in subdirs):
        reindex(channel_dir, subdirs)


def local_channel(workspace: Workspace) -> Path:
    """The target channel as a directory: builds are published there."""
    channel = workspace.target_channel
    if channel.path is None:
        raise WorkspaceError(
            f"{workspace.root / WORKSPACE_FILE}: channels.target: {channel} is not a local "
            "directory (hint: build into a local channel and upload it separately)"
        )
    return channel.path


def place_package(channel_dir: Path, package: Path) -> str:
    """Copy one package into its subdir under a temporary name, then move it into place."""
    subdir = package_subdir(package)
    target = channel_dir / subdir / package.name
    _make_channel_dir(target.parent)
    temp = target.with_name(f".{package.name}.tmp-{secrets.token_hex(6)}")
    try:
        shutil.copyfile(package, temp)
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ChannelError(str(channel_dir), f"cannot write {target}: "
                                             f"{exc.strerror or exc}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return f"{subdir}/{package.name}"


def package_subdir(package: Path) -> str:
    """The subdir a package belongs in, read from its own info/index.json."""
    from rattler.package import IndexJson

    try:
        subdir = IndexJson.from_package_archive(package).subdir
    except Exception as exc:  # the binding raises its own types for unreadable archives
        raise ChannelError(str(package), f"not a readable conda package: {exc}") from None
    if not subdir:
        raise ChannelError(str(package), "info/index.json has no subdir")
    return subdir


def reindex(channel_dir: Path, subdirs: list[str]) -> list[Problem]:
    """Rewrite `<subdir>/repodata.json` for each subdir (created when missing), under the lock;
    returns the unreadable packages it moved to the quarantine instead of indexing them."""
    from filelock import FileLock

    _make_channel_dir(channel_dir)
    try:
        return _reindex_locked(channel_dir, subdirs, FileLock(channel_dir / LOCK_NAME,
                                                              timeout=LOCK_TIMEOUT))
    except OSError as exc:  # a read-only channel, a full disk: name the file
        where = exc.filename or channel_dir
        raise ChannelError(str(channel_dir), f"cannot write {where}: "
                                             f"{exc.strerror or exc}") from None


def _reindex_locked(channel_dir: Path, subdirs: list[str], lock) -> list[Problem]:
    with lock:
        staging = channel_dir / f".index-{secrets.token_hex(6)}"
        moved = [m for s in subdirs for m in quarantine_unreadable(unverified(channel_dir / s))]
        try:
            _stage(channel_dir, staging, subdirs)
            _index(staging, channel_dir)
            for subdir in subdirs:
                repodata = Path(subdir, "repodata.json")
                os.replace(staging / repodata, channel_dir / repodata)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return moved


def _make_channel_dir(channel_dir: Path) -> None:
    try:
        channel_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ChannelError(str(channel_dir), f"cannot create the channel directory: "
                                             f"{exc.strerror or exc}") from None


def reindex_if_stale(channel_dir: Path, platform: str) -> list[Problem]:
    """Re-index a channel whose package files and repodata.json disagree by name, size or
    sha256 (GitLab jobs unpack the channels of several artifacts over each other: the last
    repodata.json wins; a SIGKILL between placing a package and re-indexing leaves the old
    record); returns the packages it quarantined."""
    subdirs = subdirs_of(channel_dir)
    if any(content_mismatches(channel_dir / subdir) for subdir in subdirs):
        return reindex(channel_dir, sorted({"noarch", platform, *subdirs}))
    return []


def _stage(channel_dir: Path, staging: Path, subdirs: list[str]) -> None:
    """A copy of the subdirs made of hard links (a real copy where links are not possible)."""
    for subdir in subdirs:
        (channel_dir / subdir).mkdir(parents=True, exist_ok=True)
        (staging / subdir).mkdir(parents=True)
        for package in channel_packages(channel_dir / subdir):
            _link_or_copy(package, staging / subdir / package.name)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _index(staging: Path, channel_dir: Path) -> None:
    from rattler.index import index_fs

    try:
        asyncio.run(index_fs(staging, write_zst=False, write_shards=False, force=True))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # its own types, and a Rust panic is a BaseException
        raise ChannelError(str(channel_dir), f"indexing failed: {exc}") from None


def channel_packages(subdir: Path) -> list[Path]:
    """The package files of one subdir, by name (temporary files are not packages)."""
    return package_files(subdir)
