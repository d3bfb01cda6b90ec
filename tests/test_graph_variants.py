"""A node per target and variant: ids, edges by variant and version, cycles, patterns (pure)."""

from __future__ import annotations

import pytest
from conftest import output, recipe
from orchestrator import cache
from orchestrator import graph as g
from orchestrator.errors import CycleError
from orchestrator.hashing import BuildConfig, FileIndex, target_hash
from orchestrator.recipes.model import Requirement, label_of, node_ids

PY311, PY312 = (("python", "3.11"),), (("python", "3.12"),)


def numpy_org():
    """numpy built for two pythons; an app for each python; a noarch tool using neither."""
    return [
        recipe("//recipes/numpy", output("numpy", "host: python", version="1.26.4"),
               variant=(("numpy_abi", "1"), *PY311)),
        recipe("//recipes/numpy", output("numpy", "host: python", version="1.26.4"),
               variant=(("numpy_abi", "1"), *PY312)),
        recipe("//recipes/python", output("python", version="3.12.1"), variant=PY312),
        recipe("//internal/app", output("app", "host: numpy >=1.20", "host: python"),
               variant=PY311),
        recipe("//internal/app", output("app", "host: numpy >=1.20", "host: python"),
               variant=PY312),
        recipe("//internal/tool", output("tool", "run: numpy")),
    ]


@pytest.fixture
def tg():
    return g.build_graph(numpy_org())


def test_a_target_with_several_variants_has_a_node_per_variant_named_by_what_differs(tg):
    assert sorted(tg.graph) == [
        "//internal/app[python=3.11]", "//internal/app[python=3.12]", "//internal/tool",
        "//recipes/numpy[python=3.11]", "//recipes/numpy[python=3.12]", "//recipes/python",
    ]
    assert tg.variants["//recipes/numpy"] == (
        "//recipes/numpy[python=3.11]", "//recipes/numpy[python=3.12]")
    assert label_of("//recipes/numpy[python=3.11]") == "//recipes/numpy"


def test_node_ids_show_every_differing_key_sorted_and_typed_values_as_written():
    recipes = [
        recipe("//r/x", "x", variant=(("python", "3.12"), ("with_icu", False))),
        recipe("//r/x", "x", variant=(("python", "3.12"), ("with_icu", True))),
        recipe("//r/x", "x", variant=(("python", "3.11"), ("with_icu", True))),
    ]
    assert node_ids(recipes) == [
        "//r/x[python=3.12,with_icu=false]", "//r/x[python=3.12,with_icu=true]",
        "//r/x[python=3.11,with_icu=true]",
    ]


def test_edges_go_to_the_variants_that_agree_on_the_keys_both_use(tg):
    assert list(tg.graph.successors("//internal/app[python=3.11]")) == [
        "//recipes/numpy[python=3.11]"]
    assert sorted(tg.graph.successors("//internal/app[python=3.12]")) == [
        "//recipes/numpy[python=3.12]", "//recipes/python"]
    assert sorted(tg.graph.successors("//internal/tool")) == [
        "//recipes/numpy[python=3.11]", "//recipes/numpy[python=3.12]"]


def test_a_version_no_variant_satisfies_is_external_and_said_once():
    recipes = [
        recipe("//recipes/python", output("python", version="3.14.0")),
        recipe("//internal/old", output("old", "host: python 3.10.*", "run: python >=3.10")),
    ]
    tg = g.build_graph(recipes)
    (edge,) = tg.graph.edges(data="requirements")
    assert edge[:2] == ("//internal/old", "//recipes/python")
    assert [r.spec for r in edge[2]] == ["python >=3.10"]
    assert tg.external["python"] == ("//internal/old",)
    (warning,) = tg.notes.warnings
    assert warning == (
        "internal/old/meta.yaml: //internal/old needs host: python 3.10.*, which no variant of "
        "//recipes/python satisfies (it has 3.14.0): taken from the channels")
    (unsatisfied,) = tg.notes.unsatisfied
    assert unsatisfied.requirement.spec == "python 3.10.*"


def test_what_every_variant_of_a_target_lacks_is_said_once():
    recipes = [
        recipe("//recipes/python", output("python", version="3.14.0")),
        *(recipe("//internal/old", output("old", "host: python 3.10.*"), variant=v)
          for v in ((("abi", "1"),), (("abi", "2"),))),
    ]
    tg = g.build_graph(recipes)
    assert len(tg.notes.unsatisfied) == 2  # one per node: plan checks each it builds
    (warning,) = tg.notes.warnings
    assert warning.startswith("internal/old/meta.yaml: //internal/old needs host: python 3.10.*")
    assert warning.endswith("taken from the channels (in 2 variants)")


def test_patterns_select_every_variant_and_a_node_id_selects_one(tg):
    both = ["//recipes/numpy[python=3.11]", "//recipes/numpy[python=3.12]"]
    assert g.select(tg, ["//recipes/numpy"]) == both
    assert g.select(tg, ["numpy"]) == both
    assert g.select(tg, ["//recipes/..."]) == [*both, "//recipes/python"]
    assert g.select(tg, ["//recipes/numpy[python=3.12]"]) == both[1:]


