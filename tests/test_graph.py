"""graph.py on rendered recipe records: edges, externals, errors, patterns, orders, queries."""

from __future__ import annotations

import pytest
from conftest import output, recipe
from orchestrator import graph as g
from orchestrator.errors import CycleError, PatternError, RecipeErrors


def org():
    """A small organization: app → own-util → dateutil → six; attrs; a multi-output lib."""
    return [
        recipe(
            "//internal/app",
            output("app", "host: python", "host: pip", "run: own-util >=0.1", "run: attrs"),
        ),
        recipe(
            "//internal/own-util",
            output(
                "own-util", "host: pip", "run: python-dateutil >=2.8", "test: pytest",
                "build: python-dateutil",
            ),
        ),
        recipe("//recipes/python-dateutil",
               output("python-dateutil", "host: pip", "run: six", version="2.8.2")),
        recipe("//recipes/python-six", output("six", "host: pip")),
        recipe("//recipes/python-attrs", output("attrs", "host: pip", "run: python")),
        recipe(
            "//recipes/libfoo",
            output("libfoo", "build: gcc_linux-64"),
            output("libfoo-dev", "run: libfoo", "run: six"),
        ),
        recipe("//recipes/win-only", output("win-only", "run: attrs"), skipped=True),
    ]


@pytest.fixture
def tg():
    return g.build_graph(org())


def test_edges_go_from_dependent_to_producer_with_sections_and_specs(tg):
    reqs = tg.graph.edges["//internal/own-util", "//recipes/python-dateutil"]["requirements"]
    assert [(r.section, r.spec) for r in reqs] == [
        ("build", "python-dateutil"),
        ("run", "python-dateutil >=2.8"),
    ]
    assert tg.graph.has_edge("//internal/app", "//internal/own-util")
    assert not tg.graph.has_edge("//recipes/python-dateutil", "//internal/own-util")
    assert tg.producers["six"] == "//recipes/python-six"


def test_third_party_requirements_are_external_not_errors(tg):
    assert tg.external["pip"] == (
        "//internal/app", "//internal/own-util", "//recipes/python-attrs",
        "//recipes/python-dateutil", "//recipes/python-six",
    )
    assert tg.external["gcc_linux-64"] == ("//recipes/libfoo",)
    assert tg.external["pytest"] == ("//internal/own-util",)
    assert "six" not in tg.external


def test_dependency_inside_a_multi_output_recipe_is_no_edge(tg):
    assert not tg.graph.has_edge("//recipes/libfoo", "//recipes/libfoo")
    assert "libfoo" not in tg.external
    assert list(tg.graph.successors("//recipes/libfoo")) == ["//recipes/python-six"]


def test_skipped_recipe_is_a_node_without_requirements(tg):
    assert "//recipes/win-only" in tg.graph
    assert tg.graph.out_degree("//recipes/win-only") == 0
    assert "//recipes/win-only" not in g.rdeps(tg, ["//recipes/python-attrs"])


def test_two_recipes_producing_one_package_name_both_files():
    recipes = [recipe("//recipes/a", "attrs"), recipe("//recipes/b", "attrs")]
    with pytest.raises(RecipeErrors) as info:
        g.build_graph(recipes)
    (line,) = info.value.lines()
    assert line.startswith("recipes/b/meta.yaml: package 'attrs' is also produced by ")
    assert "recipes/a/meta.yaml" in line


def test_cycle_names_every_target_and_the_closing_requirements():
    recipes = [
        recipe("//a", output("a", "host: b")),
        recipe("//b", output("b", "run: c >=1")),
        recipe("//c", output("c", "run: a", "test: a")),
        recipe("//d", output("d", "run: a")),
    ]
    with pytest.raises(CycleError) as info:
        g.build_graph(recipes)
    assert str(info.value).startswith(
        "dependency cycle: //a --host: b--> //b --run: c >=1--> //c --run: a, test: a--> //a"
    )


