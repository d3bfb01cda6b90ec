"""WORKSPACE.toml: defaults, normalized roots and override labels, one-line errors."""

from __future__ import annotations

import pytest
from orchestrator.errors import WorkspaceError
from orchestrator.workspace import parse_workspace_config


def test_a_name_alone_is_a_workspace_with_the_documented_defaults():
    config = parse_workspace_config({"workspace": {"name": "x"}}, "WORKSPACE.toml")
    assert config.workspace.roots == ("recipes", "internal")
    assert config.workspace.platform == "linux-64"
    assert config.variant == {"python": "3.11"}
    assert (config.build.builder, config.build.container) == ("rattler-build", "none")
    assert config.channels.target == "cache/channel"


def test_roots_are_normalized_and_override_keys_become_labels():
    config = parse_workspace_config({
        "workspace": {"name": "x", "roots": ["recipes/", "./internal"]},
        "build": {"overrides": {"recipes/six": {"image": "a"}, "//internal/x/": {"image": "b"}}},
    }, "WORKSPACE.toml")
    assert config.workspace.roots == ("recipes", "internal")
    assert sorted(config.build.overrides) == ["//internal/x", "//recipes/six"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"workspace": {"name": "x", "roots": ["."]}}, "workspace.roots: Value error, '.' is not"),
        ({"workspace": {"name": "x", "roots": ["../x"]}}, "workspace.roots: Value error, '../x'"),
        ({"workspace": {"name": "x", "roots": ["/etc"]}}, "workspace.roots: Value error, '/etc'"),
        ({"workspace": {"name": "x"}, "channels": {"target": ""}}, "channels.target: String"),
        ({"workspace": {"name": "x", "platfrom": "linux-64"}}, "workspace.platfrom: unknown key"),
        ({"workspace": {}}, "workspace.name: required key is missing"),
        ({"workspace": {"name": "x"}, "build": {"jobs": "many"}}, "build.jobs: Input should be"),
    ],
)
def test_bad_configuration_names_the_file_and_the_key(data, message):
    with pytest.raises(WorkspaceError) as error:
        parse_workspace_config(data, "ws/WORKSPACE.toml")
    assert str(error.value).startswith(f"ws/WORKSPACE.toml: {message}")
