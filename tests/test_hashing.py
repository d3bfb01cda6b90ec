"""Given a workspace of real recipes in a real git repository, when a file changes, then exactly
the targets whose build could change get a new hash."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import commit_all, git, recipe, write_files
from orchestrator import hashing
from orchestrator.builders.request import Invocation
from orchestrator.recipes.model import Source
from orchestrator.workspace import Workspace, parse_workspace_config
from test_plan_support import ORG, TARGETS, changed_targets, hashes


@pytest.fixture
def org(make_workspace):
    return make_workspace(ORG)


def test_every_target_has_a_distinct_hex_hash(org):
    found = hashes(org)
    assert sorted(found) == sorted(TARGETS)
    assert len(set(found.values())) == len(TARGETS)
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in found.values())


def test_editing_a_source_file_changes_that_project_only(org):
    before = hashes(org)
    write_files(org, {"internal/own-app/src/own_app/core.py": "def answer():\n    return 43\n"})
    uncommitted = hashes(org)
    assert changed_targets(before, uncommitted) == {"//internal/own-app"}
    commit_all(org)
    assert hashes(org) == uncommitted  # committed or not, the same content has the same hash


def test_editing_a_project_changes_its_host_dependents_not_its_run_dependents(org):
    before = hashes(org)
    write_files(org, {"internal/own-util/src/own_util/core.py": "VALUE = 1\n"})
    assert changed_targets(before, hashes(org)) == {"//internal/own-util", "//internal/own-app"}


def test_editing_a_host_dependencys_recipe_changes_host_dependents_only(org):
    before = hashes(org)
    write_files(org, {"recipes/zlib/build.sh": "make install -j2\n"})
    # libpng has zlib in host; own-app only in run
    assert changed_targets(before, hashes(org)) == {"//recipes/zlib", "//recipes/libpng"}


def test_reverting_an_edit_restores_the_hash(org):
    before = hashes(org)
    original = (org / "recipes/zlib/build.sh").read_text()
    write_files(org, {"recipes/zlib/build.sh": "something else\n"})
    assert hashes(org) != before
    write_files(org, {"recipes/zlib/build.sh": original})
    assert hashes(org) == before


def test_changes_for_another_platform_or_in_comments_change_nothing(org):
    before = hashes(org)
    text = (org / "recipes/zlib/meta.yaml").read_text()
    text = text.replace("vs2019  # [win]", "vs2022  # [win]")
    text = text.replace("# a comment nobody builds from", "# another comment")
    write_files(org, {"recipes/zlib/meta.yaml": text})
    assert hashes(org) == before
    write_files(org, {"recipes/zlib/meta.yaml": text.replace("- make", "- make >=4")})
    assert changed_targets(before, hashes(org)) == {"//recipes/zlib", "//recipes/libpng"}


def test_files_that_are_nobodys_input_change_nothing(org):
    before = hashes(org)
    write_files(org, {
        "docs/README.md": "# changed\n",
        "internal/own-util/build.log": "ignored by git\n",
        "internal/own-util/src/own_util/__pycache__/core.cpython-311.pyc": "bytes",
        "cache/render/whatever.json": "{}",
    })
    assert hashes(org) == before


def test_an_untracked_file_in_a_path_source_is_an_input(org):
    before = hashes(org)
    write_files(org, {"internal/own-cli/src/own_cli/extra.py": "X = 1\n"})
    assert changed_targets(before, hashes(org)) == {"//internal/own-cli"}


def test_a_deleted_file_in_a_path_source_changes_its_hash(org):
    before = hashes(org)
    (org / "internal/own-cli/tests/test_core.py").unlink()
    assert changed_targets(before, hashes(org)) == {"//internal/own-cli"}


def test_an_executable_bit_is_an_input_committed_or_not(org, tmp_path):
    script = org / "internal/own-cli/src/own_cli/extra.py"
    write_files(org, {"internal/own-cli/src/own_cli/extra.py": "X = 1\n"})
    commit_all(org, "a script")
    plain = hashes(org)
    script.chmod(0o755)
    dirty = hashes(org)
    assert changed_targets(plain, dirty) == {"//internal/own-cli"}
    commit_all(org, "make it executable")
    assert hashes(org) == dirty  # git's index marks it as the working copy did


def test_two_clones_in_different_paths_have_equal_hashes(org, tmp_path):
    clone = tmp_path / "elsewhere" / "clone"
    clone.parent.mkdir()
    git(tmp_path, "clone", "-q", str(org), str(clone))
    assert hashes(clone) == hashes(org)


def test_a_workspace_outside_git_hashes_the_same_files_the_same_way(org, make_workspace):
    plain = make_workspace(ORG, git_repo=False, name="plain")
    assert hashes(plain) == hashes(org)
    index = hashing.read_file_index(plain)
    assert index.notice is not None and "is not a git repository" in index.notice
    assert hashing.read_file_index(org).notice is None


def test_a_workspace_outside_git_skips_cache_git_and_pycache(make_workspace):
    plain = make_workspace({
        "a.txt": "a", "cache/x": "x", "pkg/__pycache__/m.pyc": "c", "pkg/m.py": "m",
    }, git_repo=False)
    assert hashing.walk_files(plain) == ["WORKSPACE.toml", "a.txt", "pkg/m.py"]


def test_variant_builder_and_image_enter_the_hash(org):
    before = hashes(org)
    toml = (org / "WORKSPACE.toml").read_text()
    write_files(org, {"WORKSPACE.toml": toml + '\n[build]\ncontainer = "docker"\nimage = "a:1"\n'})
    with_image = hashes(org)
    assert changed_targets(before, with_image) == set(TARGETS)
    override = '[build.overrides."//recipes/zlib"]\nimage = "b:2"\n'
    write_files(org, {"WORKSPACE.toml": toml + '\n[build]\ncontainer = "docker"\nimage = "a:1"\n'
                      + override})
    assert changed_targets(with_image, hashes(org)) == {"//recipes/zlib", "//recipes/libpng"}


def test_the_image_a_hash_says_is_the_image_the_container_runs(org):
    """The hash and the `docker run` read one decision (`Workspace.target_settings`)."""
    from orchestrator import containers
    from orchestrator.workspace import read_workspace

    toml = (org / "WORKSPACE.toml").read_text() + '\n[build]\ncontainer = "docker"\nimage = "a:1"\n'
    runs = {}
    for image in ("b:2", "b:3"):
        write_files(org, {"WORKSPACE.toml": toml + '[build.overrides."//recipes/zlib"]\n'
                          f'image = "{image}"\n'})
        settings = containers.settings_for(read_workspace(org), "//recipes/zlib")
        argv = containers.wrap(Invocation(("make",), {}, org), settings, "run-1").argv
        runs[image] = (hashes(org)["//recipes/zlib"], argv[argv.index("make") - 1])
    assert runs["b:2"][0] != runs["b:3"][0]
    assert (runs["b:2"][1], runs["b:3"][1]) == ("b:2", "b:3")


def test_blob_ids_are_gits(org):
    data = (org / "recipes/zlib/build.sh").read_bytes()
    expected = git(org, "hash-object", "recipes/zlib/build.sh").strip()
    assert hashing.blob_id(org / "recipes/zlib/build.sh") == expected
    assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == expected
    assert hashing.blob_id(org / "missing") is None


# ---------------------------------------------------------------- pure: records


CONFIG = hashing.BuildConfig("linux-64", "rattler-build", "0.73.0")
FILES = hashing.FileIndex.of({
    "recipes/a/meta.yaml": "1" * 40, "recipes/a/build.sh": "2" * 40,
    "recipes/a/fix.patch": "3" * 40, "src/x/one.py": "4" * 40, "src/x/sub/two.py": "5" * 40,
    "src/xy/other.py": "6" * 40,
})


def a_recipe(**fields):
    fields.setdefault("files", ("recipes/a/build.sh", "recipes/a/fix.patch", "recipes/a/meta.yaml"))
    fields.setdefault("data", {"package": {"name": "a", "version": "1"}})
    return recipe("//recipes/a", "a", **fields)


def test_path_source_files_are_those_under_the_directory():
    assert FILES.under("src/x") == ("src/x/one.py", "src/x/sub/two.py")
    assert FILES.under("src/x/one.py") == ("src/x/one.py",)
    assert FILES.under(".") == FILES.paths
    assert FILES.under("nothing") == ()


def test_recipe_files_leave_the_recipe_file_to_the_rendered_data():
    assert hashing.recipe_files(a_recipe(), FILES) == ("recipes/a/build.sh", "recipes/a/fix.patch")


def test_changed_files_belong_to_the_targets_whose_inputs_they_are():
    with_source = a_recipe(sources=(Source("path", path="src/x", patches=("p/fix.patch",)),))
    other = recipe("//src/xy", "xy", sources=(Source("path", path="src/xy"),))
    changed = [
        "recipes/a/meta.yaml", "recipes/a/gone.sh",  # deleted files count too
        "src/x/sub/two.py", "src/xy/other.py", "p/fix.patch", "docs/z.md",
    ]
    assert hashing.changed_inputs([with_source, other], changed) == {
        "//recipes/a": ("p/fix.patch", "recipes/a/gone.sh", "recipes/a/meta.yaml",
                        "src/x/sub/two.py"),
        "//src/xy": ("src/xy/other.py",),
    }
    assert hashing.changed_inputs([other], ["WORKSPACE.toml"], ["WORKSPACE.toml"]) == {
        "//src/xy": ("WORKSPACE.toml",),
    }
    assert hashing.changed_inputs([with_source, other], []) == {}


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"package": {"name": "a", "version": "2"}}},
        {"variant": (("python", "3.12"),)},
        {"sources": (Source("url", url="https://x/a.tgz", sha256="0" * 64),)},
        {"sources": (Source("git", url="file:///r", git_rev="v1"),)},
        {"sources": (Source("path", path="src/x"),)},
    ],
)
def test_each_part_of_a_recipe_enters_the_hash(change):
    base = hashing.target_hash(a_recipe(), FILES, CONFIG, {})
    assert hashing.target_hash(a_recipe(**change), FILES, CONFIG, {}) != base


def test_git_sources_hash_the_resolved_commit():
    rec = a_recipe(sources=(Source("git", url="file:///r", git_rev="main"),))
    one = hashing.target_hash(rec, FILES, CONFIG, {}, {("file:///r", "main"): "a" * 40})
    two = hashing.target_hash(rec, FILES, CONFIG, {}, {("file:///r", "main"): "b" * 40})
    assert one != two


def test_dependency_hashes_and_build_settings_enter_the_hash():
    base = hashing.target_hash(a_recipe(), FILES, CONFIG, {"//b": "1"})
    assert hashing.target_hash(a_recipe(), FILES, CONFIG, {"//b": "2"}) != base
    newer = hashing.BuildConfig("linux-64", "rattler-build", "0.74.0")
    assert hashing.target_hash(a_recipe(), FILES, newer, {"//b": "1"}) != base


def test_build_config_applies_overrides_and_ignores_images_without_containers():
    config = parse_workspace_config({
        "workspace": {"name": "x"},
        "build": {"image": "img:1", "overrides": {"//recipes/a": {"container": "docker"}}},
    }, "WORKSPACE.toml")
    ws = Workspace(root=Path("/ws"), config=config)
    assert hashing.build_config("linux-64", ws.target_settings("//recipes/a"), "1") == (
        hashing.BuildConfig("linux-64", "rattler-build", "1", "docker", "img:1"))
    assert hashing.build_config("linux-64", ws.target_settings("//recipes/b"), "1").image == ""


def test_build_string():
    assert hashing.build_string("0123456789abcdef", 3) == "h0123456789_3"


def test_digest_is_canonical():
    assert hashing.canonical_digest({"b": 1, "a": [1, 2]}) == hashing.canonical_digest(
        {"a": [1, 2], "b": 1})


def test_cloning_does_not_copy_untracked_files(org, tmp_path):
    """A clone has only committed files: equal hashes need equal content, not equal paths."""
    write_files(org, {"internal/own-util/src/own_util/local.py": "X = 1\n"})
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(org), str(clone))
    assert changed_targets(hashes(clone), hashes(org)) == {
        "//internal/own-util", "//internal/own-app",
    }
    shutil.copy(org / "internal/own-util/src/own_util/local.py",
                clone / "internal/own-util/src/own_util/local.py")
    assert hashes(clone) == hashes(org)


def test_a_git_source_is_hashed_at_the_commit_its_rev_resolves_to(make_workspace):
    upstream = make_workspace({"lib.c": "int x;\n"}, name="upstream")
    recipe_text = f"""\
        package:
          name: fromgit
          version: "1.0"
        source:
          git_url: {upstream.as_uri()}
          git_rev: main
        """
    ws = make_workspace({"recipes/fromgit/meta.yaml": recipe_text}, name="ws")
    before = hashes(ws)
    assert hashes(ws) == before
    write_files(upstream, {"lib.c": "int y;\n"})
    commit_all(upstream, "upstream moved")
    after = hashes(ws)
    assert after["//recipes/fromgit"] != before["//recipes/fromgit"]


def test_offline_a_git_rev_stays_as_written_with_a_notice(make_workspace):
    from orchestrator.plan import PlanRequest
    from orchestrator.planning import compute_plan
    from orchestrator.workspace import read_workspace

    recipe_text = """\
        package:
          name: fromgit
          version: "1.0"
        source:
          git_url: https://git.invalid/nowhere.git
          git_rev: v1.0
        """
    ws = make_workspace({"recipes/fromgit/meta.yaml": recipe_text})
    _, plan = compute_plan(read_workspace(ws), PlanRequest(offline=True))
    assert plan.notices == (
        "offline: git source https://git.invalid/nowhere.git 'v1.0' not resolved to a commit",
    )


def test_outside_git_only_the_places_of_inputs_are_read(make_workspace):
    plain = make_workspace({
        "recipes/a/meta.yaml": "m", "src/x/one.py": "1", ".venv/lib/big.py": "v",
        "cache/channel/noarch/repodata.json": "{}", "notes.txt": "n",
    }, git_repo=False)
    assert hashing.walk_files(plain, ["recipes/a", "src", "WORKSPACE.toml", "src/x"]) == [
        "WORKSPACE.toml", "recipes/a/meta.yaml", "src/x/one.py",
    ]
    source = Source("path", path="src/x", patches=("p/fix.patch",))
    assert hashing.input_directories([a_recipe(sources=(source,))]) == [
        "p/fix.patch", "recipes/a", "src/x",
    ]


def test_upgrading_conda_build_changes_the_hashes_of_a_conda_build_workspace(make_workspace,
                                                                             run_cli, tmp_path):
    import json

    env = tmp_path / "cb-env"
    (env / "bin").mkdir(parents=True)
    (env / "bin/conda-build").write_text("#!/bin/sh\nexit 0\n")
    (env / "bin/conda-build").chmod(0o755)
    info = env / "lib/python3.11/site-packages/conda_build-26.7.1.dist-info"
    info.mkdir(parents=True)
    toml = ('[workspace]\nname = "cb"\n[build]\nbuilder = "conda-build"\n'
            f'conda_build = "{env}/bin/conda-build"\n')
    root = make_workspace({"WORKSPACE.toml": toml, "recipes/a/meta.yaml":
                           "package:\n  name: a\n  version: '1'\nbuild:\n  script: exit 0\n"})

    def hash_of_a() -> str:
        plan = json.loads(run_cli(["-C", root, "plan", "--format", "json"]).out)
        return next(n["hash"] for n in plan["nodes"] if n["target"] == "//recipes/a")

    before = hash_of_a()
    info.rename(info.with_name("conda_build-26.9.0.dist-info"))
    assert hash_of_a() != before
