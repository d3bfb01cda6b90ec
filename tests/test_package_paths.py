"""Published packages hold no paths of the build machine: given a workspace built for real
by rattler-build (a meta.yaml with a `path:` source, a v1 recipe), when every byte of every
package (info/ and payload, unpacked) is searched for the workspace's absolute path, then
there is none; about.json names the channel, the recipe copy says `path: ..` (issue 9)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from orchestrator.builders.scrub import Scrub

ROOT = "/home/alice/work/acme"


@pytest.mark.parametrize(("text", "expected"), [
    (f'"channels": ["file://{ROOT}/cache/channel/"]', '"channels": ["cache/channel/"]'),
    (f"  - file://{ROOT}/cache/channel\n", "  - cache/channel\n"),
    (f"- path: {ROOT}/internal/own\n", "- path: ..\n"),
    (f"build_dir: {ROOT}/cache/builds/x/bld\n", "build_dir: ../../../cache/builds/x/bld\n"),
    (f"url: file://{ROOT}/cache/sources/ab/x.tar.gz", "url: ../../../cache/sources/ab/x.tar.gz"),
    (f"other: {ROOT}2/elsewhere", f"other: {ROOT}2/elsewhere"),  # another directory
    ("https://conda.anaconda.org/conda-forge/", "https://conda.anaconda.org/conda-forge/"),
])
def test_scrubbed_text(text, expected):
    scrub = Scrub(ROOT, f"{ROOT}/internal/own/conda", {f"file://{ROOT}/cache/channel":
                                                       "cache/channel"})
    assert scrub.text(text) == expected


def unpacked(package: Path) -> dict[str, bytes]:
    """Every member of a .conda, its inner tar.zst archives unpacked too."""
    import zstandard

    members = {}
    with zipfile.ZipFile(package) as archive:
        for name in archive.namelist():
            body = archive.read(name)
            members[name] = body
            if name.endswith(".tar.zst"):
                tar = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)).read()
                with tarfile.open(fileobj=io.BytesIO(tar)) as inner:
                    for member in inner:
                        if member.isfile():
                            members[member.name] = inner.extractfile(member).read()
    return members


@pytest.mark.slow
def test_built_packages_hold_no_path_of_the_build_machine(make_workspace):
    root = make_workspace({
        "WORKSPACE.toml": '[workspace]\nname = "paths"\n',
        ".gitignore": "cache/\n",
        "internal/own/src/data.txt": "data\n",
        "internal/own/conda/meta.yaml": (
            "package:\n  name: own\n  version: 1.0\nsource:\n  path: ..\nbuild:\n"
            "  noarch: generic\n  script: mkdir -p $PREFIX/share && cp src/data.txt "
            "$PREFIX/share/own.txt\n"),
        "recipes/v1-one/recipe.yaml": (
            'package:\n  name: v1-one\n  version: "1.0"\nbuild:\n  noarch: generic\n'
            "  script:\n    - mkdir -p $PREFIX/share && echo v1 > $PREFIX/share/v1.txt\n"),
    })
    built = subprocess.run([sys.executable, "-m", "orchestrator", "-C", root, "build"],
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    packages = sorted((root / "cache" / "channel" / "noarch").glob("*.conda"))
    assert [p.name.split("-1.0-")[0] for p in packages] == ["own", "v1-one"]
    for package in packages:
        members = unpacked(package)
        leaks = [name for name, body in members.items() if str(root).encode() in body]
        assert leaks == [], package.name
        assert json.loads(members["info/about.json"])["channels"] == ["cache/channel/"]
    own = unpacked(packages[0])
    assert b"path: .." in own["info/recipe/recipe.yaml"]
    assert own["share/own.txt"] == b"data\n"
    verified = subprocess.run([sys.executable, "-m", "orchestrator", "-C", root, "verify"],
                              capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
