"""Given a workspace of real recipes in a real git repository and a real channel (a directory or
an HTTP server on 127.0.0.1), when I run `orchestrate plan`, then it says what to build and why."""

from __future__ import annotations

import json

import pytest
from conftest import commit_all, write_files
from test_plan_support import (
    ORG,
    TARGETS,
    actions,
    plan_json,
    publish_outputs,
    reasons,
    serve_channel,
)

CORE = "internal/own-util/src/own_util/core.py"


@pytest.fixture
def org(make_workspace):
    return make_workspace(ORG)


def channel_of(root):
    return str(root / "cache" / "channel")


def test_a_fresh_workspace_builds_everything_in_order(org, run_cli):
    document = plan_json(run_cli, org)
    assert list(document) == ["platform", "channel", "nodes", "order"]
    assert document["platform"] == "linux-64"
    assert document["channel"] == channel_of(org)
    assert set(document["order"]) == set(TARGETS)
    order = document["order"]
    assert order.index("//recipes/zlib") < order.index("//recipes/libpng")
    assert order.index("//internal/own-util") < order.index("//internal/own-app")
    node = next(n for n in document["nodes"] if n["target"] == "//recipes/libpng")
    assert list(node) == ["target", "hash", "action", "reasons", "outputs"]
    assert node["reasons"] == [
        f"not in channel {channel_of(org)}", "dependency //recipes/zlib changed",
    ]
    build = f"h{node['hash'][:10]}_2"
    assert node["outputs"] == [{
        "name": "libpng", "version": "1.6.43", "build": build, "subdir": "linux-64",
        "filename": f"libpng-1.6.43-{build}.conda",
    }]
    attrs = next(n for n in document["nodes"] if n["target"] == "//recipes/python-attrs")
    assert attrs["outputs"][0]["subdir"] == "noarch"


def test_published_outputs_are_up_to_date_until_an_edit(org, run_cli):
    publish_outputs(org / "cache" / "channel", plan_json(run_cli, org)["nodes"])
    again = plan_json(run_cli, org)
    assert set(actions(again).values()) == {"up-to-date"} and again["order"] == []
    text = run_cli(["-C", org, "plan"])
    assert text.code == 0 and "nothing to build for linux-64: 0 to build, 6 up to date" in text.out

    write_files(org, {CORE: "def answer():\n    return 43\n"})
    edited = plan_json(run_cli, org)
    assert edited["order"] == ["//internal/own-util", "//internal/own-app"]
    assert reasons(edited)["//internal/own-util"] == [
        f"not in channel {channel_of(org)}", f"input changed: {CORE}",
    ]
    assert reasons(edited)["//internal/own-app"] == [
        f"not in channel {channel_of(org)}", "dependency //internal/own-util changed",
    ]
    assert actions(edited)["//internal/own-cli"] == "up-to-date"  # run deps enter no hash


def test_text_output_is_a_table_in_build_order_with_reasons(org, run_cli):
    publish_outputs(org / "cache" / "channel", plan_json(run_cli, org)["nodes"])
    write_files(org, {CORE: "X = 2\n"})
    result = run_cli(["-C", org, "plan"])
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    util = next(i for i, line in enumerate(lines) if "//internal/own-util" in line)
    app = next(i for i, line in enumerate(lines) if "//internal/own-app" in line)
    assert util < app
    assert f"input changed: {CORE}" in result.out
    assert "dependency //internal/own-util changed" in result.out
    assert lines[-1] == "2 to build, 4 up to date"


def test_a_target_to_build_pulls_in_its_unpublished_dependencies(org, run_cli):
    document = plan_json(run_cli, org, "//internal/own-cli")
    assert document["order"] == [
        "//recipes/python-attrs", "//internal/own-util", "//recipes/zlib", "//internal/own-app",
        "//internal/own-cli",
    ]
    assert reasons(document)["//internal/own-app"][-1] == "required by //internal/own-cli"
    assert reasons(document)["//recipes/zlib"][-1] == "required by //internal/own-app"


def test_changed_since_with_dependents_selects_exactly_the_affected_targets(org, run_cli):
    publish_outputs(org / "cache" / "channel", plan_json(run_cli, org)["nodes"])
    write_files(org, {CORE: "X = 3\n"})
    commit_all(org, "edit own-util")
    changed = plan_json(run_cli, org, "--changed-since", "HEAD~1")
    assert actions(changed) == {"//internal/own-util": "build"}
    assert reasons(changed)["//internal/own-util"] == [
        f"not in channel {channel_of(org)}", f"input changed: {CORE}",
    ]
    with_dependents = plan_json(run_cli, org, "--changed-since", "HEAD~1", "--dependents")
    assert actions(with_dependents) == {
        "//internal/own-util": "build", "//internal/own-app": "build",
        "//internal/own-cli": "up-to-date",
    }
    nothing = plan_json(run_cli, org, "--changed-since", "HEAD")
    assert nothing["nodes"] == [] and nothing["order"] == []


