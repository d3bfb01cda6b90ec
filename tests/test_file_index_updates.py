"""Given a real git repository and git's view of its files (`file_index_of`), when files change
in the working tree (edits, new files tracked or ignored, deletions, chmod, new and removed
directories, a file turned into a directory, symbolic links), then `updated_file_index` of the
changed paths alone is exactly the FileIndex git's view gives afresh: digests and dirty set."""

from __future__ import annotations

import os
import shutil

import pytest
from orchestrator import vcs
from orchestrator.hashing import UNTRACKED_ASKED, file_index_of, updated_file_index

FILES = {
    "WORKSPACE.toml": "[workspace]\nname = 'x'\n",
    ".gitignore": "*.log\nbuild/\n",
    "recipes/a/meta.yaml": "package: {name: a, version: '1'}\n",
    "recipes/a/build.sh": "make\n",
    "internal/p/src/p/__init__.py": "x = 1\n",
    "internal/p/src/p/core.py": "y = 2\n",
    "docs/README.md": "hello\n",
}


@pytest.fixture
def repo(make_workspace):
    return make_workspace(FILES)


def fresh(root):
    return file_index_of(root, vcs.start_tree_state(root).result())


def write(root, path, text):
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)


CHANGES = [
    ("edit", lambda r: write(r, "internal/p/src/p/core.py", "y = 3\n"),
     ["internal/p/src/p/core.py"]),
    ("edit back", lambda r: write(r, "internal/p/src/p/core.py", "y = 2\n"),
     ["internal/p/src/p/core.py"]),
    ("new untracked", lambda r: write(r, "recipes/a/patch.diff", "--- a\n"),
     ["recipes/a/patch.diff"]),
    ("new ignored", lambda r: write(r, "recipes/a/debug.log", "x\n"), ["recipes/a/debug.log"]),
    ("delete tracked", lambda r: (r / "docs/README.md").unlink(), ["docs/README.md"]),
    ("chmod", lambda r: (r / "recipes/a/build.sh").chmod(0o755), ["recipes/a/build.sh"]),
    ("new directory", lambda r: write(r, "internal/q/src/q/m.py", "z = 1\n"), ["internal/q"]),
    ("ignored directory", lambda r: write(r, "build/out.o", "bin\n"), ["build"]),
    ("remove directory", lambda r: shutil.rmtree(r / "internal/p/src"), ["internal/p/src"]),
    ("file becomes directory", lambda r: ((r / "recipes/a/build.sh").unlink(),
                                          write(r, "recipes/a/build.sh/inner", "i\n")),
     ["recipes/a/build.sh"]),
    ("symbolic link", lambda r: os.symlink("../a", r / "recipes/link"), ["recipes/link"]),
    ("cache is never an input", lambda r: write(r, "cache/render/x", "c\n"), ["cache"]),
]


def test_each_change_updates_the_index_as_git_sees_it(repo):
    before = fresh(repo)
    tracked = vcs.start_tree_state(repo).result().blobs
    for name, change, paths in CHANGES:
        change(repo)
        updated = updated_file_index(repo, before, tracked, paths)
        expected = fresh(repo)
        assert dict(updated.digests) == dict(expected.digests), name
        assert updated.dirty == expected.dirty, name
        assert updated.paths == expected.paths, name
        before = updated


def test_too_many_new_untracked_files_ask_for_git_again(repo):
    before = fresh(repo)
    tracked = vcs.start_tree_state(repo).result().blobs
    for number in range(UNTRACKED_ASKED + 1):
        write(repo, f"many/f{number}.txt", "x\n")
    assert updated_file_index(repo, before, tracked, ["many"]) is None
