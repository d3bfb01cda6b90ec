"""Given a real workspace in a real git repository, when commands run warm (render index, render
cache, graph snapshot, hash cache under `cache/render/`), then they answer exactly what a cold
run answers, and each change invalidates what it should and nothing else."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import commit_all, git, write_files
from orchestrator.hashing import git_file_index
from orchestrator.plan_caches import HASHES_FILE, SNAPSHOT_FILE
from orchestrator.recipes import render_cache, render_keys
from orchestrator.recipes.render_cache import INDEX_FILE
from orchestrator.recipes.render_workspace import indexed_render_keys
from orchestrator.workspace import read_workspace
from test_plan_support import ORG, actions, publish_outputs

LOADS = {
    "internal/loader/pyproject.toml": '[project]\nname = "loader"\nversion = "2.0"\n',
    "internal/loader/conda/meta.yaml": """\
        {% set project = load_file_data('pyproject.toml')['project'] %}
        package:
          name: {{ project['name'] }}
          version: {{ project['version'] }}
        source:
          path: ..
        requirements:
          host: [zlib]
        """,
}
TAGGED = {
    "recipes/tagged/meta.yaml": """\
        package:
          name: tagged
          version: {{ GIT_DESCRIBE_TAG | replace('v', '') or '0' }}
        """,
}
COMMANDS = (
    ("plan", "--format", "json"),
    ("why", "zlib", "--format", "json"),
    ("graph", "--format", "json"),
    ("graph",),
)


@pytest.fixture
def org(make_workspace):
    root = make_workspace({**ORG, **LOADS, **TAGGED})
    git(root, "tag", "v3.1")
    return root


def run(run_cli, root: Path, *args: str) -> str:
    result = run_cli(["-C", root, *args])
    assert result.code == 0, result.err
    return result.out


def cold(run_cli, root: Path, *args: str) -> str:
    """The answer without any of the render/graph/hash caches (the channel stays)."""
    shutil.rmtree(root / "cache" / "render", ignore_errors=True)
    return run(run_cli, root, *args)


def plan(run_cli, root: Path) -> dict:
    return json.loads(run(run_cli, root, "plan", "--format", "json"))


def stamp(root: Path, name: str) -> tuple[int, bytes]:
    file = root / "cache" / name
    return file.stat().st_mtime_ns, file.read_bytes()


def read_keys(root: Path):
    workspace = read_workspace(root)
    return indexed_render_keys(workspace, git_file_index(root).digests)


def reread(root: Path) -> list[str]:
    """The recipes whose text a warm run had to read (the render index did not know them)."""
    return [k.found.target for k in read_keys(root).items if k.raw is not None]


def hashes_of(document: dict) -> dict[str, str]:
    return {n["target"]: n["hash"] for n in document["nodes"]}


def test_warm_commands_answer_like_cold_ones(org, run_cli):
    for command in COMMANDS:
        first = cold(run_cli, org, *command)
        assert run(run_cli, org, *command) == first, command
    plan(run_cli, org)
    assert (org / "cache" / SNAPSHOT_FILE).is_file() and (org / "cache" / HASHES_FILE).is_file()


VARIANTS = {
    "WORKSPACE.toml": '[workspace]\nname = "v"\n\n[variant]\npython = ["3.11", "3.12"]\n'
                      'flavor = ["sweet", "sour"]\n',
    "recipes/numpy/meta.yaml": "package:\n  name: numpy\n  version: 1.26.4\nrequirements:\n"
                               "  host:\n    - python\n  run:\n    - python\n",
    "recipes/old/meta.yaml": "package:\n  name: old\n  version: '1.0'\nrequirements:\n"
                             "  host:\n    - numpy 1.20.*\n",
    "recipes/hello/recipe.yaml": 'package: {name: hello, version: "1.0"}\n'
                                 "build:\n  noarch: generic\n  script: echo ${{ flavor }}\n",
}


def test_warm_commands_answer_like_cold_ones_with_variants(make_workspace, run_cli,
                                                            monkeypatch):
    from orchestrator.recipes import render_workspace

    root = make_workspace(VARIANTS)
    command = ("graph", "--format", "json")
    shutil.rmtree(root / "cache" / "render", ignore_errors=True)
    first = run_cli(["-C", root, *command])
    assert first.code == 0 and "//recipes/hello[flavor=sour]" in first.out
    nodes = {n["target"]: n for n in json.loads(first.out)["nodes"]}
    assert nodes["//recipes/hello[flavor=sour]"]["path"] == "recipes/hello"
    assert "no variant of //recipes/numpy satisfies" in first.err

    def no_render(*_args):
        raise AssertionError("a warm run renders nothing: the snapshot answers")

    monkeypatch.setattr(render_workspace, "render_keyed", no_render)
    assert run_cli(["-C", root, *command]) == first  # node ids, notes and all


def test_a_warm_run_reads_no_recipe_and_keeps_every_cache_file(org, run_cli):
    plan(run_cli, org)
    files = [INDEX_FILE, render_cache.CACHE_FILE, SNAPSHOT_FILE, HASHES_FILE]
    before = {name: stamp(org, name) for name in files}
    assert reread(org) == []
    plan(run_cli, org)
    assert {name: stamp(org, name) for name in files} == before


def test_editing_a_source_file_keeps_the_snapshot_and_rehashes(org, run_cli):
    publish_outputs(org / "cache" / "channel", plan(run_cli, org)["nodes"])
    snapshot = stamp(org, SNAPSHOT_FILE)
    hashes = stamp(org, HASHES_FILE)
    write_files(org, {"internal/own-util/src/own_util/core.py": "def answer():\n    return 7\n"})
    warm = plan(run_cli, org)
    assert stamp(org, SNAPSHOT_FILE) == snapshot and stamp(org, HASHES_FILE) != hashes
    assert reread(org) == []
    built = {t for t, action in actions(warm).items() if action == "build"}
    assert built == {"//internal/own-util", "//internal/own-app"}
    assert warm == json.loads(cold(run_cli, org, "plan", "--format", "json"))


def test_editing_a_recipe_rereads_and_rerenders_only_that_recipe(org, run_cli):
    plan(run_cli, org)
    snapshot = stamp(org, SNAPSHOT_FILE)
    libpng = org / "recipes/libpng/meta.yaml"
    libpng.write_text(libpng.read_text().replace("1.6.43", "1.6.44"))
    assert reread(org) == ["//recipes/libpng"]
    warm = plan(run_cli, org)
    assert stamp(org, SNAPSHOT_FILE) != snapshot
    libpng_node = next(n for n in warm["nodes"] if n["target"] == "//recipes/libpng")
    assert libpng_node["outputs"][0]["version"] == "1.6.44"
    assert warm == json.loads(cold(run_cli, org, "plan", "--format", "json"))
    commit_all(org, "libpng 1.6.44")  # the same text, now known by its committed blob
    assert reread(org) == []
    assert hashes_of(plan(run_cli, org)) == hashes_of(warm)


def test_a_file_loaded_with_load_file_data_rekeys_only_its_recipe(org, run_cli):
    plan(run_cli, org)
    before = {k.found.target: k.key for k in read_keys(org).items}
    pyproject = org / "internal/loader/pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("2.0", "2.1"))
    after = {k.found.target: k.key for k in read_keys(org).items}
    assert {t for t in before if before[t] != after[t]} == {"//internal/loader"}
    warm = plan(run_cli, org)
    node = next(n for n in warm["nodes"] if n["target"] == "//internal/loader")
    assert node["outputs"][0]["version"] == "2.1"
    assert warm == json.loads(cold(run_cli, org, "plan", "--format", "json"))


def test_a_new_tag_rerenders_recipes_using_git_describe(org, run_cli):
    assert run(run_cli, org, "graph", "--format", "json").count('"version": "3.1"') == 1
    commit_all(org, "next")
    git(org, "tag", "v3.2")
    graph = run(run_cli, org, "graph", "--format", "json")
    assert '"version": "3.2"' in graph and graph == cold(run_cli, org, "graph", "--format", "json")


def test_workspace_toml_rekeys_every_recipe_for_a_variant_and_only_hashes_for_a_build_setting(
    org, run_cli
):
    plan(run_cli, org)
    toml = org / "WORKSPACE.toml"
    snapshot = stamp(org, SNAPSHOT_FILE)
    hashes = hashes_of(plan(run_cli, org))
    toml.write_text(toml.read_text() + '\n[build]\nbuilder = "conda-build"\n')
    rebuilt = plan(run_cli, org)
    assert stamp(org, SNAPSHOT_FILE) == snapshot
    assert all(hashes[n["target"]] != n["hash"] for n in rebuilt["nodes"])
    assert rebuilt == json.loads(cold(run_cli, org, "plan", "--format", "json"))
    toml.write_text(toml.read_text() + '\n[variant]\npython = "3.12"\n')
    assert sorted(reread(org)) == sorted(k.found.target for k in read_keys(org).items)
    assert plan(run_cli, org) == json.loads(cold(run_cli, org, "plan", "--format", "json"))


def test_an_untracked_recipe_is_found_and_forgotten_when_removed(org, run_cli):
    before = plan(run_cli, org)
    write_files(org, {"recipes/newpkg/meta.yaml": "package: {name: newpkg, version: '1'}\n",
                      "recipes/ignored/meta.yaml": "package: {name: ignored, version: '1'}\n",
                      ".gitignore": ORG[".gitignore"] + "recipes/ignored/\n"})
    with_new = plan(run_cli, org)
    assert "//recipes/newpkg" in actions(with_new) and "//recipes/ignored" not in actions(with_new)
    assert with_new == json.loads(cold(run_cli, org, "plan", "--format", "json"))
    shutil.rmtree(org / "recipes/newpkg")
    assert plan(run_cli, org)["nodes"] == before["nodes"]


def test_a_new_file_in_a_recipe_directory_reaches_the_recipe(org, run_cli):
    plan(run_cli, org)
    write_files(org, {"recipes/zlib/fix.patch": "--- a\n+++ b\n"})
    warm = plan(run_cli, org)
    assert warm == json.loads(cold(run_cli, org, "plan", "--format", "json"))
    graph = run(run_cli, org, "graph", "--format", "json")
    assert graph == cold(run_cli, org, "graph", "--format", "json")


def test_changed_renderer_code_misses_every_entry(org, run_cli, monkeypatch):
    plan(run_cli, org)
    keys = read_keys(org)
    # Stands for an edit of the renderer's code: CODE_VERSION digests recipes/*.py and hashing.py.
    monkeypatch.setattr(render_keys, "CODE_VERSION", "another renderer")
    changed = read_keys(org)
    assert [k.raw is not None for k in changed.items] == [True] * len(keys.items)
    assert not {k.key for k in keys.items} & {k.key for k in changed.items}
    assert keys.digest() != changed.digest()


def test_unreadable_cache_files_are_misses(org, run_cli):
    first = plan(run_cli, org)
    for name in (INDEX_FILE, render_cache.CACHE_FILE, SNAPSHOT_FILE, HASHES_FILE):
        (org / "cache" / name).write_bytes(b"not a cache file")
    assert plan(run_cli, org) == first
    assert plan(run_cli, org) == first


def test_cache_files_of_the_wrong_shape_are_misses(org, run_cli):
    # Changed with issue 9: cache files are msgpack with a header, no longer pickles.
    from orchestrator import cachefile

    first = plan(run_cli, org)
    files = {INDEX_FILE: "render-index", render_cache.CACHE_FILE: "render-entries",
             SNAPSHOT_FILE: "graph-snapshot", HASHES_FILE: "target-hashes"}
    for name, kind in files.items():  # the right header and key, a value of another shape
        key = cachefile.read_key(org / "cache" / name, kind)
        assert key is not None
        cachefile.write(org / "cache" / name, kind, key, {"some key": [1, {"not": "it"}]})
    assert plan(run_cli, org) == first
    for name, kind in files.items():
        key = cachefile.read_key(org / "cache" / name, kind)
        cachefile.write(org / "cache" / name, kind, key, ["not", "it"])
    assert plan(run_cli, org) == first


class Payload:
    """What a hostile commit could hold: a pickle that runs a command when loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