def test_cycle_reports_the_shortest_cycle_through_the_smallest_target():
    recipes = [
        recipe("//a", output("a", "run: b", "run: z")),
        recipe("//b", output("b", "run: c")),
        recipe("//c", output("c", "run: a")),
        recipe("//z", output("z", "run: a")),
    ]
    with pytest.raises(CycleError) as info:
        g.build_graph(recipes)
    assert "dependency cycle: //a --run: z--> //z --run: a--> //a (hint" in str(info.value)


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["//internal/..."], ["//internal/app", "//internal/own-util"]),
        (["//internal/own-util"], ["//internal/own-util"]),
        (["attrs", "six"], ["//recipes/python-attrs", "//recipes/python-six"]),
        (["libfoo-dev"], ["//recipes/libfoo"]),
        (["//recipes/libfoo/..."], ["//recipes/libfoo"]),
    ],
)
def test_select_patterns(tg, patterns, expected):
    assert g.select(tg, patterns) == expected


def test_select_everything(tg):
    assert g.select(tg, ["//..."]) == sorted(r.target for r in org())


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("atrs", "no target matches 'atrs' (hint: did you mean 'attrs'?)"),
        ("//recipes/python-atrs", "(hint: did you mean '//recipes/python-attrs', "),
        ("//nothing/...", "no target matches '//nothing/...'"),
        ("recipes/python-six", "(hint: did you mean '//recipes/python-six'?)"),
        ("zzzzzz", "no target matches 'zzzzzz'"),
        ("python-six", "no target matches 'python-six' (hint: did you mean "
                       "'//recipes/python-six'?)"),
        ("python-sx", "(hint: did you mean '//recipes/python-six', "),
    ],
)
def test_pattern_matching_nothing(tg, pattern, message):
    with pytest.raises(PatternError) as info:
        g.select(tg, ["//...", pattern])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_build_order_is_stable_and_dependencies_first(tg):
    order = g.build_order(tg, g.select(tg, ["//..."]))
    assert order == [
        "//recipes/python-attrs", "//recipes/python-six", "//recipes/libfoo",
        "//recipes/python-dateutil", "//internal/own-util", "//internal/app",
        "//recipes/win-only",
    ]
    assert g.build_order(tg, reversed(order)) == order


def test_deps_and_rdeps_with_depth(tg):
    assert g.deps(tg, ["//internal/app"], depth=1) == [
        "//internal/own-util", "//recipes/python-attrs",
    ]
    assert g.deps(tg, ["//internal/app"]) == [
        "//internal/own-util", "//recipes/python-attrs",
        "//recipes/python-dateutil", "//recipes/python-six",
    ]
    assert g.rdeps(tg, ["//recipes/python-six"], depth=1) == [
        "//recipes/libfoo", "//recipes/python-dateutil",
    ]
    assert g.rdeps(tg, ["//recipes/python-six"], depth=2) == [
        "//internal/own-util", "//recipes/libfoo", "//recipes/python-dateutil",
    ]
    assert g.rdeps(tg, ["//internal/app"]) == []
    assert g.deps(tg, ["//internal/app"], depth=0) == []


def test_with_dependencies(tg):
    assert g.with_dependencies(tg, ["//recipes/python-dateutil"]) == [
        "//recipes/python-dateutil", "//recipes/python-six",
    ]


def diamond(width: int):
    """top → mid-i (for each i) → bottom: `width` paths from top to bottom."""
    mids = [recipe(f"//m/{i:03}", output(f"m{i:03}", "run: bottom")) for i in range(width)]
    top = recipe("//top", output("top", *(f"host: m{i:03}" for i in range(width))))
    return g.build_graph([top, *mids, recipe("//bottom", "bottom")])


def test_paths_between_two_targets(tg):
    found = g.paths(tg, "//internal/app", "//recipes/python-six")
    assert found == g.Paths(
        (("//internal/app", "//internal/own-util", "//recipes/python-dateutil",
          "//recipes/python-six"),),
        False,
    )
    assert g.paths(tg, "//recipes/python-six", "//internal/app") == g.Paths((), False)


