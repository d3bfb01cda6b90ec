"""Build records, durations and the source cache (downloads from a real HTTP server)."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from orchestrator import cache

TARBALL = b"pretend this is a source tarball\n" * 100
SHA = hashlib.sha256(TARBALL).hexdigest()


@pytest.fixture
def server(serve_files):
    """Serves TARBALL at /pkg-1.0.tar.gz on 127.0.0.1; records every request."""
    return serve_files({"/pkg-1.0.tar.gz": TARBALL})


def test_record_round_trip(tmp_path):
    record = cache.BuildRecord("//recipes/attrs", "abc", "success", 12.5,
                               ("noarch/attrs-1.0-habc_0.conda",), cache.now())
    path = cache.write_record(tmp_path, record)
    assert path == tmp_path / "builds/recipes--attrs/abc/record.json"
    assert cache.read_record(tmp_path, "//recipes/attrs", "abc") == record
    assert list(path.parent.glob(".*tmp*")) == []


@pytest.mark.parametrize("data", [[], {"target": "//a"}, {"unknown": 1}, "text"])
def test_records_of_another_shape_are_ignored(data):
    assert cache.parse_record(data) is None


def test_unreadable_record_is_no_record(tmp_path):
    path = cache.build_dir(tmp_path, "//a", "h1") / cache.RECORD
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert cache.read_record(tmp_path, "//a", "h1") is None


def test_durations_come_from_the_latest_successful_build_of_any_hash(tmp_path):
    for hash, result, duration, stamp in [("h1", "success", 10.0, "2026-01-01T00:00:00+00:00"),
                                          ("h2", "success", 30.0, "2026-01-02T00:00:00+00:00"),
                                          ("h3", "failed", 1.0, "2026-01-03T00:00:00+00:00")]:
        cache.write_record(tmp_path, cache.BuildRecord("//a", hash, result, duration, (), stamp))
    assert cache.recorded_durations(tmp_path, ["//a", "//never-built"]) == {"//a": 30.0}


def test_fetch_downloads_once_and_verifies(tmp_path, server):
    base, hits = server
    url = f"{base}/pkg-1.0.tar.gz"
    path = cache.fetch_source(tmp_path, url, SHA)
    assert path == tmp_path / "sources" / SHA / "pkg-1.0.tar.gz"
    assert path.read_bytes() == TARBALL
    assert cache.fetch_source(tmp_path, url, SHA) == path
    assert cache.source_path(tmp_path, SHA, url) == path
    assert hits == ["/pkg-1.0.tar.gz"]


def test_concurrent_fetches_download_once(tmp_path, server):
    base, hits = server
    with ThreadPoolExecutor(4) as pool:
        paths = set(pool.map(lambda _: cache.fetch_source(tmp_path, f"{base}/pkg-1.0.tar.gz",
                                                          SHA), range(4)))
    assert len(paths) == 1 and hits == ["/pkg-1.0.tar.gz"]


def test_sha256_mismatch_leaves_nothing_behind(tmp_path, server):
    base, _ = server
    wrong = "0" * 64
    with pytest.raises(cache.SourceError, match="sha256 mismatch: the recipe says 0000"):
        cache.fetch_source(tmp_path, f"{base}/pkg-1.0.tar.gz", wrong)
    assert sorted(p.name for p in (tmp_path / "sources").iterdir()) == [".locks"]


def test_missing_url_is_a_source_error(tmp_path, server):
    base, _ = server
    with pytest.raises(cache.SourceError, match="/missing.tar.gz: download failed"):
        cache.fetch_source(tmp_path, f"{base}/missing.tar.gz", SHA)


def test_remove_cached_keeps_the_channel(tmp_path):
    for name in ("builds/x", "sources/y", "render/z", "channel/noarch"):
        (tmp_path / name).mkdir(parents=True)
    removed = cache.remove_cached(tmp_path)
    assert sorted(p.name for p in removed) == ["builds", "render", "sources"]
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["channel"]
