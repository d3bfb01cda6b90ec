"""plan.py on records built here: actions, reasons, pulled-in dependencies, selection, order."""

from __future__ import annotations

import pytest
from conftest import output, recipe
from orchestrator.channels import ChannelIndex
from orchestrator.errors import PatternError
from orchestrator.graph import build_graph
from orchestrator.plan import make_plan, planned_outputs, select_targets

CHANNEL = "/ws/cache/channel"
#   //app  --host--> //lib --build--> //tool
#   //app  --run---> //data (noarch)
#   //cli  --run---> //app
#   //win  skipped on linux-64
RECIPES = [
    recipe("//tool", "tool"),
    recipe("//lib", output("lib", "build: tool", version="2.0", build_number=1)),
    recipe("//data", output("data", noarch="python")),
    recipe("//app", output("app", "host: lib", "run: data"),
           output("app-extras", "run: app")),
    recipe("//cli", output("cli", "run: app")),
    recipe("//win", "win", skipped=True),
]
HASHES = {r.target: f"{i}" * 64 for i, r in enumerate(RECIPES)}
TG = build_graph(RECIPES)


def published(*targets: str, url: str = CHANNEL) -> ChannelIndex:
    keys: dict[str, set] = {"linux-64": set(), "noarch": set()}
    for target in targets:
        for o in planned_outputs(TG.recipe(target), HASHES[target], "linux-64"):
            keys[o.subdir].add((o.name, o.version, o.build))
    return ChannelIndex(url, {k: frozenset(v) for k, v in keys.items()})


def plan(selected, *channels, **kw):
    return make_plan(TG, selected, HASHES, channels or [published()], platform="linux-64", **kw)


def test_outputs_carry_the_build_string_subdir_and_filename():
    lib = planned_outputs(TG.recipe("//lib"), "abcdef0123456789" * 4, "linux-64")
    assert [(o.name, o.build, o.subdir, o.filename) for o in lib] == [
        ("lib", "habcdef0123_1", "linux-64", "lib-2.0-habcdef0123_1.conda"),
    ]
    (data,) = planned_outputs(TG.recipe("//data"), "f" * 64, "linux-64")
    assert (data.subdir, data.filename) == ("noarch", "data-1.0-hffffffffff_0.conda")


def test_nothing_published_builds_everything_in_dependency_order():
    result = plan(["//app", "//cli", "//data", "//lib", "//tool", "//win"])
    assert result.order == ("//data", "//tool", "//lib", "//app", "//cli")
    assert result.nodes["//win"].action == "skipped"
    assert result.nodes["//win"].reasons == ("skipped on linux-64",)
    assert result.nodes["//tool"].reasons == (f"not in channel {CHANNEL}",)
    assert result.nodes["//lib"].reasons == (
        f"not in channel {CHANNEL}", "dependency //tool changed",
    )
    assert result.nodes["//app"].deps == ("//data", "//lib")
    assert list(result.nodes) == ["//data", "//tool", "//lib", "//app", "//cli", "//win"]


def test_everything_published_is_up_to_date():
    everything = ["//app", "//cli", "//data", "//lib", "//tool"]
    result = plan(everything, published(*everything))
    assert result.order == ()
    assert {n.action for n in result.nodes.values()} == {"up-to-date"}
    assert result.count("up-to-date") == 5


def test_a_package_in_another_channel_counts_as_published():
    result = plan(["//tool"], published(), published("//tool", url="https://other/channel"))
    assert result.nodes["//tool"].action == "up-to-date"
    assert result.channel == CHANNEL


def test_one_missing_output_of_a_multi_output_recipe_means_build():
    index = published("//app")
    linux = set(index.packages["linux-64"]) - {("app-extras", "1.0", "h" + "3" * 10 + "_0")}
    partial = ChannelIndex(CHANNEL, {"linux-64": frozenset(linux), "noarch": frozenset()})
    assert plan(["//app"], partial, published("//lib", "//data")).order == ("//app",)


def test_unpublished_dependencies_of_a_target_to_build_are_pulled_in():
    result = plan(["//cli"], published("//tool"))
    assert result.order == ("//data", "//lib", "//app", "//cli")
    assert result.nodes["//app"].reasons == (
        f"not in channel {CHANNEL}", "dependency //lib changed", "required by //cli",
    )
    assert result.nodes["//data"].reasons[-1] == "required by //app"
    assert [result.nodes[t].required_by for t in result.order] == [
        ("//app",), ("//app",), ("//cli",), ()]  # //cli was selected, not pulled in
    assert "//tool" not in result.nodes  # published: neither built nor listed


def test_an_up_to_date_target_pulls_in_nothing():
    result = plan(["//cli"], published("//cli"))
    assert list(result.nodes) == ["//cli"] and result.order == ()


def test_full_builds_selected_targets_even_when_published():
    result = plan(["//lib", "//tool"], published("//lib", "//tool"), full=True)
    assert result.order == ("//tool", "//lib")
    assert result.nodes["//tool"].reasons == ("full build requested",)


def test_changed_files_are_reasons():
    changed = {"//tool": tuple(f"tool/f{i}.c" for i in range(7))}
    result = plan(["//tool"], changed=changed)
    assert result.nodes["//tool"].reasons == (
        f"not in channel {CHANNEL}",
        *(f"input changed: tool/f{i}.c" for i in range(5)),
        "and 2 more changed input(s)",
    )


def test_notices_are_kept():
    assert plan(["//tool"], notices=["not a git repository"]).notices == ("not a git repository",)


# ---------------------------------------------------------------- selection


@pytest.mark.parametrize(
    ("patterns", "changed", "dependents", "expected"),
    [
        ([], None, False, ["//app", "//cli", "//data", "//lib", "//tool", "//win"]),
        (["//lib"], None, True, ["//app", "//cli", "//lib"]),
        ([], {"//lib": ()}, False, ["//lib"]),
        ([], {"//lib": ()}, True, ["//app", "//cli", "//lib"]),
        (["//cli", "//lib"], {"//lib": ()}, True, ["//cli", "//lib"]),
        (["//tool"], {"//lib": ()}, True, []),
        ([], {}, True, []),
    ],
)
def test_select_targets(patterns, changed, dependents, expected):
    assert select_targets(TG, patterns, changed, dependents) == expected


def test_a_pattern_matching_nothing_is_an_error():
    with pytest.raises(PatternError, match="no target matches '//nope'"):
        select_targets(TG, ["//nope"])


def test_build_order_is_networkx_lexicographic_order_dependencies_first():
    import random

    import networkx as nx
    from orchestrator.graph import build_order

    rng = random.Random(7)
    recipes = []
    for i in range(300):
        needs = [f"host: p{j}" for j in rng.sample(range(i), min(i, 3))]
        recipes.append(recipe(f"//r/{rng.random():.6f}", output(f"p{i}", *needs)))
    tg = build_graph(recipes)
    for size in (300, 120, 7):
        subset = rng.sample(sorted(tg.graph), size)
        sub = tg.graph.subgraph(subset).reverse(copy=False)
        assert build_order(tg, subset) == list(nx.lexicographical_topological_sort(sub))
