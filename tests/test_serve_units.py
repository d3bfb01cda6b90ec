"""The pure parts of the channel service, as tables: spec matching, prune selection, slots,
file and channel names, and the `[serve]` section of WORKSPACE.toml."""

from __future__ import annotations

import pytest
from orchestrator import cache
from orchestrator.serve.maturity import Record, matches, prune_candidates
from orchestrator.serve.pages import assign_slots
from orchestrator.serve.uploads import UploadRefused, check_channel_name, check_file_name

REC = Record("noarch", "own-app-2.0.1-h0123456789_0.conda", "own-app", "2.0.1",
             "h0123456789_0", 0, 1000.0)


@pytest.mark.parametrize(("spec", "expected"), [
    ("own-app", True), ("own-app=2.0.1", True), ("own-app==2.0.1", True), ("own-app=2.*", True),
    ("own-app=2.0.1=h0123456789_0", True), ("own-app=1.*", False), ("own", False),
    ("own-app-2.0.1-h0123456789_0.conda", True), ("noarch/own-app-2.0.1-h0123456789_0.conda",
                                                  True), ("own-app=2=h=x", False),
])
def test_specs(spec, expected):
    assert matches(REC, spec) is expected


def _rec(version, build_number=0, timestamp=0.0, name="a"):
    return Record("noarch", f"{name}-{version}-{build_number}.conda", name, version,
                  str(build_number), build_number, timestamp)


def test_prune_keeps_the_newest_by_version_order_not_text():
    records = [_rec("1.9"), _rec("1.10"), _rec("1.10", 1), _rec("2.0", name="b")]
    old = prune_candidates(records, keep=2, older_than_days=None, now=0)
    assert [r.filename for r in old] == ["a-1.9-0.conda"]
    assert prune_candidates(records, 1, older_than_days=1, now=86400 * 2) == [
        records[1], records[0]]
    assert prune_candidates(records, 1, older_than_days=5, now=86400 * 2) == []


def test_builds_overlapping_in_time_take_different_slots():
    def record(target, end, duration):
        return (cache.BuildRecord(target, "0" * 64, "success", duration, (),
                                  f"2026-01-01T00:00:{end:02d}+00:00"), ())

    bars = assign_slots([record("//a", 10, 10), record("//b", 15, 10), record("//c", 20, 9)])
    assert [(b.target, b.slot) for b in bars] == [("//a", 0), ("//b", 1), ("//c", 0)]


@pytest.mark.parametrize("name", ["a-1-0.conda", "py-rattler-0.28.0-py_0.tar.bz2"])
def test_package_file_names(name):
    assert check_file_name(name) == name


@pytest.mark.parametrize("name", ["../a-1-0.conda", "a/b-1-0.conda", ".a-1-0.conda",
                                  "a-1-0.zip", "a.conda", "", "a-1-0.conda/.."])
def test_not_package_file_names(name):
    with pytest.raises(UploadRefused) as info:
        check_file_name(name)
    assert info.value.status == 400


@pytest.mark.parametrize("name", ["..", ".tokens.sqlite3", "a/b", "", "t/../x"])
def test_not_channel_names(name):
    with pytest.raises(UploadRefused):
        check_channel_name(name)


def test_the_serve_section(make_workspace, run_cli):
    root = make_workspace({"WORKSPACE.toml": '[workspace]\nname = "x"\n[serve]\nroot = "srv"\n'
                                             'archived = ["stable"]\nport = 0\n'})
    from orchestrator.serve.config import server_config
    from orchestrator.workspace import load_workspace

    config = server_config(load_workspace(root, explicit=True))
    assert config.root == root / "srv" and config.subdirs == ("noarch", "linux-64")
    assert config.all_channels == ("testing", "staging", "stable", "archive")
    bad = make_workspace({"WORKSPACE.toml": '[workspace]\nname = "x"\n[serve]\nports = 1\n'},
                         name="bad")
    result = run_cli(["-C", bad, "token", "list"])
    assert result.code == 2
    assert result.err == f"error: {bad}/WORKSPACE.toml: serve.ports: unknown key\n"
