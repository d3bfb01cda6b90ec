"""The channel service: given a served root and packages built by rattler-build, when clients
upload and read over real HTTP on 127.0.0.1, then the channel holds exactly what was accepted
and every refusal leaves no trace."""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from orchestrator.serve import tokens
from serve_support import (
    Server,
    build_tiny_packages,
    repodata,
    request,
    served_config,
    upload,
)


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    return build_tiny_packages(tmp_path_factory.mktemp("tiny"), 20)


@pytest.fixture
def config(tmp_path):
    return served_config(tmp_path / "served", public=("stable",))


@pytest.fixture
def server(config):
    with Server(config) as running:
        yield running


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listed(root, channel="testing") -> dict:
    data = repodata(root, channel)
    return {**data.get("packages", {}), **data.get("packages.conda", {})}


def test_an_upload_is_listed_with_its_sha256_and_the_same_bytes_again_change_nothing(
        server, config, packages):
    token = tokens.create_token(config.root, "testing", "upload")
    status, body, _ = upload(server.url, "testing", packages[0], token)
    assert status == 201, body
    assert json.loads(body)["sha256"] == sha256(packages[0])
    assert listed(config.root)[packages[0].name]["sha256"] == sha256(packages[0])
    status, body, _ = upload(server.url, "testing", packages[0], token)
    assert (status, json.loads(body)["created"]) == (200, False)


def test_other_bytes_under_an_existing_name_are_a_conflict(server, config, packages, tmp_path):
    token = tokens.create_token(config.root, "testing", "upload")
    assert upload(server.url, "testing", packages[0], token)[0] == 201
    rebuilt = build_tiny_packages(tmp_path / "again", 1)[0]  # same name, a newer timestamp
    assert rebuilt.name == packages[0].name and sha256(rebuilt) != sha256(packages[0])
    status, body, _ = upload(server.url, "testing", rebuilt, token)
    assert status == 409, body
    on_disk = config.root / "testing" / "noarch" / packages[0].name
    assert sha256(on_disk) == sha256(packages[0])


@pytest.mark.parametrize("name", ["../evil-1-0.conda", "x.txt", ".hidden-1-0.conda",
                                  "tiny-9.9-h0_0.conda", "tiny-1.0.1-h593cce5_0.tar.bz2"])
def test_names_that_are_not_this_package_are_refused_without_trace(server, config, packages,
                                                                     name):
    token = tokens.create_token(config.root, "testing", "upload")
    status, _, _ = upload(server.url, "testing", packages[0], token, name=name)
    assert status == 400
    assert listed(config.root) == {}
    assert not list((config.root / ".uploads").glob("*/*"))
    assert not (config.root.parent / "evil-1-0.conda").exists()


def test_not_a_package_and_too_large_are_refused(server, config, tmp_path):
    token = tokens.create_token(config.root, "testing", "upload")
    junk = tmp_path / "junk-1.0-0.conda"
    junk.write_bytes(b"not a zip")
    assert upload(server.url, "testing", junk, token)[0] == 400
    big = tmp_path / "big-1.0-0.conda"
    big.write_bytes(b"\0" * (config.size_limit + 1))
    assert upload(server.url, "testing", big, token)[0] == 413
    assert listed(config.root) == {}


def _bad_tokens(root):
    revoked = tokens.create_token(root, "testing", "upload")
    tokens.revoke_token(root, revoked.split("-")[0])
    good_id = tokens.create_token(root, "testing", "upload").split("-")[0]
    return {
        # case: (token, upload status, read status)
        "missing": (None, 401, 401),
        "wrong": ("deadbeef-0000", 401, 401),
        "wrong secret": (f"{good_id}-0000not0the0secret", 401, 401),
        "revoked": (revoked, 401, 401),
        "expired": (tokens.create_token(root, "testing", "upload", expires_days=0), 401, 401),
        "read scope": (tokens.create_token(root, "testing", "read"), 403, 200),
        "other channel": (tokens.create_token(root, "stable", "promote"), 403, 403),
    }


def test_bad_tokens_get_401_or_403_and_leave_no_trace(server, config, packages, caplog):
    caplog.set_level(logging.INFO, logger="orchestrate.serve")
    for case, (token, upload_status, read_status) in _bad_tokens(config.root).items():
        status, _, _ = upload(server.url, "testing", packages[1], token)
        assert status == upload_status, case
        status, _, _ = request(f"{server.url}/t/{token or 'x-y'}/testing/noarch/repodata.json")
        assert status == read_status, case
    assert listed(config.root) == {}
    assert not (config.root / "testing" / "noarch" / packages[1].name).exists()
    assert "0000not0the0secret" not in caplog.text and "/t/***/testing" in caplog.text


def test_reading_needs_a_token_in_the_path_unless_the_channel_is_public(server, config):
    token = tokens.create_token(config.root, "testing", "read")
    assert request(f"{server.url}/testing/noarch/repodata.json")[0] == 401
    status, body, headers = request(f"{server.url}/t/{token}/testing/noarch/repodata.json")
    assert status == 200 and json.loads(body)["info"]["subdir"] == "noarch"
    assert request(f"{server.url}/stable/noarch/repodata.json")[0] == 200
    etag = headers["ETag"]
    again = request(f"{server.url}/t/{token}/testing/noarch/repodata.json",
                    headers={"If-None-Match": etag})
    assert again[0] == 304
    part = request(f"{server.url}/t/{token}/testing/noarch/repodata.json",
                   headers={"Range": "bytes=0-9"})
    assert (part[0], part[1]) == (206, body[:10])
    assert request(f"{server.url}/t/{token}/testing/../.tokens.sqlite3")[0] == 404


def test_repodata_zst_is_the_same_document(server, config):
    import zstandard

    status, body, _ = request(f"{server.url}/stable/noarch/repodata.json.zst")
    assert status == 200
    plain = (config.root / "stable" / "noarch" / "repodata.json").read_bytes()
    assert zstandard.ZstdDecompressor().decompress(body, max_output_size=1 << 24) == plain


def test_twenty_concurrent_uploads_are_each_listed_once_with_their_sha256(server, config,
                                                                          packages):
    token = tokens.create_token(config.root, "testing", "upload")
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda p: upload(server.url, "testing", p, token)[0], packages))
    assert statuses == [201] * 20
    records = listed(config.root)
    assert {name: r["sha256"] for name, r in records.items()} == {
        p.name: sha256(p) for p in packages}
    on_disk = sorted(p.name for p in (config.root / "testing" / "noarch").glob("*.conda"))
    assert on_disk == sorted(p.name for p in packages)
