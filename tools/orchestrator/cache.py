"""What `orchestrate` keeps between runs: build logs and records, durations, downloaded sources.

Layout under the workspace's cache dir:
  builds/<target-slug>/<hash>/build.log    the log of the last build of that target and hash
  builds/<target-slug>/<hash>/record.json  its result, duration, artifacts and time
  sources/<sha256>/<file name>             url sources, verified by their sha256
  sources/.locks/<sha256>.lock             held while one process downloads that source
Writes follow one pattern: check, lock, check again, build in a temporary place removed on
failure, then move into place (os.replace) and record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from orchestrator.errors import OrchestratorError
from orchestrator.files import replace_atomically

RECORD = "record.json"
LOG = "build.log"
LOCK_TIMEOUT = 3600.0
MAX_SLUG = 200  # a file name holds 255 bytes; the hash and lock names go beside it
# what `orchestrate clean` removes (the channel only with --all)
CLEANABLE = ("builds", "sources", "render", "repodata")


class SourceError(OrchestratorError):
    """A source that cannot be downloaded or does not match its sha256."""


@dataclass(frozen=True)
class BuildRecord:
    target: str
    hash: str
    result: str  # success | failed | cancelled
    duration: float
    artifacts: tuple[str, ...] = ()  # `subdir/filename` in the channel
    timestamp: str = ""  # ISO 8601, UTC


def target_slug(target: str) -> str:
    """`//recipes/python-attrs` → `recipes--python-attrs` (one directory per target);
    a variant's node id `//recipes/numpy[python=3.12]` → `recipes--numpy@python=3.12`, with
    any character a file name should not hold percent-encoded, and a long one shortened."""
    from urllib.parse import quote

    label, _, variant = target.partition("[")
    slug = label.removeprefix("//").replace("/", "--")
    if variant:
        slug += "@" + quote(variant.removesuffix("]"), safe="=,.+-_")
    if len(slug) > MAX_SLUG:
        slug = f"{slug[:MAX_SLUG - 11]}-{hashlib.sha256(target.encode()).hexdigest()[:10]}"
    return slug


def build_dir(cache_dir: Path, target: str, hash: str) -> Path:
    return cache_dir / "builds" / target_slug(target) / hash


def log_path(cache_dir: Path, target: str, hash: str) -> Path:
    return build_dir(cache_dir, target, hash) / LOG


def build_lock(cache_dir: Path, target: str, hash: str):
    """A lock held while one process builds this target and hash (others wait, then reuse)."""
    from filelock import FileLock

    directory = build_dir(cache_dir, target, hash)
    directory.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(directory.with_name(f"{hash}.lock"), timeout=LOCK_TIMEOUT)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def write_record(cache_dir: Path, record: BuildRecord) -> Path:
    """Write the record atomically (a reader sees the old one or the new one)."""
    path = build_dir(cache_dir, record.target, record.hash) / RECORD
    write_json_atomically(path, asdict(record))
    return path


def write_json_atomically(path: Path, data: object) -> None:
    write_text_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    """Readers see the old text or the new, whole (files.replace_atomically)."""
    replace_atomically(path, text.encode("utf-8"))


def read_record(cache_dir: Path, target: str, hash: str) -> BuildRecord | None:
    """The record of a build, or None when there is none or it is unreadable."""
    return _read_record_file(build_dir(cache_dir, target, hash) / RECORD)


def _read_record_file(path: Path) -> BuildRecord | None:
    try:
        return parse_record(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def parse_record(data: object) -> BuildRecord | None:
    """A BuildRecord from its JSON form; None when it has another shape (an older version)."""
    if not isinstance(data, dict):
        return None
    try:
        record = BuildRecord(**data)
    except TypeError:
        return None
    if not _well_typed(record):
        return None  # e.g. a duration that is a string: it would fail later, far from here
    return BuildRecord(**{**asdict(record), "artifacts": tuple(record.artifacts),
                          "duration": float(record.duration)})


def _well_typed(record: BuildRecord) -> bool:
    strings = (record.target, record.hash, record.result, record.timestamp)
    return (all(isinstance(s, str) for s in strings)
            and isinstance(record.duration, int | float) and not isinstance(record.duration, bool)
            and isinstance(record.artifacts, list | tuple)
            and all(isinstance(a, str) for a in record.artifacts))


def recorded_durations(cache_dir: Path, targets: list[str]) -> dict[str, float]:
    """Per target, the duration of its latest successful build of any hash (to predict)."""
    durations = {}
    for target in targets:
        records = _records_of(cache_dir, target)
        done = [r for r in records if r.result == "success"]
        if done:
            durations[target] = max(done, key=lambda r: r.timestamp).duration
    return durations


def _records_of(cache_dir: Path, target: str) -> list[BuildRecord]:
    directory = cache_dir / "builds" / target_slug(target)
    found = (_read_record_file(p) for p in sorted(directory.glob(f"*/{RECORD}")))
    return [r for r in found if r is not None]


def source_path(cache_dir: Path, sha256: str, url: str) -> Path:
    """Where the source with this sha256 lives in the cache (named like the URL's file)."""
    name = Path(unquote(urlparse(url).path)).name or "source"
    return cache_dir / "sources" / sha256.lower() / name


def fetch_source(cache_dir: Path, url: str, sha256: str, timeout: float = 120.0) -> Path:
    """The cached file for `url`, downloaded and verified first when missing."""
    from filelock import FileLock

    target = source_path(cache_dir, sha256, url)
    if target.is_file():
        return target
    locks = cache_dir / "sources" / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(locks / f"{sha256.lower()}.lock", timeout=LOCK_TIMEOUT):
        if target.is_file():
            return target
        with tempfile.TemporaryDirectory(dir=target.parent.parent, prefix=".fetch-") as temp:
            download = Path(temp) / target.name
            _download_verified(url, sha256, download, timeout)
            target.parent.mkdir(exist_ok=True)
            os.replace(download, target)
    return target


def _download_verified(url: str, sha256: str, path: Path, timeout: float) -> None:
    import urllib.error
    import urllib.request

    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(path, "wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SourceError(f"{url}: download failed: {getattr(exc, 'reason', exc)}") from None
    if digest.hexdigest() != sha256.lower():
        raise SourceError(
            f"{url}: sha256 mismatch: the recipe says {sha256.lower()}, "
            f"the download is {digest.hexdigest()} (hint: fix the recipe's sha256)"
        )


def remove_cached(cache_dir: Path) -> list[Path]:
    """Remove logs, records, sources, repodata and the render cache; returns what was removed."""
    removed = []
    for name in CLEANABLE:
        path = cache_dir / name
        if path.is_symlink() or path.exists():
            remove_tree(path)
            removed.append(path)
    return removed


def remove_tree(path: Path) -> None:
    """Remove a directory; a symlinked one (sources on a bigger disk) loses its contents and
    keeps the link, so the setup survives a clean."""
    try:
        if path.is_symlink():
            for child in path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError as exc:
        raise OrchestratorError(f"cannot remove {path}: {exc.strerror or exc}") from None
