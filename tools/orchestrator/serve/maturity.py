"""Maturity channels: promote (testing → staging → stable), prune, and restore from the archive.

Everything works on hard links, so a promoted package is the same bytes as the tested one: a
link is made under a temporary name and moved into place, then the channel is re-indexed with
publish.reindex. A package promoted into an archived channel is linked into the archive first.
Pruning keeps the newest N builds of each package (version, then build number, then time) and
never deletes from an archived channel what the archive does not hold with the same bytes.
"""

from __future__ import annotations

import fnmatch
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator.serve.uploads import UploadRefused, check_channel_name, file_sha256

SECTIONS = ("packages", "packages.conda")


@dataclass(frozen=True)
class Record:
    """One package of a channel, from its repodata.json."""

    subdir: str
    filename: str
    name: str
    version: str
    build: str
    build_number: int
    timestamp: float  # seconds since the epoch (0 when the index has none)

    @property
    def path(self) -> str:
        return f"{self.subdir}/{self.filename}"


def channel_records(channel_dir: Path) -> list[Record]:
    """Every package listed in the channel's repodata.json files."""
    records = []
    for repodata in sorted(channel_dir.glob("*/repodata.json")):
        data = json.loads(repodata.read_text(encoding="utf-8"))
        for section in SECTIONS:
            for filename, r in data.get(section, {}).items():
                records.append(Record(repodata.parent.name, filename, r["name"], r["version"],
                                      r["build"], int(r.get("build_number", 0)),
                                      r.get("timestamp", 0) / 1000))
    return records


def matches(record: Record, spec: str) -> bool:
    """`name`, `name=version`, `name=version=build` (globs allowed) or a file name."""
    if spec in (record.filename, record.path):
        return True
    parts = spec.replace("==", "=").split("=")
    fields = (record.name, record.version, record.build)
    pairs = zip(fields, parts, strict=False)  # `name=1.*` says nothing of the build
    return len(parts) <= 3 and all(fnmatch.fnmatchcase(f, p) for f, p in pairs)


def select(records: list[Record], specs: list[str]) -> list[Record]:
    chosen = [r for r in records if any(matches(r, s) for s in specs)]
    missing = [s for s in specs if not any(matches(r, s) for r in records)]
    if missing:
        raise UploadRefused(404, f"no package matches {', '.join(missing)}")
    return chosen


def link_into(source: Path, target: Path) -> bool:
    """Hard-link `source` at `target` atomically; False when the same bytes are there already."""
    if target.is_file():
        if target.samefile(source) or file_sha256(target) == file_sha256(source):
            return False
        raise UploadRefused(409, f"{target.parent.name}/{target.name} exists with other bytes")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp-{secrets.token_hex(6)}")
    os.link(source, temp)
    os.replace(temp, target)
    return True


def _reindex(channel_dir: Path, subdirs: set[str]) -> None:
    from orchestrator.publish import reindex

    reindex(channel_dir, sorted(subdirs | {"noarch"}))


def copy_records(root: Path, records: list[Record], source: str, target: str) -> list[str]:
    """Link the records' files from one channel into another and re-index it."""
    linked = [r.path for r in records
              if link_into(root / source / r.path, root / check_channel_name(target) / r.path)]
    _reindex(root / target, {r.subdir for r in records})
    return linked


def promote(root: Path, specs: list[str], source: str, target: str, archive: str,
            archived: tuple[str, ...]) -> list[str]:
    """Promote what `specs` match from `source` to `target`; the paths newly linked there."""
    records = select(channel_records(root / check_channel_name(source)), specs)
    if target in archived:
        copy_records(root, records, source, archive)
    return copy_records(root, records, source, target)


def prune_candidates(records: list[Record], keep: int, older_than_days: float | None,
                     now: float) -> list[Record]:
    """Records beyond the newest `keep` of each (subdir, name), older than the age given."""
    from rattler import Version

    groups: dict[tuple[str, str], list[Record]] = {}
    for r in records:
        groups.setdefault((r.subdir, r.name), []).append(r)
    old = []
    for group in groups.values():
        group.sort(key=lambda r: (Version(r.version), r.build_number, r.timestamp), reverse=True)
        old += group[keep:]
    if older_than_days is None:
        return old
    return [r for r in old if r.timestamp <= now - older_than_days * 86400]


def prune(root: Path, channel: str, keep: int, older_than_days: float | None, dry_run: bool,
          archive: str, archived: tuple[str, ...]) -> dict[str, list[str]]:
    """Remove old builds; {"removed": [...], "kept": [... not in the archive]}."""
    channel_dir = root / check_channel_name(channel)
    candidates = prune_candidates(channel_records(channel_dir), keep, older_than_days, time.time())
    safe = [r for r in candidates
            if channel not in archived or _archived(root / archive / r.path, channel_dir / r.path)]
    kept = [r.path for r in candidates if r not in safe]
    if not dry_run and safe:
        for r in safe:
            (channel_dir / r.path).unlink()
        _reindex(channel_dir, {r.subdir for r in safe})
    return {"removed": [r.path for r in safe], "kept": kept}


def _archived(copy: Path, original: Path) -> bool:
    if not copy.is_file():
        return False
    return copy.samefile(original) or file_sha256(copy) == file_sha256(original)


def restore(root: Path, specs: list[str], channel: str, archive: str) -> list[str]:
    """Bring packages back from the archive into `channel`; the paths linked."""
    records = select(channel_records(root / archive), specs)
    return copy_records(root, records, archive, channel)
