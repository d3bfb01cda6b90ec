"""Whether a local channel tells the truth: repodata.json against the package files, by content.

A subdir is sound when its repodata.json lists exactly its package files, each record with the
file's size and sha256, and each file is a readable package whose info/index.json says what its
record and its file name say. Builds are not byte-reproducible, so a file of the same name can
hold other bytes (a SIGKILL between moving a package into place and replacing repodata.json;
channels of two clones copied over each other): names alone prove nothing (issue 9).

A package that cannot be read (truncated, not an archive) is moved aside into
`<channel>/quarantine/<subdir>/` rather than deleted, and left out of the index: py-rattler's
indexer panics on one, which blocked every later build.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE_SUFFIXES = (".conda", ".tar.bz2")
QUARANTINE = "quarantine"
COMPARED = ("name", "version", "build", "build_number", "subdir")


@dataclass(frozen=True)
class Problem:
    """One thing a channel gets wrong: the file it concerns and what."""

    file: Path
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"


# ---------------------------------------------------------------- one package file


def unreadable_reason(package: Path) -> str | None:
    """Why `package` is not a readable conda package (every member's bytes read), or None."""
    try:
        if package.name.endswith(".conda"):
            _check_conda(package)
        else:
            _check_tarball(package)
        read_index_json(package)
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
        return f"corrupt package ({type(exc).__name__}: {exc})"
    except Exception as exc:  # py-rattler raises its own types for unreadable archives
        return f"corrupt package ({exc})"
    return None


def _check_conda(package: Path) -> None:
    """A .conda is a zip holding info-*.tar.zst and pkg-*.tar.zst: every CRC must hold."""
    with zipfile.ZipFile(package) as archive:
        bad = archive.testzip()
        names = archive.namelist()
    if bad is not None:
        raise ValueError(f"member {bad} is damaged")
    if not any(n.startswith("info-") for n in names):
        raise ValueError("no info-*.tar.zst member")


def _check_tarball(package: Path) -> None:
    with tarfile.open(package, "r:bz2") as archive:
        for member in archive:  # reading each member checks the whole bz2 stream
            if member.isfile():
                archive.extractfile(member).read()


def read_index_json(package: Path) -> dict:
    """The fields of info/index.json that a repodata record repeats."""
    from rattler.package import IndexJson

    index = IndexJson.from_package_archive(package)
    name = getattr(index.name, "normalized", index.name)
    return {"name": str(name), "version": str(index.version), "build": str(index.build),
            "build_number": index.build_number, "subdir": index.subdir}


def file_digest(package: Path) -> tuple[int, str]:
    """(size, sha256) of a file's bytes."""
    digest = hashlib.sha256()
    with open(package, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
        return os.fstat(handle.fileno()).st_size, digest.hexdigest()


# ---------------------------------------------------------------- a subdir


def package_files(subdir: Path) -> list[Path]:
    """The package files of one subdir, by name (temporary files are not packages)."""
    if not subdir.is_dir():
        return []
    return sorted(
        p for p in subdir.iterdir()
        if p.name.endswith(PACKAGE_SUFFIXES) and not p.name.startswith(".") and p.is_file()
    )


def listed_records(subdir: Path) -> dict[str, Mapping]:
    """file name → record of the subdir's repodata.json ({} when absent); ValueError when it is
    not a repodata document."""
    try:
        document = json.loads((subdir / "repodata.json").read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"not a JSON object (a JSON {type(document).__name__})")
    records: dict[str, Mapping] = {}
    for section in ("packages", "packages.conda"):
        part = document.get(section) or {}
        if not isinstance(part, dict) or not all(isinstance(r, dict) for r in part.values()):
            raise ValueError(f"'{section}' is not an object of records")
        records.update(part)
    return records


def content_mismatches(subdir: Path) -> list[Problem]:
    """Where repodata.json and the files disagree by name, size or sha256 (no archive read)."""
    try:
        records = listed_records(subdir)
    except ValueError as exc:
        return [Problem(subdir / "repodata.json", str(exc))]
    files = {p.name: p for p in package_files(subdir)}
    problems = [Problem(subdir / name, "listed in repodata.json but missing")
                for name in sorted(records.keys() - files.keys())]
    problems += [Problem(path, "present but not listed in repodata.json")
                 for name, path in sorted(files.items()) if name not in records]
    for name in sorted(records.keys() & files.keys()):
        problems += _record_differs(files[name], records[name])
    return problems


def _record_differs(package: Path, record: Mapping) -> list[Problem]:
    size = package.stat().st_size
    if record.get("size") != size:
        return [Problem(package, f"size {size} but repodata.json lists {record.get('size')}")]
    _, sha256 = file_digest(package)
    if record.get("sha256") != sha256:
        return [Problem(package, "sha256 differs from its repodata.json record")]
    return []


def verify_subdir(subdir: Path) -> list[Problem]:
    """Every problem of one subdir: content mismatches, unreadable packages, and index.json
    fields that disagree with the record or the file name."""
    problems = content_mismatches(subdir)
    try:
        records = listed_records(subdir)
    except ValueError:
        records = {}
    for package in package_files(subdir):
        problems += _package_problems(package, records.get(package.name))
    return problems


def _package_problems(package: Path, record: Mapping | None) -> list[Problem]:
    reason = unreadable_reason(package)
    if reason:
        return [Problem(package, reason)]
    index = read_index_json(package)
    mislabelled = _mislabelled(package, index)
    problems = [Problem(package, mislabelled)] if mislabelled else []
    if record is not None:
        differ = [k for k in COMPARED if record.get(k) != index[k]]
        if differ:
            problems.append(Problem(package, "repodata.json record differs from its index.json "
                                             f"in {', '.join(differ)}"))
    return problems


def _mislabelled(package: Path, index: dict | None = None) -> str | None:
    """How the file's name or subdir contradicts its index.json, or None."""
    index = index or read_index_json(package)
    expected = f"{index['name']}-{index['version']}-{index['build']}"
    if package.name not in (expected + ".conda", expected + ".tar.bz2"):
        return f"file name does not match its index.json ({expected})"
    if index["subdir"] != package.parent.name:
        return f"its index.json says subdir {index['subdir']}"
    return None


def subdirs_of(channel_dir: Path) -> list[str]:
    """The channel's subdirs: directories holding a repodata.json or a package file."""
    if not channel_dir.is_dir():
        return []
    return sorted(d.name for d in channel_dir.iterdir()
                  if d.is_dir() and d.name != QUARANTINE and not d.name.startswith(".")
                  and ((d / "repodata.json").exists() or package_files(d)))


# ---------------------------------------------------------------- repair


def quarantine(package: Path) -> Path:
    """Move an unreadable package to `<channel>/quarantine/<subdir>/` (never over another)."""
    target_dir = package.parent.parent / QUARANTINE / package.parent.name
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / package.name
    if target.exists():
        target = target_dir / f"{package.name}.{secrets.token_hex(4)}"
    os.replace(package, target)
    return target


def unverified(subdir: Path) -> list[Path]:
    """The package files of `subdir` that its repodata.json does not vouch for: unlisted, or
    listed with another size or sha256 (a listed file was read whole when it was indexed)."""
    try:
        records = listed_records(subdir)
    except ValueError:
        records = {}
    return [p for p in package_files(subdir)
            if p.name not in records or _record_differs(p, records[p.name])]


def quarantine_unreadable(packages: Iterable[Path]) -> list[Problem]:
    """Moves aside every package of `packages` that cannot be read; one Problem each."""
    moved = []
    for package in packages:
        reason = unreadable_reason(package)
        if reason:
            target = quarantine(package)
            moved.append(Problem(package, f"{reason}: moved to {target}"))
    return moved


def quarantine_mislabelled(channel_dir: Path) -> list[Problem]:
    """Moves aside the readable packages whose index.json contradicts their file name or
    subdir: no index can list them truthfully."""
    moved = []
    for subdir in subdirs_of(channel_dir):
        for package in package_files(channel_dir / subdir):
            if unreadable_reason(package) is None and _mislabelled(package):
                moved.append(Problem(package, f"{_mislabelled(package)}: moved to "
                                              f"{quarantine(package)}"))
    return moved


def verify_channel(channel_dir: Path) -> tuple[list[Problem], int]:
    """Every problem of every subdir, and how many package files were checked."""
    problems, count = [], 0
    for subdir in subdirs_of(channel_dir):
        problems += verify_subdir(channel_dir / subdir)
        count += len(package_files(channel_dir / subdir))
    return problems, count