@pytest.mark.parametrize("committed", ["graph.pickle", "hashes.pickle", "recipes.pickle",
                                       "index.pickle", "graph.msgpack", "recipes.msgpack"])
def test_a_committed_pickle_under_cache_runs_nothing(org, run_cli, tmp_path, committed):
    """A fresh clone whose repository holds cache/render/<file> as a pickle payload: `plan`,
    `graph` and `why` answer as on a clean clone, and the payload never runs."""
    first = {args: run(run_cli, org, *args) for args in COMMANDS}
    shutil.rmtree(org / "cache")
    marker = tmp_path / "payload-ran"
    hostile = org / "cache" / "render" / committed
    hostile.parent.mkdir(parents=True)
    hostile.write_bytes(pickle.dumps(Payload(marker)))
    git(org, "add", "-f", hostile)
    commit_all(org, "a cache file from a hostile contributor")
    for args in COMMANDS:
        assert run(run_cli, org, *args) == first[args]
    assert not marker.exists()


def test_outside_git_the_caches_key_recipes_by_their_text(make_workspace, run_cli):
    root = make_workspace({**ORG, **LOADS}, git_repo=False)
    first = plan(run_cli, root)
    assert plan(run_cli, root) == first
    zlib = root / "recipes/zlib/meta.yaml"
    zlib.write_text(zlib.read_text().replace('"1.3"', '"1.4"'))
    warm = plan(run_cli, root)
    assert next(n for n in warm["nodes"] if n["target"] == "//recipes/zlib")["outputs"][0][
        "version"] == "1.4"
    assert warm == json.loads(cold(run_cli, root, "plan", "--format", "json"))


def test_hashing_inputs_gathered_in_one_pass_match_the_per_target_answers(org):
    from orchestrator.graph import direct_deps
    from orchestrator.hashing import HASHED_SECTIONS, build_config
    from orchestrator.plan import PlanRequest
    from orchestrator.planning import build_configs, compute_plan, dependencies_in

    toml = org / "WORKSPACE.toml"
    toml.write_text(toml.read_text() + '\n[build.overrides."//recipes/zlib"]\n'
                    'container = "docker"\nimage = "zlib-image"\n')
    workspace = read_workspace(org)
    tg, _ = compute_plan(workspace, PlanRequest())
    found = dependencies_in(tg, HASHED_SECTIONS)
    assert found == {t: direct_deps(tg, t, HASHED_SECTIONS) for t in tg.graph}
    assert found["//internal/own-app"] == ["//internal/own-util"]
    settings = {t: workspace.target_settings(t) for t in tg.graph}
    configs = build_configs(workspace.platform, settings, dict.fromkeys(settings.values(), "1.0"))
    assert configs == {t: build_config(workspace.platform, workspace.target_settings(t), "1.0")
                       for t in tg.graph}
    assert configs["//recipes/zlib"].image == "zlib-image"
