"""What is published: the (name, version, build) of every package in a channel, per subdir.

Channels are `workspace.Channel`s: local directories (given as paths or `file://` URLs) and
`http(s)://` URLs; each subdir's repodata.json is read once (both `packages` and
`packages.conda`). HTTP answers are cached under `cache/repodata/` with their ETag /
Last-Modified and revalidated on the next run; a
cached copy whose checksum does not match is thrown away and fetched again. Parsing is a pure
function of the bytes, kept for the last few documents: a process that plans again (a warm
server) parses a channel again only when it changed, and stats its files. Parsing is plain
JSON on purpose: only three fields per record are needed, and for 5,000 records json takes
20 ms where `rattler.RepoData.from_path(...).into_repo_data(...)` takes 50 ms (measured).
A local channel's record counts only when its file is there with the listed size.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlparse

from orchestrator.errors import ChannelError
from orchestrator.files import replace_atomically
from orchestrator.workspace import Channel

REPODATA = "repodata.json"
HTTP_TIMEOUT = 30.0
PackageKey = tuple[str, str, str]  # (name, version, build)
# channel URL → token sent as a Bearer header to it (a served channel, see serve/remote.py)
_TOKENS: dict[str, str] = {}


@dataclass(frozen=True)
class ChannelIndex:
    """One channel's published packages: subdir → {(name, version, build)}."""

    url: str
    packages: Mapping[str, frozenset[PackageKey]]

    def has(self, key: PackageKey, subdir: str) -> bool:
        return key in self.packages.get(subdir, frozenset())

    def count(self) -> int:
        return sum(len(keys) for keys in self.packages.values())


@dataclass(frozen=True)
class Fetched:
    """One repodata.json as read: its bytes (None when absent) and how it was obtained."""

    body: bytes | None
    how: str  # "local", "missing", "downloaded", "revalidated", "cached-offline", "offline"


# ---------------------------------------------------------------- pure: parsing


@functools.lru_cache(maxsize=8)
def parse_repodata(data: bytes) -> frozenset[PackageKey]:
    """(name, version, build) of every record; ValueError naming what is malformed."""
    keys: set[PackageKey] = set()
    for records in _sections(data):
        keys.update(_record_keys(records))
    return frozenset(keys)


def _sections(data: bytes) -> list[dict]:
    """The `packages` and `packages.conda` objects of a repodata document (those present)."""
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"not a JSON object (a JSON {type(document).__name__})")
    sections = []
    for section in ("packages", "packages.conda"):
        records = document.get(section)
        if records is not None and not isinstance(records, dict):
            raise ValueError(f"'{section}' is not an object")
        sections += [records] if records is not None else []
    return sections


@functools.lru_cache(maxsize=8)
def parse_repodata_files(data: bytes) -> Mapping[str, tuple[PackageKey, object]]:
    """file name → ((name, version, build), listed size) of every record (read-only: kept);
    ValueError as `parse_repodata`."""
    return MappingProxyType({
        filename: (_record_key(filename, record), record.get("size"))
        for records in _sections(data) for filename, record in records.items()})


def present_keys(listed: Mapping[str, tuple[PackageKey, object]], directory: Path
                 ) -> frozenset[PackageKey]:
    """The keys whose file is in `directory` with the size listed: a local channel's record
    without its bytes is not a published package (issue 9: plan said "up to date" after a
    listed file was deleted). A stat per record, no read; of a string (a Path per record
    costs more than the stat)."""
    keys = set()
    prefix = f"{directory}{os.sep}"
    for filename, (key, size) in listed.items():
        try:
            if os.stat(prefix + filename).st_size == size:
                keys.add(key)
        except OSError:
            continue
    return frozenset(keys)


def _record_keys(records: dict) -> set[PackageKey]:
    """The keys of well-formed records in one pass; record by record to name a bad one."""
    try:
        keys = {(r["name"], r["version"], r["build"]) for r in records.values()}
        if all(type(a) is str and type(b) is str and type(c) is str for a, b, c in keys):
            return keys
    except (TypeError, KeyError):
        pass
    return {_record_key(filename, record) for filename, record in records.items()}


def _record_key(filename: str, record: object) -> PackageKey:
    try:
        key = (record["name"], record["version"], record["build"])  # type: ignore[index]
    except (TypeError, KeyError) as exc:
        raise ValueError(f"record {filename} has no {exc}") from None
    if not all(isinstance(part, str) for part in key):
        raise ValueError(f"record {filename}: name, version and build must be strings")
    return key


def is_published(channels: Iterable[ChannelIndex], key: PackageKey, subdir: str) -> bool:
    """Whether any channel has the package in `subdir` or in noarch."""
    return any(c.has(key, subdir) or c.has(key, "noarch") for c in channels)


# ---------------------------------------------------------------- reading


def read_channels(
    channels: Iterable[Channel], subdirs: Iterable[str], cache_dir: Path, offline: bool = False
) -> tuple[ChannelIndex, ...]:
    """Every channel of `channels` (target channel first), each subdir read once."""
    subdirs = tuple(dict.fromkeys(subdirs))
    return tuple(read_channel(channel, subdirs, cache_dir, offline) for channel in channels)


