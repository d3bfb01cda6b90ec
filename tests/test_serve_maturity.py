"""testing → stable → prune → restore, over HTTP and through the CLI: the same bytes move
(hard links), the archive keeps what stable loses, and restore brings it back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from orchestrator.serve import tokens
from serve_support import (
    Server,
    build_tiny_packages,
    post_json,
    repodata,
    request,
    served_config,
    upload,
)


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    return build_tiny_packages(tmp_path_factory.mktemp("tiny"), 3)


@pytest.fixture
def config(tmp_path):
    return served_config(tmp_path / "served")


def names(root, channel) -> list[str]:
    return sorted(repodata(root, channel).get("packages.conda", {}))


def test_promote_prune_restore_over_http(config, packages):
    with Server(config) as server:
        uploader = tokens.create_token(config.root, "testing", "upload")
        for package in packages:
            assert upload(server.url, "testing", package, uploader)[0] == 201
        promoter = tokens.create_token(config.root, "stable", "promote")
        body = {"specs": ["tiny"], "to": "stable"}
        assert post_json(server.url, "testing", "promote", body, uploader)[0] == 403
        assert names(config.root, "stable") == []
        status, answer, _ = post_json(server.url, "testing", "promote", body, promoter)
        assert status == 200, answer
        assert names(config.root, "stable") == names(config.root, "archive") == \
            sorted(p.name for p in packages)
        promoted = config.root / "stable" / "noarch" / packages[0].name
        assert promoted.samefile(config.root / "testing" / "noarch" / packages[0].name)
        dry = post_json(server.url, "stable", "prune", {"keep": 1, "dry_run": True}, promoter)
        assert sorted(json.loads(dry[1])["removed"]) == [f"noarch/{packages[i].name}"
                                                         for i in (0, 1)]
        assert len(names(config.root, "stable")) == 3
        assert post_json(server.url, "stable", "prune", {"keep": 1}, promoter)[0] == 200
        assert names(config.root, "stable") == [packages[2].name]
        assert not promoted.exists() and len(names(config.root, "archive")) == 3
        status, _, _ = post_json(server.url, "stable", "restore",
                                 {"specs": ["tiny=1.0.1"]}, promoter)
        assert status == 200
        assert names(config.root, "stable") == sorted([packages[0].name, packages[2].name])


def test_prune_never_removes_what_the_archive_lacks(config, packages):
    from orchestrator.publish import publish_atomically
    from orchestrator.serve import maturity

    publish_atomically(config.root / "stable", packages, "linux-64")  # not through promote
    result = maturity.prune(config.root, "stable", 1, None, False, "archive", ("stable",))
    assert result["removed"] == [] and len(result["kept"]) == 2
    assert len(names(config.root, "stable")) == 3


def test_promote_needs_the_target_channels_promote_token(config, packages):
    with Server(config) as server:
        promoter = tokens.create_token(config.root, "stable", "promote")
        testing = tokens.create_token(config.root, "testing", "promote")
        body = {"specs": ["tiny"], "to": "stable"}
        assert post_json(server.url, "testing", "promote", body, testing)[0] == 403
        assert post_json(server.url, "testing", "promote", body, None)[0] == 401
        status, _, _ = post_json(server.url, "testing", "promote",
                                 {"specs": ["absent"], "to": "stable"}, promoter)
        assert status == 404
        assert post_json(server.url, "testing", "promote", {"to": "stable"}, promoter)[0] == 400
        assert names(config.root, "stable") == names(config.root, "archive") == []


WORKSPACE = """[workspace]
name = "acme"

[serve]
root = "served"
channels = ["testing", "stable"]
"""


def test_the_cli_creates_tokens_serves_promotes_prunes_and_restores(tmp_path, packages,
                                                                     run_cli):
    (tmp_path / "WORKSPACE.toml").write_text(WORKSPACE)
    code, token, err = run_cli(["-C", tmp_path, "token", "create", "--channel", "testing",
                                "--scope", "upload", "--note", "ci"])
    assert code == 0, err
    token = token.strip()
    listing = run_cli(["-C", tmp_path, "token", "list"]).out
    assert "testing" in listing and "active" in listing and token not in listing
    served = tmp_path / "served"
    server = subprocess.Popen([sys.executable, "-m", "orchestrator", "-C", str(tmp_path),
                               "serve", "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        url = _listening_url(server)
        for package in packages:
            assert upload(url, "testing", package, token)[0] == 201
        assert request(f"{url}/t/{token}/testing/noarch/repodata.json")[0] == 200
    finally:
        server.send_signal(signal.SIGTERM)
        log = server.communicate(timeout=30)[1]
    # uvicorn finishes its shutdown, then re-raises SIGTERM: the status systemd expects
    assert server.returncode == -signal.SIGTERM, log
    assert "Application shutdown complete" in log
    assert "POST /api/channels/testing/upload 201" in log and token not in log
    assert run_cli(["-C", tmp_path, "promote", "tiny", "--from", "testing", "--to",
                    "stable"]).code == 0
    assert len(names(served, "archive")) == 3
    pruned = run_cli(["-C", tmp_path, "prune", "--channel", "stable", "--keep", "1"])
    assert pruned.code == 0 and pruned.out.count("removed ") == 2
    restored = run_cli(["-C", tmp_path, "restore", "tiny=1.0.2", "--channel", "stable"])
    assert restored.code == 0 and "restored noarch/" in restored.out
    assert len(names(served, "stable")) == 2
    revoked = run_cli(["-C", tmp_path, "token", "revoke", token.split("-")[0]])
    assert revoked.code == 0
    again = run_cli(["-C", tmp_path, "token", "revoke", token.split("-")[0]])
    assert again.code == 2 and again.err.startswith("error: ")


def _listening_url(server) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        if "Uvicorn running on" in line:
            return line.split("running on ")[1].split()[0]
    raise AssertionError("orchestrate serve did not start")


