"""The example organization (acme) in this repository: its shape, and that it really builds.

Given a copy of the acme workspace committed in a real git repository, the orchestrator's own
render and plan (`compute_plan`) see the recipes acme is meant to have, every meta.yaml
translates for rattler-build with the build string the plan gives it, and (slow) the python
recipe and two noarch recipes the plan pulls in for `//recipes/python-idna` build with the
builder's own command, are published with `publish_atomically`, and py-rattler creates a working
environment from that channel only.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from example_org import channel_filenames, copy_example_org, create_env, example_files
from orchestrator.builders import BuildRequest, RattlerBuild
from orchestrator.builders.translate import translate
from orchestrator.plan import PlanRequest
from orchestrator.planning import compute_plan
from orchestrator.publish import ensure_channel, publish_atomically
from orchestrator.workspace import Channel, load_workspace
from ruamel.yaml import YAML

INTERNAL = ("own-app", "own-data", "own-util")
# issue 11: acme compiles; these are not noarch: python (the system toolchain bridge, a C
# library and a C extension of acme's own, a PyPI sdist with a C extension)
COMPILED = ("//recipes/system-toolchain", "//recipes/python-markupsafe", "//internal/own-native",
            "//internal/own-native-py")


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    """(workspace, target graph, plan of `//...`) of a fresh copy of acme."""
    workspace = load_workspace(copy_example_org(tmp_path_factory.mktemp("acme")), explicit=True)
    graph, plan = compute_plan(workspace, PlanRequest())
    return workspace, graph, plan


def recipes_of(acme, prefix: str) -> list:
    _, graph, plan = acme
    return [graph.recipe(t) for t in plan.nodes if t.startswith(prefix)]


def test_the_workspace_is_acme(acme):
    workspace, _, _ = acme
    assert workspace.name == "acme"
    assert workspace.config.build.builder == "rattler-build"
    assert dict(workspace.config.variant) == {"python": "3.11", "c_stdlib": "sysroot",
                                              "c_stdlib_version": "2.36"}


def test_every_recipe_is_a_target_to_build_in_a_fresh_copy(acme):
    workspace, _, plan = acme
    recipe_files = [p for p in (workspace.root / "recipes").glob("*/*.yaml")]
    recipe_files += list((workspace.root / "internal").glob("*/conda/meta.yaml"))
    assert len(plan.nodes) == len(recipe_files) == 22
    assert plan.order == tuple(plan.nodes)
    assert {node.action for node in plan.nodes.values()} == {"build"}


def test_build_strings_are_the_plans_hash_and_build_number(acme):
    _, graph, plan = acme
    for target, node in plan.nodes.items():
        recipe = graph.recipe(target)
        expected = [(o.name, o.version, f"h{node.hash[:10]}_{o.build_number}",
                     "noarch" if o.noarch else "linux-64") for o in recipe.outputs]
        assert [(o.name, o.version, o.build, o.subdir) for o in node.outputs] == expected
        assert [o.filename for o in node.outputs] == [
            f"{n}-{v}-{b}.conda" for n, v, b, _ in expected]


def test_external_recipes_are_pypi_sdists_in_directories_named_differently(acme):
    external = [r for r in recipes_of(acme, "//recipes/")
                if r.target not in ("//recipes/python", *COMPILED)]
    assert len(external) >= 8
    assert sum(r.format == "recipe.yaml" for r in external) >= 1
    for recipe in external:
        (output,) = recipe.outputs
        assert recipe.target != f"//recipes/{output.name}", recipe.path
        assert output.noarch == "python", recipe.path
        (source,) = recipe.sources
        assert source.kind == "url", recipe.path
        assert source.url.startswith("https://files.pythonhosted.org/"), recipe.path
        assert len(source.sha256) == 64, recipe.path


def test_internal_projects_depend_on_each_other_and_on_external_ones(acme):
    workspace, _, plan = acme
    internal = {r.outputs[0].name: r for r in recipes_of(acme, "//internal/")
                if r.target not in COMPILED}
    assert sorted(internal) == list(INTERNAL)
    run = {name: {q.name for q in r.outputs[0].requirements_in("run")}
           for name, r in internal.items()}
    assert {"own-util", "packaging", "idna"} <= run["own-data"]
    assert {"own-util", "own-data", "click"} <= run["own-app"]
    assert {"//internal/own-util", "//internal/own-data", "//recipes/python-click"} <= set(
        plan.nodes["//internal/own-app"].deps)
    for name, recipe in internal.items():
        assert recipe.sources[0].kind == "path", name
        assert recipe.sources[0].path == f"internal/{name}", name
        assert recipe.data["test"]["commands"][-1] == "pytest tests", name
        assert (workspace.root / "internal" / name / "tests").is_dir(), name


# Collected from the repository's acme, so a new meta.yaml is in this test without editing it.
META_YAML_TARGETS = [
    "//" + path.removesuffix("/meta.yaml").removesuffix("/conda")
    for path in example_files() if path.endswith("/meta.yaml")
]


def test_compiled_recipes_build_with_the_system_toolchain(acme):
    _, graph, plan = acme
    for target in COMPILED[1:]:
        build = {q.name for q in graph.recipe(target).outputs[0].requirements_in("build")}
        assert build == {"gcc_linux-64", "sysroot_linux-64"}, target
        assert "//recipes/system-toolchain" in plan.nodes[target].deps, target
    assert "//internal/own-native" in plan.nodes["//internal/own-native-py"].deps


def test_the_translation_test_covers_every_meta_yaml_of_acme(acme):
    _, graph, _ = acme
    meta = sorted(t for t in graph.graph if graph.recipe(t).format == "meta.yaml")
    assert meta == sorted(META_YAML_TARGETS)
    assert len(meta) >= 9


@pytest.mark.parametrize("target", META_YAML_TARGETS)
def test_every_meta_yaml_translates_with_the_planned_build_string(acme, target):
    workspace, graph, plan = acme
    recipe, (output, *_) = graph.recipe(target), plan.nodes[target].outputs
    v1 = translate(recipe.data, recipe_file=recipe.path,
                   recipe_dir=str(workspace.root / recipe.directory), build_string=output.build)
    assert v1["package"] == {"name": output.name, "version": output.version}
    assert v1["build"]["string"] == output.build
    if target not in COMPILED:
        assert v1["tests"][0]["python"]["imports"]
        assert v1["build"]["noarch"] == "python"


def request_for(workspace, recipe, node, base: Path, channel: Path) -> BuildRequest:
    """What `orchestrate build` asks the builder for this node (buildjob.build_request)."""
    name = recipe.target.rsplit("/", 1)[1]
    return BuildRequest(recipe=recipe, workspace_root=workspace.root,
                        build_strings={o.name: o.build for o in node.outputs},
                        channels=(Channel.local(channel),), output_dir=base / "out" / name,
                        work_dir=base / "work" / name, source_cache=base / "src",
                        platform=workspace.platform, variant=dict(workspace.config.variant))


def test_rattler_build_is_prepared_with_the_plans_build_strings(acme, tmp_path):
    workspace, graph, plan = acme
    for target, node in plan.nodes.items():
        recipe = graph.recipe(target)
        request = request_for(workspace, recipe, node, tmp_path, tmp_path / "channel")
        RattlerBuild().prepare(request)
        v1 = YAML(typ="safe").load(request.work_dir / "recipe" / "recipe.yaml")
        parts = v1.get("outputs") or [v1]
        assert [p["build"]["string"] for p in parts] == [o.build for o in node.outputs]
        if recipe.format == "meta.yaml":
            assert v1["package"] == {"name": recipe.outputs[0].name,
                                     "version": recipe.outputs[0].version}


def build_and_publish(workspace, recipe, node, base: Path, channel: Path) -> float:
    """Build one planned target with the builder's own command; publish it; its seconds."""
    request = request_for(workspace, recipe, node, base, channel)
    builder = RattlerBuild()
    builder.prepare(request)
    invocation = builder.invocation(request)
    started = time.monotonic()
    done = subprocess.run(invocation.argv,
                          env=invocation.environment(os.environ), cwd=invocation.cwd,
                          capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    assert done.returncode == 0, f"{recipe.path}:\n{done.stderr[-3000:]}"
    placed = publish_atomically(channel, builder.collect(request), workspace.platform)
    assert sorted(placed) == sorted(f"{o.subdir}/{o.filename}" for o in node.outputs)
    return seconds


@pytest.mark.slow
def test_python_and_noarch_recipes_build_publish_and_install(tmp_path):
    workspace = load_workspace(copy_example_org(tmp_path / "acme"), explicit=True)
    graph, plan = compute_plan(workspace, PlanRequest(("//recipes/python-idna",)))
    # idna needs flit-core to build and python everywhere: the plan pulls both in.
    assert plan.order == ("//recipes/python", "//recipes/python-flit-core",
                          "//recipes/python-idna")
    channel = tmp_path / "channel"
    ensure_channel(channel, workspace.platform)
    times = {t: build_and_publish(workspace, graph.recipe(t), plan.nodes[t], tmp_path, channel)
             for t in plan.order}
    print("\nbuild times: " + ", ".join(f"{t} {s:.1f}s" for t, s in times.items()))
    assert channel_filenames(channel) == {
        f"{o.subdir}/{o.filename}" for t in plan.order for o in plan.nodes[t].outputs}

    prefix = tmp_path / "env"
    installed = create_env(channel, ["idna"], prefix, tmp_path / "pkgs")
    idna_build = plan.nodes["//recipes/python-idna"].outputs[0].build
    assert installed[0] == f"idna-3.10-{idna_build}"
    assert [p.split("-")[0] for p in installed] == ["idna", "python"]
    check = ("import idna, sys, sysconfig; "
             "print(idna.__version__, idna.encode('bücher.example').decode(), sys.prefix, "
             "sysconfig.get_paths()['purelib'])")
    out = subprocess.run([prefix / "bin/python", "-c", check], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["3.10", "xn--bcher-kva.example", str(prefix),
                   str(prefix / "lib/python3.11/site-packages")]