def test_paths_are_capped_and_say_truncated():
    found = g.paths(diamond(5), "//top", "//bottom", limit=3)
    assert found.truncated
    assert found.paths == tuple(("//top", f"//m/{i:03}", "//bottom") for i in range(3))
    assert not g.paths(diamond(3), "//top", "//bottom", limit=3).truncated


def test_why_a_target_from_every_top_level_target(tg):
    answer = g.why(tg, "six")
    assert answer.target == "//recipes/python-six"
    assert answer.package == "six"
    assert answer.needed_by == (
        "//internal/app", "//internal/own-util", "//recipes/libfoo", "//recipes/python-dateutil",
    )
    assert answer.paths == (
        ("//internal/app", "//internal/own-util", "//recipes/python-dateutil",
         "//recipes/python-six"),
        ("//recipes/libfoo", "//recipes/python-six"),
    )
    assert not answer.truncated


def test_why_a_third_party_package(tg):
    answer = g.why(tg, "python")
    assert answer.target is None
    assert answer.needed_by == ("//internal/app", "//recipes/python-attrs")
    assert answer.paths == (
        ("//internal/app",),
        ("//internal/app", "//recipes/python-attrs"),
    )
    assert tg.requirements("//internal/app", "python")[0].spec == "python"


def test_why_a_top_level_target_has_no_paths(tg):
    answer = g.why(tg, "//internal/app")
    assert (answer.target, answer.package, answer.needed_by, answer.paths) == (
        "//internal/app", "app", (), ()
    )


def test_why_unknown_package(tg):
    with pytest.raises(PatternError, match="no target or package matches 'pyton'.*'python'"):
        g.why(tg, "pyton")


def test_why_is_capped():
    answer = g.why(diamond(150), "bottom")
    assert len(answer.paths) == g.PATH_LIMIT
    assert answer.truncated
    assert len(answer.needed_by) == 151


def test_why_from_a_given_target(tg):
    answer = g.why(tg, "six", source="own-util")
    assert answer.paths == (
        ("//internal/own-util", "//recipes/python-dateutil", "//recipes/python-six"),
    )
    assert answer.needed_by == ("//internal/own-util", "//recipes/python-dateutil")
    assert g.why(tg, "pip", source="//recipes/python-six").paths == (("//recipes/python-six",),)
    assert g.why(tg, "attrs", source="//recipes/python-six").paths == ()
    with pytest.raises(PatternError, match="'pip' is a third-party package"):
        g.why(tg, "six", source="pip")


def test_why_one_package_of_a_multi_output_recipe_counts_only_its_requirers():
    tg = g.build_graph([
        recipe("//lib", "lib", "lib-dev"),
        recipe("//app", output("app", "run: lib", "run: tool")),
        recipe("//tool", output("tool", "build: lib-dev")),
        recipe("//plugin", output("plugin", "run: lib")),
    ])
    assert g.why(tg, "lib-dev").paths == (("//app", "//tool", "//lib"),)
    assert g.why(tg, "lib-dev").needed_by == ("//app", "//tool")
    assert g.why(tg, "lib").paths == (("//app", "//lib"), ("//plugin", "//lib"))
    assert g.why(tg, "//lib").paths == (
        ("//app", "//lib"), ("//app", "//tool", "//lib"), ("//plugin", "//lib"),
    )


def test_direct_deps_by_section(tg):
    assert g.direct_deps(tg, "//internal/app") == ["//internal/own-util", "//recipes/python-attrs"]
    assert g.direct_deps(tg, "//internal/own-util", ["build", "host"]) == [
        "//recipes/python-dateutil",
    ]
    assert g.direct_deps(tg, "//internal/app", ["build", "host"]) == []


def test_everything_in_an_empty_workspace_is_nothing():
    tg = g.build_graph([])
    assert g.select(tg, ["//..."]) == []
    with pytest.raises(PatternError):
        g.select(tg, ["//recipes/..."])
