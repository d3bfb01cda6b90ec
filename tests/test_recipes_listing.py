"""Given a workspace tree, when recipes are found from git's list of files instead of a walk,
then the same recipes, targets, formats and directory files are found."""

from __future__ import annotations

from conftest import write_files
from orchestrator.hashing import git_file_index
from orchestrator.recipes.discover import find_recipes

TREE = {
    ".gitignore": "cache/\n*.log\n",
    "recipes/a/meta.yaml": "package: {name: a, version: '1'}\n",
    "recipes/a/build.sh": "make\n",
    "recipes/a/patches/fix.patch": "--- a\n",
    "recipes/a/.hidden/meta.yaml": "package: {name: hidden, version: '1'}\n",
    "recipes/a/.env": "X=1\n",
    "recipes/a/build/meta.yaml": "package: {name: in-build, version: '1'}\n",
    "recipes/a/x.pyc": "",
    "recipes/a/notes~": "",
    "recipes/both/meta.yaml": "package: {name: both, version: '1'}\n",
    "recipes/both/recipe.yaml": "package: {name: both, version: '1'}\n",
    "recipes/builder/meta.yaml": "package: {name: builder, version: '1'}\n",
    "internal/b/conda/meta.yaml": "package: {name: b, version: '1'}\n",
    "internal/b/src/b/__init__.py": "",
    "internal/c/recipe/recipe.yaml": "package: {name: c, version: '1'}\n",
    "internal/c/recipe/node_modules/x/meta.yaml": "package: {name: x, version: '1'}\n",
    "other/d/meta.yaml": "package: {name: d, version: '1'}\n",
}
TOPS = ("recipes", "internal")


def test_the_git_listing_finds_what_the_walk_finds(make_workspace):
    root = make_workspace(TREE)
    write_files(root, {"recipes/untracked/meta.yaml": "package: {name: u, version: '1'}\n"})
    listed = git_file_index(root).paths
    walked, walk_errors = find_recipes(root, TOPS)
    found, errors = find_recipes(root, TOPS, list(listed))
    assert found == walked and [str(e) for e in errors] == [str(e) for e in walk_errors]
    assert [f.target for f in found] == [
        "//internal/b", "//internal/c", "//recipes/a", "//recipes/both", "//recipes/builder",
        "//recipes/untracked",
    ]
    a = next(f for f in found if f.target == "//recipes/a")
    assert a.files == ("recipes/a/.env", "recipes/a/build.sh", "recipes/a/meta.yaml",
                       "recipes/a/patches/fix.patch")
    assert [str(e) for e in errors] == ["recipes/both/meta.yaml: this directory also has a "
                                        "recipe.yaml (hint: keep one recipe format per directory)"]


def test_files_git_ignores_are_not_listed(make_workspace):
    root = make_workspace(TREE)
    write_files(root, {"recipes/a/build.log": "noise\n"})
    listed = git_file_index(root).paths
    found, _ = find_recipes(root, TOPS, list(listed))
    assert "recipes/a/build.log" not in next(f for f in found if f.target == "//recipes/a").files
