"""`orchestrate clean`: logs, records, sources and render cache go; the channel only with --all."""

from __future__ import annotations


def _fill(root):
    for rel in ("cache/builds/a/h/build.log", "cache/sources/s/x.tar.gz",
                "cache/render/r.json", "cache/channel/noarch/repodata.json"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_clean_keeps_the_channel(make_workspace, run_cli):
    root = make_workspace({})
    _fill(root)
    result = run_cli(["-C", root, "clean"])
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["removed cache/builds", "removed cache/sources",
                                       "removed cache/render"]
    assert sorted(p.name for p in (root / "cache").iterdir()) == ["channel"]


def test_clean_all_removes_the_local_channel(make_workspace, run_cli):
    root = make_workspace({})
    _fill(root)
    assert run_cli(["-C", root, "clean", "--all"]).code == 0
    assert list((root / "cache").iterdir()) == []
    assert run_cli(["-C", root, "clean"]).out == "nothing to clean\n"


def test_clean_outside_a_workspace_is_an_error(tmp_path, run_cli):
    result = run_cli(["-C", tmp_path, "clean"])
    assert result.code == 2
    assert result.err.startswith(f"error: {tmp_path}/WORKSPACE.toml: no such file")


def test_clean_all_never_removes_a_channel_that_holds_the_workspace(make_workspace, run_cli):
    root = make_workspace({"WORKSPACE.toml": '[workspace]\nname = "x"\n[channels]\ntarget = "."\n'})
    result = run_cli(["-C", root, "clean", "--all"])
    assert result.code == 2
    assert result.err.startswith(f"error: {root}/WORKSPACE.toml: channels.target: ")
    assert "holds the workspace" in result.err
    assert (root / "WORKSPACE.toml").is_file() and (root / ".git").is_dir()


def test_clean_all_removes_only_the_channels_subdirs(make_workspace, run_cli):
    root = make_workspace({"WORKSPACE.toml": '[workspace]\nname = "x"\n[channels]\n'
                                             'target = "published"\n'})
    _fill(root)
    for rel in ("published/noarch/repodata.json", "published/notes.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    assert run_cli(["-C", root, "clean", "--all"]).code == 0
    assert sorted(p.name for p in (root / "published").iterdir()) == ["notes.txt"]


def test_clean_empties_a_symlinked_cache_dir_and_keeps_the_link(make_workspace, run_cli, tmp_path):
    root = make_workspace({})
    _fill(root)
    elsewhere = tmp_path / "big-disk" / "sources"
    (root / "cache/sources").rename(elsewhere.parent.mkdir(parents=True) or elsewhere)
    (root / "cache/sources").symlink_to(elsewhere)
    result = run_cli(["-C", root, "clean"])
    assert result.code == 0, result.err
    assert (root / "cache/sources").is_symlink() and list(elsewhere.iterdir()) == []
