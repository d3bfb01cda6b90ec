"""What `graph`, `why` and `query` print, from a graph of recipe records (no rendering)."""

from __future__ import annotations

import json

import pytest
from conftest import output, recipe
from orchestrator import graph as g
from orchestrator.commands import graph as graph_cmd
from orchestrator.commands import query as query_cmd
from orchestrator.commands import why as why_cmd
from orchestrator.errors import PatternError
from test_graph import diamond, org


@pytest.fixture
def tg():
    return g.build_graph(org())


def test_graph_json_has_exactly_the_documented_shape(tg):
    nodes = g.with_dependencies(tg, g.select(tg, ["//internal/own-util"]))
    document = json.loads(json.dumps(graph_cmd.graph_document(tg, nodes)))
    assert document == {
        "nodes": [
            {
                "target": "//internal/own-util", "path": "internal/own-util",
                "recipe": "internal/own-util/meta.yaml",
                "outputs": [{"name": "own-util", "version": "1.0"}], "skipped": False,
            },
            {
                "target": "//recipes/python-dateutil", "path": "recipes/python-dateutil",
                "recipe": "recipes/python-dateutil/meta.yaml",
                "outputs": [{"name": "python-dateutil", "version": "2.8.2"}], "skipped": False,
            },
            {
                "target": "//recipes/python-six", "path": "recipes/python-six",
                "recipe": "recipes/python-six/meta.yaml",
                "outputs": [{"name": "six", "version": "1.0"}], "skipped": False,
            },
        ],
        "edges": [
            {"from": "//internal/own-util", "to": "//recipes/python-dateutil",
             "package": "python-dateutil", "sections": ["build", "run"]},
            {"from": "//recipes/python-dateutil", "to": "//recipes/python-six",
             "package": "six", "sections": ["run"]},
        ],
        "external": [
            {"package": "pip", "required_by": [
                "//internal/own-util", "//recipes/python-dateutil", "//recipes/python-six"]},
            {"package": "pytest", "required_by": ["//internal/own-util"]},
        ],
    }


def test_graph_json_has_one_edge_per_package():
    tg = g.build_graph([
        recipe("//app", output("app", "host: lib", "run: lib-run", "run: lib")),
        recipe("//lib", "lib", "lib-run"),
    ])
    edges = graph_cmd.graph_document(tg, ["//app", "//lib"])["edges"]
    assert edges == [
        {"from": "//app", "to": "//lib", "package": "lib", "sections": ["host", "run"]},
        {"from": "//app", "to": "//lib", "package": "lib-run", "sections": ["run"]},
    ]


def test_graph_dot_is_a_digraph_with_labelled_edges(tg):
    dot = graph_cmd.graph_dot(tg, g.select(tg, ["//..."]))
    assert dot.startswith("digraph targets {")
    assert dot.endswith("}")
    assert '"//internal/own-util" -> "//recipes/python-dateutil" [label="build, run"];' in dot
    assert '"//recipes/win-only" [label="//recipes/win-only\\nwin-only 1.0", style=dashed];' in dot
    assert dot.count("->") == tg.graph.number_of_edges()


def test_graph_text_is_a_tree_showing_shared_subtrees_once(tg):
    text = graph_cmd.graph_text(tg, g.select(tg, ["//..."]))
    lines = text.splitlines()
    assert lines[0] == "//internal/app"
    assert "├── --run: own-util >=0.1--> //internal/own-util" in lines
    assert "│   └── --build: python-dateutil, run: python-dateutil >=2.8--> " \
        "//recipes/python-dateutil" in lines
    assert "--run: six--> //recipes/python-six" in text
    assert lines.count("//recipes/libfoo") == 1
    assert lines[-1] == "third-party: gcc_linux-64, pip, pytest, python"


def test_why_json_shape_for_a_target_and_a_third_party_package(tg):
    assert why_cmd.why_document(g.why(tg, "python-dateutil")) == {
        "target": "//recipes/python-dateutil",
        "package": "python-dateutil",
        "needed_by": ["//internal/app", "//internal/own-util"],
        "paths": [["//internal/app", "//internal/own-util", "//recipes/python-dateutil"]],
        "truncated": False,
    }
    document = why_cmd.why_document(g.why(tg, "gcc_linux-64"))
    assert document["target"] is None
    assert document["needed_by"] == ["//recipes/libfoo"]


def test_why_text_walks_down_from_each_top_level_target(tg):
    text = why_cmd.why_text(tg, g.why(tg, "six"))
    assert text == (
        "six (//recipes/python-six) is needed by 4 target(s):\n"
        "//internal/app\n"
        "└── --run: own-util >=0.1--> //internal/own-util\n"
        "    └── --build: python-dateutil, run: python-dateutil >=2.8--> "
        "//recipes/python-dateutil\n"
        "        └── --run: six--> //recipes/python-six\n"
        "//recipes/libfoo\n"
        "└── --run: six--> //recipes/python-six\n"
    )


def test_why_text_for_a_third_party_package_ends_at_it(tg):
    text = why_cmd.why_text(tg, g.why(tg, "python"))
    assert text == (
        "python (third-party) is needed by 2 target(s):\n"
        "//internal/app\n"
        "├── --host: python--> python\n"
        "└── --run: attrs--> //recipes/python-attrs\n"
        "    └── --run: python--> python\n"
    )


def test_why_text_when_nothing_depends_on_it(tg):
    assert why_cmd.why_text(tg, g.why(tg, "app")) == (
        "nothing in this workspace depends on app (//internal/app)\n"
    )


def test_why_text_says_when_paths_are_truncated():
    tg = diamond(120)
    text = why_cmd.why_text(tg, g.why(tg, "bottom"))
    assert text.endswith("(first 100 paths shown)\n")
    assert text.count("--run: bottom--> //bottom") == 100


def test_query_documents(tg):
    assert query_cmd.reach_document(tg, "rdeps", ["six"], 1) == {
        "query": "rdeps", "targets": ["//recipes/python-six"], "depth": 1,
        "result": ["//recipes/libfoo", "//recipes/python-dateutil"],
    }
    assert query_cmd.path_document(tg, "libfoo", "//recipes/python-six") == {
        "from": "//recipes/libfoo", "to": "//recipes/python-six",
        "paths": [["//recipes/libfoo", "//recipes/python-six"]], "truncated": False,
    }
    with pytest.raises(PatternError, match="'pip' is a third-party package"):
        query_cmd.path_document(tg, "pip", "six")


def test_graph_text_of_a_long_chain_needs_no_recursion():
    chain = [recipe(f"//c/{i:04}", output(f"c{i:04}", f"run: c{i + 1:04}")) for i in range(1100)]
    tg = g.build_graph([*chain, recipe("//c/1100", "c1100")])
    lines = graph_cmd.graph_text(tg, list(tg.graph)).splitlines()
    assert len(lines) == 1101
    assert lines[-1].endswith("└── --run: c1100--> //c/1100")


def test_why_text_shows_only_the_requirement_on_the_asked_package():
    tg = g.build_graph([
        recipe("//lib", "lib", "lib-dev"),
        recipe("//app", output("app", "run: lib", "host: lib-dev >=1")),
    ])
    assert why_cmd.why_text(tg, g.why(tg, "lib-dev")).splitlines()[1:] == [
        "//app", "└── --host: lib-dev >=1--> //lib",
    ]
    assert "--host: lib-dev >=1, run: lib--> //lib" in why_cmd.why_text(tg, g.why(tg, "//lib"))
