"""Given channels on disk and over HTTP (a real server on 127.0.0.1), what is published."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from orchestrator import channels
from orchestrator.errors import ChannelError
from orchestrator.workspace import Channel
from test_plan_support import package_record, serve_channel

SUBDIRS = ("linux-64", "noarch")


def out(name, version, build, subdir):
    return {"name": name, "version": version, "build": build, "subdir": subdir,
            "filename": f"{name}-{version}-{build}.conda"}


def write_repodata(channel, subdir, conda=(), tar=()):
    records = {
        "packages": {o["filename"].replace(".conda", ".tar.bz2"): package_record(o) for o in tar},
        "packages.conda": {o["filename"]: package_record(o) for o in conda},
    }
    (channel / subdir).mkdir(parents=True, exist_ok=True)
    (channel / subdir / "repodata.json").write_text(
        json.dumps({"info": {"subdir": subdir}, **records}))
    for section in records.values():  # a local channel's listed file must be there (issue 9)
        for filename, record in section.items():
            (channel / subdir / filename).write_bytes(b"\0" * record["size"])


@pytest.fixture
def channel(tmp_path):
    root = tmp_path / "channel"
    write_repodata(root, "linux-64", conda=[out("zlib", "1.3", "habc_0", "linux-64")],
                   tar=[out("old", "0.1", "h0_0", "linux-64")])
    write_repodata(root, "noarch", conda=[out("attrs", "23.2.0", "hdef_0", "noarch")])
    return root


def test_a_local_channel_lists_conda_and_tar_bz2_records_per_subdir(channel, tmp_path):
    index = channels.read_channel(Channel.of(str(channel)), SUBDIRS, tmp_path / "cache")
    assert index.packages == {
        "linux-64": {("zlib", "1.3", "habc_0"), ("old", "0.1", "h0_0")},
        "noarch": {("attrs", "23.2.0", "hdef_0")},
    }
    assert channels.is_published([index], ("attrs", "23.2.0", "hdef_0"), "linux-64")
    assert not channels.is_published([index], ("zlib", "1.3", "habc_1"), "linux-64")


def test_file_urls_read_the_same_directory(channel, tmp_path):
    by_url = channels.read_channel(Channel.of(channel.as_uri()), SUBDIRS, tmp_path / "cache")
    by_path = channels.read_channel(Channel.of(str(channel)), SUBDIRS, tmp_path)
    assert by_url.packages == by_path.packages


def test_the_repodata_is_valid_for_py_rattler(channel):
    from rattler import Channel, RepoData

    records = RepoData.from_path(channel / "linux-64" / "repodata.json").into_repo_data(
        Channel("local"))
    assert sorted(str(r.name.normalized) for r in records) == ["old", "zlib"]


def test_a_missing_channel_directory_or_subdir_is_empty(tmp_path):
    index = channels.read_channel(Channel.of(str(tmp_path / "nothing")), SUBDIRS, tmp_path)
    assert index.packages == {"linux-64": frozenset(), "noarch": frozenset()}


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"packages": []}', "'packages' is not an object"),
        ('{"packages.conda": {"a.conda": {"name": "a"}}}', "record a.conda has no 'version'"),
        ('{"packages": {"a.tar.bz2": {"name": "a", "version": 1, "build": "0"}}}',
         "must be strings"),
    ],
)
def test_malformed_repodata_is_a_channel_error_naming_the_file(tmp_path, text, what):
    (tmp_path / "linux-64").mkdir()
    (tmp_path / "linux-64" / "repodata.json").write_text(text)
    with pytest.raises(ChannelError) as caught:
        channels.read_channel(Channel.of(str(tmp_path)), SUBDIRS, tmp_path / "cache")
    assert str(caught.value).startswith(f"channel {tmp_path}: linux-64/repodata.json: ")
    assert what in str(caught.value)
    offline = channels.read_channel(Channel.of(str(tmp_path)), SUBDIRS, tmp_path / "cache",
                                    offline=True)
    assert offline.count() == 0


def test_an_unsupported_scheme_is_an_error(tmp_path):
    with pytest.raises(ChannelError, match="unsupported channel URL scheme 's3'"):
        channels.read_channel(Channel.of("s3://bucket/channel"), SUBDIRS, tmp_path)


# ---------------------------------------------------------------- HTTP


def test_http_channel_is_cached_and_revalidated_with_its_etag(channel, tmp_path):
    cache = tmp_path / "cache"
    with serve_channel(channel) as (url, seen):
        first = channels.read_channel(Channel.of(url), SUBDIRS, cache)
        second = channels.read_channel(Channel.of(url), SUBDIRS, cache)
    assert first == second
    assert first.packages["linux-64"] == {("zlib", "1.3", "habc_0"), ("old", "0.1", "h0_0")}
    assert seen == [
        ("GET", "/linux-64/repodata.json", 200), ("GET", "/noarch/repodata.json", 200),
        ("GET", "/linux-64/repodata.json", 304), ("GET", "/noarch/repodata.json", 304),
    ]
    assert len(list((cache / "repodata").glob("*.meta.json"))) == 2


def test_http_fetch_says_how_it_got_the_data(channel, tmp_path):
    cache = tmp_path / "cache"
    with serve_channel(channel) as (url, _):
        assert channels.fetch_repodata(Channel.of(url), "noarch", cache).how == "downloaded"
        assert channels.fetch_repodata(Channel.of(url), "noarch", cache).how == "revalidated"
        write_repodata(channel, "noarch", conda=[out("attrs", "24.1.0", "h1_0", "noarch")])
        changed = channels.fetch_repodata(Channel.of(url), "noarch", cache)
        assert changed.how == "downloaded" and b"24.1.0" in changed.body


def test_a_corrupt_cache_is_detected_and_fetched_again(channel, tmp_path):
    cache = tmp_path / "cache"
    with serve_channel(channel) as (url, seen):
        channels.read_channel(Channel.of(url), ["noarch"], cache)
        (body,) = (p for p in (cache / "repodata").glob("*.json") if ".meta" not in p.name)
        body.write_text('{"packages": {"trunc')
        again = channels.read_channel(Channel.of(url), ["noarch"], cache)
    assert again.packages["noarch"] == {("attrs", "23.2.0", "hdef_0")}
    assert [status for *_, status in seen] == [200, 200]  # not a 304 on a broken copy


def test_a_missing_subdir_over_http_is_empty(channel, tmp_path):
    with serve_channel(channel) as (url, _):
        index = channels.read_channel(Channel.of(url), ["osx-arm64"], tmp_path / "cache")
    assert index.packages == {"osx-arm64": frozenset()}


def test_malformed_http_repodata_is_an_error_and_is_not_cached(channel, tmp_path):
    (channel / "noarch" / "repodata.json").write_text("<html>proxy login</html>")
    with serve_channel(channel) as (url, _), pytest.raises(ChannelError, match="not valid JSON"):
        channels.read_channel(Channel.of(url), ["noarch"], tmp_path / "cache")
    assert not (tmp_path / "cache" / "repodata").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_channel_is_an_error_but_empty_offline(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/channel"
    with pytest.raises(ChannelError) as caught:
        channels.read_channel(Channel.of(url), SUBDIRS, tmp_path)
    assert str(caught.value).startswith(f"channel {url}: cannot fetch {url}/linux-64/repodata.json")
    assert channels.read_channel(Channel.of(url), SUBDIRS, tmp_path, offline=True).count() == 0


def test_offline_uses_a_cached_copy(channel, tmp_path):
    cache = tmp_path / "cache"
    with serve_channel(channel) as (url, _):
        online = channels.read_channel(Channel.of(url), SUBDIRS, cache)
    assert channels.read_channel(Channel.of(url), SUBDIRS, cache, offline=True) == online


@pytest.mark.parametrize(("text", "url", "path"), [
    ("cache/channel", "file:///ws/cache/channel", "/ws/cache/channel"),
    ("/srv/my ch", "file:///srv/my%20ch", "/srv/my ch"),
    ("file:///srv/my%20ch", "file:///srv/my%20ch", "/srv/my ch"),
    ("file://localhost/srv/ch", "file:///srv/ch", "/srv/ch"),
    ("https://conda.example.org/stable", "https://conda.example.org/stable", None),
])
def test_a_channel_is_made_once_from_its_text(text, url, path):
    """Every module reads a channel's URL and directory from one `Channel` (percent-decoded
    once): the builders' arguments, the container mounts, publishing and reading repodata."""
    channel = Channel.of(text, Path("/ws"))
    assert (channel.url, channel.path) == (url, Path(path) if path else None)
    assert str(channel) == (path or url)