def read_channel(
    channel: Channel, subdirs: Iterable[str], cache_dir: Path, offline: bool = False
) -> ChannelIndex:
    """A channel's index; ChannelError when unreadable or malformed (empty with `offline`)."""
    packages = {}
    for subdir in subdirs:
        try:
            fetched = fetch_repodata(channel, subdir, cache_dir, offline)
            local = fetched.how == "local"
            packages[subdir] = (_parsed_local(channel, subdir, fetched) if local
                                else _parsed(str(channel), subdir, fetched))
        except ChannelError:
            if not offline:
                raise
            packages[subdir] = frozenset()
    return ChannelIndex(str(channel), packages)


def _parsed(url: str, subdir: str, fetched: Fetched) -> frozenset[PackageKey]:
    if fetched.body is None:
        return frozenset()
    try:
        return parse_repodata(fetched.body)
    except ValueError as exc:
        raise ChannelError(url, f"{subdir}/{REPODATA}: {exc}") from None


def _parsed_local(channel: Channel, subdir: str, fetched: Fetched) -> frozenset[PackageKey]:
    try:
        listed = parse_repodata_files(fetched.body)
    except ValueError as exc:
        raise ChannelError(str(channel), f"{subdir}/{REPODATA}: {exc}") from None
    return present_keys(listed, channel.path / subdir)


def fetch_repodata(channel: Channel, subdir: str, cache_dir: Path, offline: bool = False
                   ) -> Fetched:
    """The bytes of `<channel>/<subdir>/repodata.json`: read locally, or over HTTP with a cache."""
    if channel.path is not None:
        return _read_local(str(channel), channel.path / subdir / REPODATA)
    scheme = urlparse(channel.url).scheme
    if scheme not in ("http", "https"):
        raise ChannelError(channel.url, f"unsupported channel URL scheme '{scheme}'")
    return _fetch_http(channel.url, subdir, cache_dir / "repodata", offline)


def _read_local(url: str, file: Path) -> Fetched:
    try:
        return Fetched(file.read_bytes(), "local")
    except FileNotFoundError:
        return Fetched(None, "missing")  # a channel nobody published to yet is empty
    except OSError as exc:
        raise ChannelError(url, f"cannot read {file}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------- HTTP with a cache


@dataclass(frozen=True)
class _CacheEntry:
    body: bytes
    etag: str | None
    last_modified: str | None


def _fetch_http(url: str, subdir: str, cache_root: Path, offline: bool) -> Fetched:
    location = f"{url.rstrip('/')}/{subdir}/{REPODATA}"
    body_file, meta_file = _cache_files(cache_root, location)
    cached = _read_cache(body_file, meta_file, location)
    if offline:
        return Fetched(cached.body, "cached-offline") if cached else Fetched(None, "offline")
    status, body, headers = _http_get(url, location, cached)
    if status == 304 and cached is not None:
        return Fetched(cached.body, "revalidated")
    if status == 404:
        return Fetched(None, "missing")
    _parsed(url, subdir, Fetched(body, "downloaded"))  # raises on garbage: never cached
    _write_cache(body_file, meta_file, location, body, headers)
    return Fetched(body, "downloaded")


def _http_get(url: str, location: str, cached: _CacheEntry | None):
    """(status, body, headers) of a GET, conditional when a cached copy exists."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(location, headers=_conditional_headers(cached, location))
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        if exc.code in (304, 404):
            return exc.code, b"", exc.headers
        raise ChannelError(url, f"GET {location}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChannelError(url, f"cannot fetch {location}: {reason}") from None


def set_channel_token(url: str, token: str | None) -> None:
    """Send `token` with every request to the channel at `url` (never put in a URL or cache)."""
    if token:
        _TOKENS[url.rstrip("/")] = token


def _token_headers(location: str) -> dict[str, str]:
    for url, token in _TOKENS.items():
        if location.startswith(url + "/"):
            return {"Authorization": f"Bearer {token}"}
    return {}


def _conditional_headers(cached: _CacheEntry | None, location: str = "") -> dict[str, str]:
    headers = {"Accept-Encoding": "identity", **_token_headers(location)}
    if cached is not None and cached.etag:
        headers["If-None-Match"] = cached.etag
    if cached is not None and cached.last_modified:
        headers["If-Modified-Since"] = cached.last_modified
    return headers


def _cache_files(cache_root: Path, location: str) -> tuple[Path, Path]:
    key = hashlib.blake2b(location.encode(), digest_size=12).hexdigest()
    return cache_root / f"{key}.json", cache_root / f"{key}.meta.json"


def _read_cache(body_file: Path, meta_file: Path, location: str) -> _CacheEntry | None:
    """The cached copy if it is whole (its checksum matches); None otherwise."""
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        body = body_file.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("url") != location:
        return None
    if meta.get("blake2b") != hashlib.blake2b(body).hexdigest():
        return None
    return _CacheEntry(body, meta.get("etag"), meta.get("last_modified"))


def _write_cache(body_file: Path, meta_file: Path, location: str, body: bytes, headers) -> None:
    meta = {
        "url": location,
        "etag": headers.get("ETag"),
        "last_modified": headers.get("Last-Modified"),
        "blake2b": hashlib.blake2b(body).hexdigest(),
    }
    replace_atomically(body_file, body)
    replace_atomically(meta_file, json.dumps(meta, sort_keys=True).encode())


