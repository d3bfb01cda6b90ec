"""The example organization (acme) in this repository: its shape, and that it really builds.

Given the acme workspace at the repository root, its recipes translate for rattler-build, and
(slow) the python recipe and two noarch recipes build with the builder's own command, publish
into a local channel, and py-rattler creates a working environment from that channel only.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from orchestrator.builders import BuildRequest, RattlerBuild
from orchestrator.builders.translate import translate
from orchestrator.workspace import load_workspace
from ruamel.yaml import YAML
from test_example_org_support import (
    build_string_for,
    create_env,
    load_example_recipe,
    publish,
)

ROOT = Path(__file__).resolve().parents[1]


def recipe_files() -> list[str]:
    patterns = ("recipes/*/meta.yaml", "recipes/*/recipe.yaml", "internal/*/conda/meta.yaml")
    return sorted(str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern))


def test_the_workspace_is_acme():
    workspace = load_workspace(ROOT, explicit=True)
    assert workspace.name == "acme"
    assert workspace.config.build.builder == "rattler-build"


def test_external_recipes_are_pypi_sdists_in_directories_named_differently():
    external = [load_example_recipe(ROOT, p) for p in recipe_files()
                if p.startswith("recipes/") and p != "recipes/python/recipe.yaml"]
    assert len(external) >= 8
    assert sum(r.format == "recipe.yaml" for r in external) >= 1
    for recipe in external:
        (output,) = recipe.outputs
        assert recipe.directory != f"recipes/{output.name}", recipe.path
        assert output.noarch == "python", recipe.path
        source = recipe.data["source"]
        assert source["url"].startswith("https://files.pythonhosted.org/"), recipe.path
        assert len(source["sha256"]) == 64, recipe.path


def test_internal_projects_depend_on_each_other_and_on_external_ones():
    internal = {r.outputs[0].name: r for r in
                (load_example_recipe(ROOT, p) for p in recipe_files() if p.startswith("internal"))}
    assert sorted(internal) == ["own-app", "own-data", "own-util"]
    run = {name: {q.name for q in r.outputs[0].requirements_in("run")}
           for name, r in internal.items()}
    assert {"own-util", "packaging", "idna"} <= run["own-data"]
    assert {"own-util", "own-data", "click"} <= run["own-app"]
    for name, recipe in internal.items():
        assert recipe.data["source"] == {"path": ".."}
        assert recipe.data["test"]["commands"][-1] == "pytest tests", name
        assert (ROOT / recipe.directory / ".." / "tests").is_dir(), name


@pytest.mark.parametrize("path", [p for p in recipe_files() if p.endswith("meta.yaml")])
def test_every_meta_yaml_translates(path):
    recipe = load_example_recipe(ROOT, path)
    v1 = translate(recipe.data, recipe_file=path, recipe_dir=str(ROOT / recipe.directory),
                   build_string="h0000000000_0")
    assert v1["package"]["name"] == recipe.outputs[0].name
    assert v1["tests"][0]["python"]["imports"]
    assert v1["build"]["noarch"] == "python"


def test_the_orchestrators_own_render_of_acme_prepares_for_rattler_build(tmp_path):
    from orchestrator.recipes.render import render_workspace

    copy = tmp_path / "acme"
    for part in ("recipes", "internal", "WORKSPACE.toml"):
        (shutil.copytree if (ROOT / part).is_dir() else shutil.copy2)(ROOT / part, copy / part)
    result = render_workspace(load_workspace(copy, explicit=True))
    assert [str(e) for e in result.errors] == []
    assert len(result.recipes) == len(recipe_files())
    for recipe in result.recipes:
        name = recipe.target.rsplit("/", 1)[1]
        request = BuildRequest(recipe=recipe, workspace_root=copy,
                               build_strings={o.name: "h0000000000_0" for o in recipe.outputs},
                               channels=(), output_dir=tmp_path / "out",
                               work_dir=tmp_path / "work" / name, source_cache=tmp_path / "src")
        RattlerBuild().prepare(request)
        v1 = YAML(typ="safe").load(tmp_path / "work" / name / "recipe" / "recipe.yaml")
        parts = v1.get("outputs") or [v1]
        assert [p["build"]["string"] for p in parts] == ["h0000000000_0"] * len(parts)
        if recipe.format == "meta.yaml":
            assert v1["package"] == {"name": recipe.outputs[0].name,
                                     "version": recipe.outputs[0].version}


def build_and_publish(recipe_path: str, base: Path, channel: Path) -> tuple[float, list[Path]]:
    recipe = load_example_recipe(ROOT, recipe_path)
    name = recipe.directory.rsplit("/", 1)[1]
    request = BuildRequest(recipe=recipe, workspace_root=ROOT,
                           build_strings=build_string_for(ROOT, recipe),
                           channels=(channel.as_uri(),), output_dir=base / "out" / name,
                           work_dir=base / "work" / name, source_cache=base / "src",
                           variant={"python": "3.11"})  # acme's [variant], as `build` passes it
    builder = RattlerBuild()
    builder.prepare(request)
    invocation = builder.invocation(request)
    started = time.monotonic()
    done = subprocess.run(invocation.argv, env=dict(invocation.env), cwd=invocation.cwd,
                          capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    assert done.returncode == 0, f"{recipe_path}:\n{done.stderr[-3000:]}"
    packages = builder.collect(request)
    publish(channel, packages)
    return seconds, packages


@pytest.mark.slow
def test_python_and_noarch_recipes_build_publish_and_install(tmp_path):
    channel = tmp_path / "channel"
    publish(channel, [])
    times = {}
    for path in ("recipes/python/recipe.yaml", "recipes/python-flit-core/recipe.yaml",
                 "recipes/python-idna/meta.yaml"):
        times[path], packages = build_and_publish(path, tmp_path, channel)
        assert packages
    print("\nbuild times: " + ", ".join(f"{p} {s:.1f}s" for p, s in times.items()))

    prefix = tmp_path / "env"
    installed = create_env(channel, ["idna"], prefix, tmp_path / "pkgs")
    assert [p.split("-")[0] for p in installed] == ["idna", "python"]
    check = ("import idna, sys, sysconfig; "
             "print(idna.__version__, idna.encode('bücher.example').decode(), sys.prefix, "
             "sysconfig.get_paths()['purelib'])")
    out = subprocess.run([prefix / "bin/python", "-c", check], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["3.10", "xn--bcher-kva.example", str(prefix),
                   str(prefix / "lib/python3.11/site-packages")]
