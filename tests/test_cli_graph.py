"""Given a workspace of real recipes in a real git repository, when I run graph / why / query."""

from __future__ import annotations

import json

import pytest

SIX = """\
    {% set version = "1.16.0" %}
    package:
      name: six
      version: {{ version }}
    build:
      noarch: python
    requirements:
      host:
        - python
        - pip
      run:
        - python
    """

DATEUTIL = """\
    package:
      name: python-dateutil
      version: 2.9.0
    build:
      noarch: python
    requirements:
      host:
        - python
        - pip
      run:
        - python
        - six >=1.5
    test:
      requires:
        - pytest
    """

OWN_UTIL = """\
    package:
      name: own-util
      version: 0.1.0
    source:
      path: ..
    build:
      noarch: python
    requirements:
      host:
        - python
        - pip
      run:
        - python
        - python-dateutil >=2.8
    """

SPLIT = """\
    package:
      name: libfoo-split
      version: 1.0
    outputs:
      - name: libfoo
        requirements:
          host:
            - six
      - name: libfoo-dev
        requirements:
          run:
            - libfoo
    """

ORG = {
    "recipes/python-six/meta.yaml": SIX,
    "recipes/python-dateutil/meta.yaml": DATEUTIL,
    "internal/own-util/conda/meta.yaml": OWN_UTIL,
    "internal/own-util/pyproject.toml": '[project]\nname = "own-util"\nversion = "0.1.0"\n',
    "internal/own-util/src/own_util/__init__.py": "",
    "recipes/libfoo/meta.yaml": SPLIT,
}

BROKEN = """\
    package:
      name: broken
      version: 1.0
    requirements:
      run: [python
    """


@pytest.fixture
def org(make_workspace):
    return make_workspace(ORG)


def cli_json(run_cli, args, cwd):
    result = run_cli([*args, "--format", "json"], cwd)
    assert (result.code, result.err) == (0, "")
    return json.loads(result.out)


def test_graph_json_lists_targets_edges_and_third_party_packages(run_cli, org):
    document = cli_json(run_cli, ["graph"], org)
    assert [n["target"] for n in document["nodes"]] == [
        "//internal/own-util", "//recipes/libfoo",
        "//recipes/python-dateutil", "//recipes/python-six",
    ]
    own = document["nodes"][0]
    assert own["path"] == "internal/own-util"
    assert own["recipe"] == "internal/own-util/conda/meta.yaml"
    assert own["outputs"] == [{"name": "own-util", "version": "0.1.0"}]
    assert document["edges"] == [
        {"from": "//internal/own-util", "to": "//recipes/python-dateutil",
         "package": "python-dateutil", "sections": ["run"]},
        {"from": "//recipes/libfoo", "to": "//recipes/python-six",
         "package": "six", "sections": ["host"]},
        {"from": "//recipes/python-dateutil", "to": "//recipes/python-six",
         "package": "six", "sections": ["run"]},
    ]
    external = {e["package"]: e["required_by"] for e in document["external"]}
    assert external["pytest"] == ["//recipes/python-dateutil"]
    assert "libfoo" not in external


def test_graph_of_some_targets_includes_their_dependencies(run_cli, org):
    document = cli_json(run_cli, ["graph", "python-dateutil"], org)
    assert [n["target"] for n in document["nodes"]] == [
        "//recipes/python-dateutil", "//recipes/python-six",
    ]


def test_graph_dot_and_text(run_cli, org):
    dot = run_cli(["graph", "--format", "dot"], org)
    assert dot.code == 0
    assert dot.out.startswith("digraph")
    assert '"//recipes/python-dateutil" -> "//recipes/python-six" [label="run"];' in dot.out
    text = run_cli(["graph", "//internal/..."], org)
    assert text.code == 0
    assert text.out.splitlines()[:3] == [
        "//internal/own-util",
        "└── --run: python-dateutil >=2.8--> //recipes/python-dateutil",
        "    └── --run: six >=1.5--> //recipes/python-six",
    ]


def test_why_walks_down_from_top_level_targets(run_cli, org):
    result = run_cli(["why", "six"], org)
    assert result.code == 0, result.err
    assert "--run: six >=1.5--> //recipes/python-six" in result.out
    assert "//recipes/libfoo\n└── --host: six--> //recipes/python-six" in result.out
    assert "status:\n  //internal/own-util: build (not in channel" in result.out
    document = cli_json(run_cli, ["why", "six", "--no-status"], org)
    assert document == {
        "target": "//recipes/python-six",
        "package": "six",
        "needed_by": ["//internal/own-util", "//recipes/libfoo", "//recipes/python-dateutil"],
        "paths": [
            ["//internal/own-util", "//recipes/python-dateutil", "//recipes/python-six"],
            ["//recipes/libfoo", "//recipes/python-six"],
        ],
        "truncated": False,
    }


def test_why_a_third_party_package_and_between_two_targets(run_cli, org):
    document = cli_json(run_cli, ["why", "pytest"], org)
    assert document["target"] is None
    assert document["needed_by"] == ["//internal/own-util", "//recipes/python-dateutil"]
    between = cli_json(run_cli, ["why", "//internal/own-util", "six"], org)
    assert between["paths"] == [
        ["//internal/own-util", "//recipes/python-dateutil", "//recipes/python-six"],
    ]


