"""Published packages hold no paths of the build machine: info/ rewritten after the build.

rattler-build writes the channels it resolved from into info/about.json (for a local channel,
`file:///<workspace>/cache/channel/`) and copies the recipe it built, with the absolute path
sources orchestrate gave it and its own build directories, into info/recipe/: a user name under
/home and the workspace's layout went out with every package (issue 9); conda-build does the
same (its about.json channels, the recipe's directory in info/recipe/meta.yaml). After the
build and before publishing, the text files of info/about.json and info/recipe/ get every local
channel URL replaced by the channel's public name and every path inside the workspace made
relative to the recipe's directory. Only info/ changes; the payload and paths.json, which
describes the payload only, are untouched.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.builders.request import BuildRequest
from orchestrator.files import replace_atomically
from orchestrator.workspace import Channel

SCRUBBED = ("info/about.json", "info/recipe/")


@dataclass(frozen=True)
class Scrub:
    """What to replace: the workspace root, the recipe's directory, channel URL → name."""

    root: str
    recipe_dir: str
    channels: Mapping[str, str]

    def text(self, text: str) -> str:
        """`text` with local channel URLs named and workspace paths made relative (pure)."""
        for url, name in sorted(self.channels.items(), key=lambda c: -len(c[0])):
            text = text.replace(url.rstrip("/"), name)
        pattern = r"(?:file://)?" + re.escape(self.root) + r"(?=[/\s\"',\]}]|$)[^\s\"',\]}]*"
        return re.sub(pattern, self._relative, text)

    def _relative(self, match: re.Match) -> str:
        path = match.group(0).removeprefix("file://")
        return os.path.relpath(path, self.recipe_dir)


def channel_names(channels: Iterable[Channel], root: Path) -> dict[str, str]:
    """Local channel URL → its public name: the workspace-relative path of a channel inside the
    workspace, the directory's name otherwise; remote URLs are public already."""
    return {c.url: (c.path.relative_to(root).as_posix() if c.path.is_relative_to(root)
                    else c.path.name)
            for c in channels if c.path is not None}


def scrub_built(request: BuildRequest, packages: list[Path]) -> None:
    """Every package of a build scrubbed: no path of this machine leaves it in a package."""
    scrub = Scrub(str(request.workspace_root), str(request.recipe_dir),
                  channel_names(request.channels, request.workspace_root))
    for package in packages:
        scrub_package(package, scrub)


def scrub_package(package: Path, scrub: Scrub) -> None:
    """Rewrite `package`'s info/ in place (a .conda or a .tar.bz2), atomically, keeping its
    owner: the build ran as the invoking user, and the package stays theirs (issue 5)."""
    owner = package.stat()
    if package.name.endswith(".conda"):
        replace_atomically(package, _scrubbed_conda(package.read_bytes(), scrub))
    elif package.name.endswith(".tar.bz2"):
        replace_atomically(package, _scrubbed_tar(package.read_bytes(), scrub, "bz2"))
    if os.geteuid() == 0 and package.stat().st_uid != owner.st_uid:
        os.chown(package, owner.st_uid, owner.st_gid)


def _scrubbed_conda(data: bytes, scrub: Scrub) -> bytes:
    import zstandard

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename.startswith("info-") and info.filename.endswith(".tar.zst"):
                tar = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)).read()
                body = zstandard.ZstdCompressor(level=19).compress(_scrubbed_tar(tar, scrub))
            target.writestr(info, body)
    return out.getvalue()


def _scrubbed_tar(data: bytes, scrub: Scrub, compression: str = "") -> bytes:
    out = io.BytesIO()
    mode = f":{compression}" if compression else ""
    with tarfile.open(fileobj=io.BytesIO(data), mode=f"r{mode}") as source, \
            tarfile.open(fileobj=out, mode=f"w{mode}", format=source.format) as target:
        for member in source:
            body = source.extractfile(member).read() if member.isfile() else None
            if body is not None and member.name.startswith(SCRUBBED):
                body = _scrubbed_bytes(body, scrub)
                member.size = len(body)
            target.addfile(member, io.BytesIO(body) if body is not None else None)
    return out.getvalue()


def _scrubbed_bytes(body: bytes, scrub: Scrub) -> bytes:
    try:
        return scrub.text(body.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:  # not text: nothing of ours to find in it
        return body
