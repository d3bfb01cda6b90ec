"""Publishing real conda packages (written by tarfile, indexed by py-rattler) into a channel."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import textwrap
from hashlib import sha256
from pathlib import Path

import pytest
from orchestrator.errors import ChannelError
from orchestrator.publish import (
    channel_packages,
    ensure_channel,
    local_channel,
    publish_atomically,
)
from orchestrator.workspace import load_workspace


def make_package(directory: Path, name: str, version: str = "1.0", build: str = "h0_0",
                 subdir: str = "noarch", note: str = "") -> Path:
    """A minimal but real `.tar.bz2` conda package: info/index.json, info/paths.json, a file."""
    index = {"name": name, "version": version, "build": build, "build_number": 0,
             "depends": [], "subdir": subdir}
    if subdir == "noarch":
        index["noarch"] = "generic"
    payload = f"{name} {version} {note}\n".encode()
    paths = {"paths_version": 1, "paths": [{"_path": f"share/{name}.txt", "path_type": "hardlink",
                                            "size_in_bytes": len(payload)}]}
    members = {"info/index.json": json.dumps(index).encode(),
               "info/paths.json": json.dumps(paths).encode(),
               "info/files": f"share/{name}.txt\n".encode(), f"share/{name}.txt": payload}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{version}-{build}.tar.bz2"
    with tarfile.open(path, "w:bz2") as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def listed(channel: Path, subdir: str) -> set[str]:
    data = json.loads((channel / subdir / "repodata.json").read_text())
    return set(data["packages"]) | set(data["packages.conda"])


def present(channel: Path, subdir: str) -> set[str]:
    return {p.name for p in channel_packages(channel / subdir)}


def stray_files(channel: Path) -> list[str]:
    return sorted(str(p.relative_to(channel)) for p in channel.rglob("*")
                  if ".tmp-" in p.name or p.name.startswith(".index-"))


def test_publish_places_and_indexes_by_subdir(tmp_path):
    channel = tmp_path / "channel"
    files = [make_package(tmp_path / "out", "tool", subdir="linux-64"),
             make_package(tmp_path / "out", "data")]
    assert publish_atomically(channel, files, "linux-64") == (
        "linux-64/tool-1.0-h0_0.tar.bz2", "noarch/data-1.0-h0_0.tar.bz2")
    assert listed(channel, "linux-64") == {"tool-1.0-h0_0.tar.bz2"}
    assert listed(channel, "noarch") == {"data-1.0-h0_0.tar.bz2"}
    assert stray_files(channel) == []


def test_both_repodata_files_exist_after_a_noarch_publish(tmp_path):
    channel = tmp_path / "channel"
    publish_atomically(channel, [make_package(tmp_path / "out", "data")], "linux-64")
    assert listed(channel, "linux-64") == set()
    assert listed(channel, "noarch") == {"data-1.0-h0_0.tar.bz2"}


def test_republishing_a_changed_file_updates_its_record(tmp_path):
    channel = tmp_path / "channel"
    publish_atomically(channel, [make_package(tmp_path / "a", "data")])
    rebuilt = make_package(tmp_path / "b", "data", note="rebuilt")
    publish_atomically(channel, [rebuilt])
    record = json.loads((channel / "noarch/repodata.json").read_text())["packages"]
    assert record["data-1.0-h0_0.tar.bz2"]["sha256"] == sha256(rebuilt.read_bytes()).hexdigest()


def test_a_file_that_is_not_a_package_is_a_channel_error(tmp_path):
    bogus = tmp_path / "bogus-1.0-0.tar.bz2"
    bogus.write_text("not an archive")
    with pytest.raises(ChannelError, match="bogus-1.0-0.tar.bz2: not a readable conda package"):
        publish_atomically(tmp_path / "channel", [bogus])


PUBLISHER = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_publish import make_package
    from orchestrator.publish import publish_atomically
    channel, who, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    for i in range(count):
        package = make_package(Path(sys.argv[4]) / who, f"{{who}}-pkg{{i}}")
        publish_atomically(channel, [package], "linux-64")
""")


def test_concurrent_publishers_leave_a_consistent_channel(tmp_path):
    """Two processes publish 8 packages each while this test keeps reading repodata.json."""
    channel = tmp_path / "channel"
    script = PUBLISHER.format(tests=str(Path(__file__).parent))
    procs = [subprocess.Popen([sys.executable, "-c", script, channel, who, "8", tmp_path / "out"])
             for who in ("alpha", "beta")]
    reads = 0
    while any(p.poll() is None for p in procs):
        repodata = channel / "noarch" / "repodata.json"
        if repodata.exists():
            names = listed(channel, "noarch")  # never half-written: parses every time
            assert names <= present(channel, "noarch")  # never lists a missing file
            reads += 1
    assert [p.wait() for p in procs] == [0, 0]
    assert reads > 0
    assert listed(channel, "noarch") == present(channel, "noarch")
    assert len(present(channel, "noarch")) == 16
    assert stray_files(channel) == []


def test_ensure_channel_makes_an_empty_usable_channel(tmp_path):
    channel = tmp_path / "channel"
    ensure_channel(channel, "linux-64")
    assert listed(channel, "noarch") == set() and listed(channel, "linux-64") == set()
    publish_atomically(channel, [make_package(tmp_path / "out", "data")])
    ensure_channel(channel, "linux-64")  # an existing channel is left as it is
    assert listed(channel, "noarch") == {"data-1.0-h0_0.tar.bz2"}


@pytest.mark.parametrize(("target", "expected"), [
    ("cache/channel", "{root}/cache/channel"),
    ("file:///srv/conda/channel", "/srv/conda/channel"),
])
def test_the_target_channel_as_a_directory(make_workspace, target, expected):
    root = make_workspace({"WORKSPACE.toml": f'[workspace]\nname = "x"\n[channels]\n'
                                             f'target = "{target}"\n'}, git_repo=False)
    workspace = load_workspace(root, explicit=True)
    assert local_channel(workspace) == Path(expected.format(root=root))