def test_query_deps_rdeps_path(run_cli, org):
    deps = run_cli(["query", "deps", "//internal/own-util", "--depth", "1"], org)
    assert (deps.code, deps.out) == (0, "//recipes/python-dateutil\n")
    rdeps = run_cli(["query", "rdeps", "six"], org)
    assert rdeps.out.splitlines() == [
        "//internal/own-util", "//recipes/libfoo", "//recipes/python-dateutil",
    ]
    path = run_cli(["query", "path", "own-util", "six"], org)
    assert path.out == "//internal/own-util //recipes/python-dateutil //recipes/python-six\n"
    none = run_cli(["query", "path", "six", "own-util"], org)
    assert none == (0, "", "note: //recipes/python-six does not depend on //internal/own-util\n")


def test_commands_work_from_a_subdirectory_and_with_C(run_cli, org):
    inside = run_cli(["query", "deps", "own-util"], org / "internal" / "own-util" / "src")
    assert inside.code == 0
    assert run_cli(["-C", org, "query", "deps", "own-util"], org.parent).out == inside.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["graph", "//recipes/python-sx"], "error: no target matches '//recipes/python-sx' "
                                            "(hint: did you mean '//recipes/python-six'"),
        (["why", "sixx"], "error: no target or package matches 'sixx' (hint: did you mean 'six'"),
        (["query", "path", "six"], "error: query path takes two targets"),
        (["query", "deps", "six", "--depth", "0"], "error: --depth takes a number >= 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, org, args, message):
    result = run_cli(args, org)
    assert result.code == 2
    assert result.err.startswith(message)
    assert result.err.count("\n") == 1
    assert result.out == ""


def test_broken_recipe_is_reported_after_the_rest_is_answered(run_cli, make_workspace):
    root = make_workspace({**ORG, "recipes/broken/meta.yaml": BROKEN})
    result = run_cli(["query", "rdeps", "six"], root)
    assert result.code == 2
    assert result.out.splitlines() == [
        "//internal/own-util", "//recipes/libfoo", "//recipes/python-dateutil",
    ]
    (line,) = result.err.splitlines()
    assert line.startswith("error: recipes/broken/meta.yaml:")
    assert "Traceback" not in result.err


def test_cycle_is_one_line_naming_the_whole_cycle(run_cli, make_workspace):
    run_python = "      run:\n        - python\n"
    cyclic = SIX.replace(run_python, "      run:\n        - python-dateutil\n")
    root = make_workspace({**ORG, "recipes/python-six/meta.yaml": cyclic})
    result = run_cli(["graph"], root)
    assert result.code == 2
    assert result.err == (
        "error: dependency cycle: //recipes/python-dateutil --run: six >=1.5 "
        "(recipes/python-dateutil/meta.yaml:12)--> //recipes/python-six --run: "
        "python-dateutil (recipes/python-six/meta.yaml:12)--> //recipes/python-dateutil "
        "(hint: remove one of these requirements or split a recipe into outputs)\n"
    )


def test_two_recipes_producing_one_package_names_both_files(run_cli, make_workspace):
    root = make_workspace({**ORG, "recipes/six-again/meta.yaml": SIX})
    result = run_cli(["graph"], root)
    assert result.code == 2
    assert result.err == (
        "error: recipes/six-again/meta.yaml: package 'six' is also produced by "
        "recipes/python-six/meta.yaml (hint: rename one of the outputs or remove one recipe)\n"
    )


def test_no_workspace_is_an_error_not_a_traceback(run_cli, tmp_path):
    result = run_cli(["graph"], tmp_path)
    assert result.code == 2
    assert result.err.startswith("error: no WORKSPACE.toml in ")
    assert result.err.count("\n") == 1


LINUX_SKIPPED = """\
    package:
      name: win-helper
      version: 1.0
    build:
      skip: true  # [linux]
    requirements:
      run:
        - six
    """

V1_RECIPE = """\
    package:
      name: attrs
      version: 23.2.0
    build:
      noarch: python
    requirements:
      host:
        - pip
      run:
        - six
    """


def test_skipped_recipe_is_a_node_without_edges_and_v1_recipes_count(run_cli, make_workspace):
    root = make_workspace({
        **ORG,
        "recipes/win-helper/meta.yaml": LINUX_SKIPPED,
        "recipes/python-attrs/recipe.yaml": V1_RECIPE,
    })
    document = cli_json(run_cli, ["graph", "//recipes/win-helper", "attrs"], root)
    nodes = {n["target"]: n for n in document["nodes"]}
    assert nodes["//recipes/win-helper"]["skipped"] is True
    assert nodes["//recipes/python-attrs"]["recipe"] == "recipes/python-attrs/recipe.yaml"
    assert document["edges"] == [
        {"from": "//recipes/python-attrs", "to": "//recipes/python-six",
         "package": "six", "sections": ["run"]},
    ]