def test_changed_since_limits_a_pattern(org, run_cli):
    write_files(org, {"recipes/zlib/build.sh": "make\n"})
    commit_all(org)
    document = plan_json(run_cli, org, "//internal/...", "--changed-since", "HEAD~1",
                         "--dependents", "--offline")
    selected = {n["target"] for n in document["nodes"] if "required by" not in
                " ".join(n["reasons"])}
    assert selected == {"//internal/own-app", "//internal/own-cli"}


def test_unknown_ref_is_a_one_line_error(org, run_cli):
    result = run_cli(["-C", org, "plan", "--changed-since", "nope"])
    assert result.code == 2
    assert result.err == "error: unknown git ref 'nope'\n"


def test_full_builds_even_published_targets(org, run_cli):
    publish_outputs(org / "cache" / "channel", plan_json(run_cli, org)["nodes"])
    document = plan_json(run_cli, org, "--full", "//recipes/zlib")
    assert document["order"] == ["//recipes/zlib"]
    assert reasons(document)["//recipes/zlib"] == ["full build requested"]


def test_a_workspace_outside_git_says_so_once(make_workspace, run_cli):
    plain = make_workspace(ORG, git_repo=False)
    result = run_cli(["-C", plain, "plan", "--format", "json"])
    assert result.code == 0
    assert result.err.count("warning:") == 1
    assert f"warning: {plain} is not a git repository" in result.err
    assert len(json.loads(result.out)["order"]) == len(TARGETS)


def test_an_unreachable_channel_is_an_error_unless_offline(org, run_cli):
    toml = (org / "WORKSPACE.toml").read_text()
    write_files(org, {"WORKSPACE.toml": toml + '[channels]\nextra = ["http://127.0.0.1:9/c"]\n'})
    result = run_cli(["-C", org, "plan"])
    assert result.code == 2
    assert result.err.startswith("error: channel http://127.0.0.1:9/c: cannot fetch ")
    assert len(result.err.splitlines()) == 1
    assert run_cli(["-C", org, "plan", "--offline"]).code == 0


def test_over_http_published_outputs_are_up_to_date_and_revalidated(org, run_cli, tmp_path):
    served = tmp_path / "served"
    publish_outputs(served, plan_json(run_cli, org)["nodes"])
    with serve_channel(served) as (url, seen):
        toml = (org / "WORKSPACE.toml").read_text()
        write_files(org, {"WORKSPACE.toml": toml + f'[channels]\ntarget = "{url}"\n'})
        first = plan_json(run_cli, org)
        second = plan_json(run_cli, org)
        write_files(org, {CORE: "X = 4\n"})
        edited = plan_json(run_cli, org)
    assert first["channel"] == url
    # WORKSPACE.toml changed (a global input) but no hash depends on the channel URL
    assert set(actions(first).values()) == {"up-to-date"}
    assert first == second
    assert edited["order"] == ["//internal/own-util", "//internal/own-app"]
    assert reasons(edited)["//internal/own-util"][0] == f"not in channel {url}"
    statuses = [status for _, _, status in seen]
    assert statuses == [200, 200, 304, 304, 304, 304]


def test_why_with_status_says_what_will_be_built_and_why(org, run_cli):
    publish_outputs(org / "cache" / "channel", plan_json(run_cli, org)["nodes"])
    write_files(org, {CORE: "X = 5\n"})
    result = run_cli(["-C", org, "why", "own-util", "--format", "json"])
    assert result.code == 0, result.err
    assert json.loads(result.out)["status"] == {
        "//internal/own-util": {"action": "build", "reasons": [
            f"not in channel {channel_of(org)}", f"input changed: {CORE}"]},
        "//internal/own-app": {"action": "build", "reasons": [
            f"not in channel {channel_of(org)}", "dependency //internal/own-util changed"]},
        "//internal/own-cli": {"action": "up-to-date", "reasons": []},
    }
    text = run_cli(["-C", org, "why", "own-util"])
    assert text.out.splitlines()[-4:] == [
        "status:",
        "  //internal/own-app: build (not in channel "
        f"{channel_of(org)}; dependency //internal/own-util changed)",
        "  //internal/own-cli: up-to-date",
        f"  //internal/own-util: build (not in channel {channel_of(org)}; input changed: {CORE})",
    ]
    assert "status" not in json.loads(run_cli(["-C", org, "why", "own-util", "--no-status",
                                               "--format", "json"]).out)


