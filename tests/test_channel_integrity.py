"""The channel is the truth, by content: given real packages (tarfile-made, indexed by
py-rattler) in a real channel, when bytes change under repodata.json — a SIGKILL between
placing a package and re-indexing, another clone's files copied over, a deletion, a truncated
archive — then plan, build's re-index and `orchestrate verify [--repair]` see it and repair it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from hashlib import sha256
from pathlib import Path

import pytest
from orchestrator.channel_integrity import verify_channel
from orchestrator.publish import publish_atomically, reindex_if_stale
from test_plan_support import ORG, actions
from test_publish import listed, make_package, present

PLATFORM = "linux-64"


def record(channel: Path, subdir: str, filename: str) -> dict:
    data = json.loads((channel / subdir / "repodata.json").read_text())
    return {**data["packages"], **data["packages.conda"]}[filename]


def problems_of(channel: Path) -> list[str]:
    return [str(p) for p in verify_channel(channel)[0]]


KILLED_PUBLISHER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from orchestrator.publish import place_package
    place_package(Path(sys.argv[1]), Path(sys.argv[2]))
    os.kill(os.getpid(), signal.SIGKILL)  # the moment between placing and re-indexing
""")


def test_a_sigkill_between_placing_and_indexing_is_seen_and_repaired(tmp_path):
    channel = tmp_path / "channel"
    publish_atomically(channel, [make_package(tmp_path / "a", "data")], PLATFORM)
    rebuilt = make_package(tmp_path / "b", "data", note="rebuilt, other bytes")
    killed = subprocess.run([sys.executable, "-c", KILLED_PUBLISHER, channel, rebuilt])
    assert killed.returncode == -9
    assert (channel / "noarch" / rebuilt.name).read_bytes() == rebuilt.read_bytes()
    assert [p.split(": ", 1)[1] for p in problems_of(channel)] == [
        f"size {rebuilt.stat().st_size} but repodata.json lists "
        f"{record(channel, 'noarch', rebuilt.name)['size']}"]
    assert reindex_if_stale(channel, PLATFORM) == []  # what every `build` does first
    assert record(channel, "noarch", rebuilt.name)["sha256"] == sha256(
        rebuilt.read_bytes()).hexdigest()
    assert problems_of(channel) == []


def test_same_name_same_size_other_bytes_is_found_by_sha256(tmp_path):
    """Another clone's package of the same name copied over this one (CI artifacts)."""
    channel = tmp_path / "channel"
    package = make_package(tmp_path / "a", "data", note="first")
    publish_atomically(channel, [package], PLATFORM)
    target = channel / "noarch" / package.name
    data = bytearray(target.read_bytes())
    data[-40] ^= 0xFF  # same size, other bytes (inside bz2 padding or not: verify says sha256)
    target.write_bytes(bytes(data))
    assert any("sha256 differs" in p for p in problems_of(channel))
    reindex_if_stale(channel, PLATFORM)
    remaining = problems_of(channel)
    assert remaining == [] or all("corrupt package" in p for p in remaining)


def test_another_clones_channel_copied_over_is_reindexed(tmp_path):
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    publish_atomically(mine, [make_package(tmp_path / "a", "data", note="mine")], PLATFORM)
    publish_atomically(theirs, [make_package(tmp_path / "b", "data", note="theirs"),
                                make_package(tmp_path / "b", "extra")], PLATFORM)
    shutil.copytree(mine, theirs, dirs_exist_ok=True)  # my files and repodata over theirs
    assert problems_of(theirs)
    reindex_if_stale(theirs, PLATFORM)
    assert problems_of(theirs) == []
    assert listed(theirs, "noarch") == present(theirs, "noarch") == {
        "data-1.0-h0_0.tar.bz2", "extra-1.0-h0_0.tar.bz2"}


@pytest.mark.parametrize("suffix", [".tar.bz2", ".conda"])
def test_a_truncated_package_is_quarantined_and_does_not_block_publishing(tmp_path, suffix):
    channel = tmp_path / "channel"
    good = make_package(tmp_path / "a", "good")
    publish_atomically(channel, [good], PLATFORM)
    broken = channel / "noarch" / f"broken-1.0-h0_0{suffix}"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    placed = publish_atomically(channel, [make_package(tmp_path / "b", "fresh")], PLATFORM)
    assert placed == ("noarch/fresh-1.0-h0_0.tar.bz2",)
    assert listed(channel, "noarch") == present(channel, "noarch") == {
        "good-1.0-h0_0.tar.bz2", "fresh-1.0-h0_0.tar.bz2"}
    assert (channel / "quarantine" / "noarch" / broken.name).is_file()
    assert problems_of(channel) == []


def test_reindex_names_the_quarantined_package_in_one_line(tmp_path):
    channel = tmp_path / "channel"
    publish_atomically(channel, [make_package(tmp_path / "a", "good")], PLATFORM)
    broken = channel / PLATFORM / "broken-1.0-h0_0.conda"
    broken.parent.mkdir(exist_ok=True)
    broken.write_bytes(b"PK\x03\x04 truncated")
    (moved,) = reindex_if_stale(channel, PLATFORM)
    assert str(moved).startswith(f"{broken}: corrupt package (")
    assert str(moved).endswith(f"moved to {channel / 'quarantine' / PLATFORM / broken.name}")
    assert "\n" not in str(moved)


# ---------------------------------------------------------------- plan and verify, by the CLI