def test_why_and_paths_go_through_the_variants(tg):
    answer = g.why(tg, "numpy")
    assert answer.target == "//recipes/numpy"
    assert answer.paths == (
        ("//internal/app[python=3.11]", "//recipes/numpy[python=3.11]"),
        ("//internal/app[python=3.12]", "//recipes/numpy[python=3.12]"),
        ("//internal/tool", "//recipes/numpy[python=3.11]"),
        ("//internal/tool", "//recipes/numpy[python=3.12]"),
    )
    found = g.paths(tg, "//internal/app", "//recipes/numpy[python=3.12]")
    assert found.paths == (("//internal/app[python=3.12]", "//recipes/numpy[python=3.12]"),)


def _line(req_text: str, line: int) -> Requirement:
    section, spec = (p.strip() for p in req_text.split(":", 1))
    return Requirement(spec.split()[0], spec, section, line)


def test_a_cycle_through_a_test_requirement_is_broken_there_with_both_lines():
    from orchestrator.recipes.model import Output

    recipes = [
        recipe("//recipes/pip", Output("pip", "24.0", requirements=(_line("host: wheel", 14),))),
        recipe("//recipes/wheel", Output("wheel", "0.43", requirements=(
            _line("host: python", 9), _line("test: pip", 31)))),
        recipe("//recipes/app", output("app", "host: pip")),
    ]
    tg = g.build_graph(recipes)
    assert not tg.graph.has_edge("//recipes/wheel", "//recipes/pip")
    assert tg.graph.has_edge("//recipes/pip", "//recipes/wheel")
    (warning,) = tg.notes.warnings
    assert "recipes/wheel/meta.yaml:31" in warning and "recipes/pip/meta.yaml:14" in warning
    assert warning.startswith("cycle through a test requirement: //recipes/pip --host: wheel")
    assert g.build_order(tg, list(tg.graph)) == [
        "//recipes/wheel", "//recipes/pip", "//recipes/app"]


def test_a_test_cycle_found_in_every_variant_is_said_once():
    from orchestrator.recipes.model import Output

    recipes = [
        recipe(target, Output(name, "1.0", requirements=(_line(req, line),)), variant=variant)
        for variant in (PY311, PY312)
        for target, name, req, line in (("//recipes/pip", "pip", "host: wheel", 14),
                                        ("//recipes/wheel", "wheel", "test: pip", 31))
    ]
    tg = g.build_graph(recipes)
    assert not any(tg.graph.has_edge(f"//recipes/wheel{v}", f"//recipes/pip{v}")
                   for v in ("[python=3.11]", "[python=3.12]"))
    (warning,) = tg.notes.warnings
    assert warning.startswith("cycle through a test requirement: //recipes/pip --host: wheel "
                              "(recipes/pip/meta.yaml:14)--> //recipes/wheel --test: pip")
    assert warning.endswith("(in 2 variants)")


def test_a_cycle_of_run_requirements_is_set_aside_unless_strict():
    recipes = [
        recipe("//a", output("a", "run: b")),
        recipe("//b", output("b", "run: a")),
        recipe("//c", output("c", "run: d")),
        recipe("//d", "d"),
    ]
    with pytest.raises(CycleError):
        g.build_graph(recipes)
    tg = g.build_graph(recipes, strict=False)
    assert sorted(tg.graph) == ["//c", "//d"]
    (error,) = tg.notes.errors
    assert str(error).startswith("dependency cycle: //a --run: b--> //b --run: a--> //a")
    assert g.deps(tg, ["//c"]) == ["//d"]


def test_hashes_and_cache_paths_differ_per_variant(tg, tmp_path):
    config = BuildConfig("linux-64", "rattler-build", "0")
    files = FileIndex.of({})
    a, b = (tg.recipe(n) for n in tg.variants["//recipes/numpy"])
    same_tree = "0" * 32  # one rendered tree: only the variant tells them apart
    assert (target_hash(a, files, config, {}, recipe_digest=same_tree)
            != target_hash(b, files, config, {}, recipe_digest=same_tree))
    with pytest.raises(ValueError, match="hashed without its rendered recipe"):
        target_hash(a, files, config, {})  # no data (as from the graph snapshot), no digest
    slug = cache.target_slug("//recipes/numpy[python=3.12,cuda=12 / x]")
    assert slug == "recipes--numpy@python=3.12,cuda=12%20%2F%20x"
    assert cache.target_slug("//recipes/numpy") == "recipes--numpy"
    assert len(cache.target_slug("//r/x[" + "k=v," * 200 + "]")) <= cache.MAX_SLUG


def test_gitlab_jobs_and_dask_keys_name_the_variant():
    from orchestrator.executors.dask import _key_part
    from orchestrator.gitlab import PipelineSettings, build_command, job_name

    node = "//recipes/numpy[python=3.12,numpy=2]"
    assert job_name(node) == "build:recipes/numpy[python=3.12,numpy=2]"
    assert build_command(node, PipelineSettings()).endswith(
        "build --only --junit junit.xml '//recipes/numpy[python=3.12,numpy=2]'")
    assert _key_part(node) == "recipes/numpy.python=3.12.numpy=2"