def test_a_deleted_input_selects_its_owner_with_changed_since(org, run_cli):
    from conftest import git

    git(org, "rm", "-q", "internal/own-cli/tests/test_core.py")
    commit_all(org, "drop a test")
    document = plan_json(run_cli, org, "--changed-since", "HEAD~1", "--offline")
    assert [n["target"] for n in document["nodes"]][-1] == "//internal/own-cli"
    assert "input changed: internal/own-cli/tests/test_core.py" in \
        reasons(document)["//internal/own-cli"]


def test_a_recipe_skipped_on_this_platform_is_skipped(make_workspace, run_cli):
    winonly = """\
        package:
          name: winonly
          version: "1.0"
        build:
          skip: true  # [not win]
        """
    ws = make_workspace({**ORG, "recipes/winonly/meta.yaml": winonly})
    document = plan_json(run_cli, ws)
    assert actions(document)["//recipes/winonly"] == "skipped"
    assert reasons(document)["//recipes/winonly"] == ["skipped on linux-64"]
    assert "//recipes/winonly" not in document["order"]
    assert run_cli(["-C", ws, "plan"]).out.splitlines()[-1] == (
        "6 to build, 0 up to date, 1 skipped on linux-64"
    )


def test_an_override_for_no_target_is_an_error(org, run_cli):
    toml = org / "WORKSPACE.toml"
    toml.write_text(toml.read_text() + '\n[build.overrides."recipes/nope"]\ntimeout = 5\n')
    result = run_cli(["-C", org, "plan"])
    assert result.code == 2
    assert result.err == (f"error: {toml}: build.overrides: //recipes/nope matches no target "
                          "(hint: keys are target labels such as //recipes/<directory>)\n")


BROKEN = "package:\n  name: broken\n  version: {{ nope(\n"


def test_build_dry_run_shows_exactly_what_plan_shows_even_past_a_broken_recipe(org, run_cli):
    write_files(org, {"recipes/broken/meta.yaml": BROKEN})
    commit_all(org, "a broken recipe")
    plan = run_cli(["-C", org, "plan", "--offline"])
    dry = run_cli(["-C", org, "build", "--dry-run", "--offline"])
    assert plan.code == dry.code == 2  # the rest answered, then the recipe's error
    assert "//recipes/zlib" in plan.out and dry.out == plan.out and dry.err == plan.err
    assert plan.err.startswith("error: recipes/broken/meta.yaml")


def test_a_warm_pipeline_and_dry_run_read_the_graph_snapshot_without_rendering(
        org, run_cli, monkeypatch):
    from orchestrator.recipes import render_workspace

    first = plan_json(run_cli, org, "--offline")  # cold: renders and saves the snapshot

    def no_render(*_args):
        raise AssertionError("a warm run renders nothing: the snapshot answers")

    monkeypatch.setattr(render_workspace, "render_keyed", no_render)
    assert plan_json(run_cli, org, "--offline") == first
    dry = run_cli(["-C", org, "build", "--dry-run", "--offline"])
    pipeline = run_cli(["-C", org, "pipeline", "gitlab", "--offline"], org)
    assert dry.code == 0 and pipeline.code == 0, dry.err + pipeline.err
    assert all(f"build:{t.removeprefix('//')}:" in pipeline.out for t in first["order"])


def test_every_planning_command_takes_the_same_plan_options():
    import argparse

    from orchestrator import cli

    def plan_options(parser) -> dict:
        return {a.dest: (a.help, a.default) for a in parser._actions if a.dest in (
            "targets", "changed_since", "dependents", "full", "offline")}

    plan, build, pipeline = (cli._command_parser(name)[0] for name in ("plan", "build",
                                                                         "pipeline"))
    engines = next(a for a in pipeline._actions if isinstance(a, argparse._SubParsersAction))
    assert len(plan_options(plan)) == 5
    assert plan_options(plan) == plan_options(build) == plan_options(engines.choices["gitlab"])


def test_orchestrate_help_describes_the_tool_for_its_users(capsys):
    from orchestrator import cli

    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "conda recipes" in out and "commands/<name>.py" not in out
