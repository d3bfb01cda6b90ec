"""Given real git repositories in temporary directories, what vcs.py answers about changes."""

from __future__ import annotations

import hashlib

import pytest
from conftest import commit_all, git, write_files
from orchestrator import vcs
from orchestrator.errors import VcsError


@pytest.fixture
def repo(make_workspace):
    return make_workspace({
        ".gitignore": "cache/\n*.log\n",
        "a/one.txt": "one\n",
        "a/two.txt": "two\n",
        "b/three.txt": "three\n",
    })


def blob(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_tree_state_gives_index_blob_ids_and_only_dirty_files(repo):
    write_files(repo, {"a/one.txt": "ONE\n", "a/new.txt": "new\n", "x.log": "ignored\n"})
    (repo / "b/three.txt").unlink()
    state = vcs.start_tree_state(repo).result()
    assert state.blobs["a/two.txt"] == blob("two\n")
    assert state.blobs["a/one.txt"] == blob("one\n")  # the index, not the working copy
    assert state.dirty == {"a/one.txt", "a/new.txt", "b/three.txt"}


def test_tree_state_paths_are_relative_to_a_workspace_inside_a_repository(repo):
    state = vcs.start_tree_state(repo / "a").result()
    assert set(state.blobs) == {"one.txt", "two.txt"}


def test_tree_state_is_none_outside_git(tmp_path):
    assert vcs.start_tree_state(tmp_path).result() is None


def test_changed_files_since_counts_committed_staged_unstaged_and_untracked(repo):
    git(repo, "checkout", "-q", "-b", "feature")
    write_files(repo, {"a/one.txt": "committed\n"})
    commit_all(repo, "on feature")
    write_files(repo, {"a/two.txt": "staged\n", "b/three.txt": "unstaged\n", "c/u.txt": "new\n"})
    git(repo, "add", "a/two.txt")
    assert vcs.changed_files_since(repo, "main") == {
        "a/one.txt", "a/two.txt", "b/three.txt", "c/u.txt",
    }


def test_changed_files_since_starts_at_the_merge_base(repo):
    git(repo, "checkout", "-q", "-b", "feature")
    write_files(repo, {"a/one.txt": "feature\n"})
    commit_all(repo, "on feature")
    git(repo, "checkout", "-q", "main")
    write_files(repo, {"b/three.txt": "main moved on\n"})
    commit_all(repo, "on main")
    git(repo, "checkout", "-q", "feature")
    assert vcs.changed_files_since(repo, "main") == {"a/one.txt"}


def test_renames_count_both_paths(repo):
    git(repo, "mv", "a/one.txt", "b/one.txt")
    commit_all(repo, "move")
    assert vcs.changed_files_since(repo, "HEAD~1") == {"a/one.txt", "b/one.txt"}


def test_nothing_changed_since_head_of_a_clean_tree(repo):
    assert vcs.changed_files_since(repo, "HEAD") == frozenset()


@pytest.mark.parametrize("ref", ["no-such-branch", "HEAD~5", "-x"])
def test_unknown_ref_is_an_error_naming_it(repo, ref):
    with pytest.raises(VcsError, match=f"unknown git ref '{ref}'"):
        vcs.changed_files_since(repo, ref)


def test_changed_since_outside_git_is_an_error(tmp_path):
    with pytest.raises(VcsError, match="not a git repository"):
        vcs.changed_files_since(tmp_path, "main")


def test_resolve_remote_rev_of_a_local_repository(repo):
    git(repo, "tag", "v1.0")
    tagged = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "tag", "-a", "v1.1", "-m", "annotated")
    write_files(repo, {"a/one.txt": "later\n"})
    head = commit_all(repo, "later")
    url = repo.as_uri()
    assert vcs.resolve_remote_rev(url, "v1.0") == tagged
    assert vcs.resolve_remote_rev(url, "v1.1") == tagged  # the peeled commit, not the tag object
    assert vcs.resolve_remote_rev(url, "main") == head
    assert vcs.resolve_remote_rev(url, head.upper()) == head
    assert vcs.resolve_remote_rev(url, head[:7]) == head[:7]  # a pinned abbreviation, as written


def test_resolve_remote_rev_errors(repo, tmp_path):
    with pytest.raises(VcsError, match="no branch or tag named 'nope'"):
        vcs.resolve_remote_rev(repo.as_uri(), "nope")
    with pytest.raises(VcsError, match="git ls-remote"):
        vcs.resolve_remote_rev((tmp_path / "missing").as_uri(), "main")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100644 " + "a" * 40 + " 0\tx y.txt\0", {"x y.txt": "a" * 40}),
        ("100644 " + "a" * 40 + " 1\tc\x00100644 " + "b" * 40 + " 2\tc\0", {"c": ""}),
        ("", {}),
    ],
)
def test_parse_ls_files_stage(text, expected):
    assert vcs.parse_ls_files_stage(text) == expected


def test_parse_ls_remote_prefers_the_peeled_tag():
    text = "1" * 40 + "\trefs/heads/v1\n" + "2" * 40 + "\trefs/tags/v1\n" + "3" * 40 + \
        "\trefs/tags/v1^{}\n"
    assert vcs.parse_ls_remote(text, "v1") == "3" * 40
    assert vcs.parse_ls_remote(text, "v2") is None


def test_describe_tags_describes_the_repository_holding_the_path(repo):
    """A recipe directory that is a repository of its own is described by its own tags."""
    git(repo, "tag", "v1.0")
    inner = repo / "b"
    git(inner, "init", "-q", "-b", "main")
    commit_all(inner, "inner")
    git(inner, "tag", "v9.2")
    assert vcs.describe_tags(repo).tag == "v1.0"
    assert vcs.describe_tags(repo, "a").tag == "v1.0"
    assert vcs.describe_tags(repo, "b")[:2] == ("v9.2", "0")