def published_workspace(make_workspace, tmp_path) -> tuple[Path, Path]:
    root = make_workspace(ORG)
    channel = root / "cache" / "channel"
    publish_atomically(channel, [make_package(tmp_path / "p", "alpha"),
                                 make_package(tmp_path / "p", "beta")], PLATFORM)
    return root, channel


def test_plan_notices_a_listed_file_that_is_gone(make_workspace, run_cli):
    from test_plan_support import publish_outputs

    root = make_workspace(ORG)
    first = run_cli(["-C", root, "plan", "--format", "json"])
    nodes = json.loads(first.out)["nodes"]
    publish_outputs(root / "cache" / "channel", nodes)
    assert set(actions(json.loads(run_cli(["-C", root, "plan", "--format", "json"]).out))
               .values()) == {"up-to-date"}
    zlib = next(n for n in nodes if n["target"] == "//recipes/zlib")["outputs"][0]
    (root / "cache" / "channel" / zlib["subdir"] / zlib["filename"]).unlink()
    after = actions(json.loads(run_cli(["-C", root, "plan", "--format", "json"]).out))
    assert after["//recipes/zlib"] == "build"


def test_verify_a_sound_channel(make_workspace, tmp_path, run_cli):
    root, channel = published_workspace(make_workspace, tmp_path)
    result = run_cli(["-C", root, "verify"])
    assert (result.code, result.err) == (0, "")
    assert result.out == f"{channel}: 2 packages, no problems\n"


def test_verify_reports_each_problem_in_one_line_and_repair_fixes_them(
        make_workspace, tmp_path, run_cli):
    root, channel = published_workspace(make_workspace, tmp_path)
    noarch = channel / "noarch"
    (noarch / "alpha-1.0-h0_0.tar.bz2").unlink()  # listed, gone
    shutil.copy(make_package(tmp_path / "q", "stray"), noarch)  # present, unlisted
    (noarch / "broken-1.0-h0_0.conda").write_bytes(b"PK\x03\x04")  # unreadable
    shutil.copy(make_package(tmp_path / "r", "liar"), noarch / "liar-2.0-h0_0.tar.bz2")
    result = run_cli(["-C", root, "verify"])
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines == [
        f"error: {noarch}/alpha-1.0-h0_0.tar.bz2: listed in repodata.json but missing",
        f"error: {noarch}/broken-1.0-h0_0.conda: present but not listed in repodata.json",
        f"error: {noarch}/liar-2.0-h0_0.tar.bz2: present but not listed in repodata.json",
        f"error: {noarch}/stray-1.0-h0_0.tar.bz2: present but not listed in repodata.json",
        lines[4],
        f"error: {noarch}/liar-2.0-h0_0.tar.bz2: file name does not match its index.json "
        "(liar-1.0-h0_0)",
    ]
    assert lines[4].startswith(f"error: {noarch}/broken-1.0-h0_0.conda: corrupt package (")
    repaired = run_cli(["-C", root, "verify", "--repair"])
    assert repaired.code == 0, repaired.err
    assert f"repaired: {noarch}/broken-1.0-h0_0.conda: corrupt package" in repaired.out
    assert f"repaired: {noarch}/liar-2.0-h0_0.tar.bz2: file name does not match" in repaired.out
    assert repaired.out.endswith(f"{channel}: 2 packages, no problems\n")
    assert listed(channel, "noarch") == {"beta-1.0-h0_0.tar.bz2", "stray-1.0-h0_0.tar.bz2"}
    assert sorted(p.name for p in (channel / "quarantine" / "noarch").iterdir()) == [
        "broken-1.0-h0_0.conda", "liar-2.0-h0_0.tar.bz2"]


def test_verify_sees_a_record_that_lies_about_its_package(make_workspace, tmp_path, run_cli):
    root, channel = published_workspace(make_workspace, tmp_path)
    repodata = channel / "noarch" / "repodata.json"
    data = json.loads(repodata.read_text())
    data["packages"]["beta-1.0-h0_0.tar.bz2"]["build_number"] = 7
    repodata.write_text(json.dumps(data))
    result = run_cli(["-C", root, "verify"])
    assert (result.code, result.err) == (1, f"error: {channel}/noarch/beta-1.0-h0_0.tar.bz2: "
                                            "repodata.json record differs from its index.json "
                                            "in build_number\n")


@pytest.mark.parametrize(("channel_line", "message"), [
    ('target = "https://example.invalid/channel"', "is not a local directory"),
    ('target = "no/such/channel"', "no such channel directory"),
])
def test_verify_of_a_channel_it_cannot_check_is_bad_input(make_workspace, run_cli,
                                                          channel_line, message):
    toml = f"[workspace]\nname = \"x\"\n[channels]\n{channel_line}\n"
    root = make_workspace({"WORKSPACE.toml": toml})
    result = run_cli(["-C", root, "verify"])
    assert result.code == 2 and message in result.err and len(result.err.splitlines()) == 1


def test_repodata_that_is_a_json_list_is_one_error_line(make_workspace, run_cli):
    root = make_workspace(ORG)
    (root / "cache" / "channel" / "linux-64").mkdir(parents=True)
    (root / "cache" / "channel" / "linux-64" / "repodata.json").write_text("[]")
    for command in (["plan"], ["verify"]):
        result = run_cli(["-C", root, *command])
        assert result.code in (1, 2), result.err
        (line,) = result.err.splitlines()
        assert "linux-64/repodata.json: not a JSON object (a JSON list)" in line
