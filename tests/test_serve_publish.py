"""`orchestrate build` into a served channel: given a workspace whose target is an http channel
of a running server (token from `[channels] token_env`), when it builds two dependent
targets, then both packages are uploaded, the second resolved the first from the server, a
second build builds nothing (it read the remote repodata with the token), and the channel's
nightly page shows both builds."""

from __future__ import annotations

import pytest
from orchestrator.serve import tokens
from serve_support import Server, repodata, request, served_config

RECIPES = {
    "recipes/base-tool/meta.yaml": (
        "package:\n  name: base-tool\n  version: 1.0\nbuild:\n  number: 0\n  noarch: generic\n"
    ),
    "recipes/top-tool/meta.yaml": (
        "package:\n  name: top-tool\n  version: 2.0\nbuild:\n  number: 0\n  noarch: generic\n"
        "requirements:\n  host:\n    - base-tool\n  run:\n    - base-tool\n"
    ),
}


@pytest.mark.slow
def test_build_publishes_each_package_to_the_server(make_workspace, run_cli, tmp_path,
                                                    monkeypatch):
    root = make_workspace(RECIPES)
    config = served_config(tmp_path / "served", channels=("testing",), size_limit=1 << 24,
                           cache_dir=root / "cache")
    with Server(config) as server:
        (root / "WORKSPACE.toml").write_text(
            '[workspace]\nname = "test-org"\n[channels]\n'
            f'target = "{server.url}/testing"\ntoken_env = "ACME_UPLOAD_TOKEN"\n')
        monkeypatch.setenv("ACME_UPLOAD_TOKEN",
                           tokens.create_token(config.root, "testing", "upload"))
        first = run_cli(["-C", root, "build", "-j", "1"])
        assert first.code == 0, first.out + first.err
        served = sorted(r["name"] for r in repodata(config.root, "testing")
                        ["packages.conda"].values())
        assert served == ["base-tool", "top-tool"]
        again = run_cli(["-C", root, "build"])
        assert again.code == 0 and "nothing to build" in again.out, again.out + again.err
        status, page, _ = request(f"{server.url}/builds/")
        assert status == 200 and b"//recipes/top-tool" in page and b"success" in page


def test_a_wrong_token_fails_the_plan_with_one_line(make_workspace, run_cli, tmp_path,
                                                    monkeypatch):
    root = make_workspace(RECIPES)
    config = served_config(tmp_path / "served", channels=("testing",))
    with Server(config) as server:
        (root / "WORKSPACE.toml").write_text(
            '[workspace]\nname = "test-org"\n[channels]\n'
            f'target = "{server.url}/testing"\ntoken_env = "ACME_UPLOAD_TOKEN"\n')
        monkeypatch.setenv("ACME_UPLOAD_TOKEN", "deadbeef-0123")
        result = run_cli(["-C", root, "build"])
    assert result.code == 2
    assert result.err.startswith("error: channel ") and "HTTP 401" in result.err
    assert "deadbeef-0123" not in result.err and "Traceback" not in result.err


def test_the_gitlab_pipeline_of_a_served_target_uploads_from_each_job(make_workspace, run_cli,
                                                                      tmp_path, monkeypatch):
    root = make_workspace(RECIPES)
    config = served_config(tmp_path / "served", channels=("testing",))
    with Server(config) as server:
        (root / "WORKSPACE.toml").write_text(
            '[workspace]\nname = "test-org"\n[channels]\n'
            f'target = "{server.url}/testing"\ntoken_env = "ACME_UPLOAD_TOKEN"\n')
        monkeypatch.setenv("ACME_UPLOAD_TOKEN",
                           tokens.create_token(config.root, "testing", "read"))
        result = run_cli(["-C", root, "pipeline", "gitlab"], cwd=root)
    assert result.code == 0, result.err
    assert "artifacts: false" in result.out and "artifacts: true" not in result.out
    assert "cache/channel/" not in result.out and "build:recipes/top-tool" in result.out
