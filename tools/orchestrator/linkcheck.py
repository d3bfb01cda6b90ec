"""Linking checks of a built package: every needed shared library must come from somewhere.

`check_package(package, providers, system_libs)` reads the ELF files of a package (pyelftools)
and compares each DT_NEEDED library with the libraries of the package itself, of its run
requirements (the file lists of those packages in the local channels) and the allowed system
libraries (`[build] system_libs`, default the manylinux2014 policy's list plus the loader).
- overlinking: a needed library nobody provides (an error, like conda-build's
  `--error-overlinking`);
- overdepending: a run requirement that ships shared libraries none of which is needed (a
  warning: it may be needed at run time for other reasons).
"""

from __future__ import annotations

import fnmatch
import json
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# auditwheel's manylinux2014 (manylinux_2_17) policy "lib_whitelist", plus the dynamic loader
MANYLINUX2014_LIBS = (
    "libgcc_s.so.1", "libstdc++.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libc.so.6",
    "libnsl.so.1", "libutil.so.1", "libpthread.so.0", "libresolv.so.2", "libX11.so.6",
    "libXext.so.6", "libXrender.so.1", "libICE.so.6", "libSM.so.6", "libGL.so.1",
    "libgobject-2.0.so.0", "libgthread-2.0.so.0", "libglib-2.0.so.0",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld64.so.2",
)
ELF_MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class LinkProblem:
    kind: str  # "overlinking" (an error) or "overdepending" (a warning)
    file: str  # the package file and, for overlinking, the ELF file inside it
    library: str  # the needed library (overlinking) or the run requirement (overdepending)

    def line(self) -> str:
        if self.kind == "overlinking":
            return (f"{self.file}: overlinking: needs {self.library}, which no run requirement "
                    "provides and [build] system_libs does not allow")
        return (f"{self.file}: overdepending: run requirement {self.library} provides no "
                "library it needs")


def check_package(package: Path, providers: Mapping[str, frozenset[str]],
                  system_libs: Iterable[str] = MANYLINUX2014_LIBS) -> list[LinkProblem]:
    """The link problems of one package file; `providers` maps package name → the library
    file names it ships (`channel_providers` reads them from channels)."""
    from rattler.package import IndexJson

    depends = [d.split()[0] for d in IndexJson.from_package_archive(package).depends]
    own, needed = _own_libraries_and_needs(package)
    allowed = tuple(system_libs)
    available = own | {lib for d in depends for lib in providers.get(d, frozenset())}
    problems = [LinkProblem("overlinking", f"{package.name}:{elf}", lib)
                for elf, libs in sorted(needed.items()) for lib in libs
                if lib not in available and not _allowed(lib, allowed)]
    used = {lib for libs in needed.values() for lib in libs}
    problems += [LinkProblem("overdepending", package.name, d) for d in depends
                 if providers.get(d) and not providers[d] & used]
    return problems


def channel_providers(channels: Iterable[Path], extra: Iterable[Path] = (),
                      names: frozenset[str] | None = None) -> dict[str, frozenset[str]]:
    """package name → shared libraries its packages ship, over local channel directories
    (their repodata; only the packages named in `names`, when given) and `extra` package
    files (e.g. the other outputs of the same build)."""
    files = [*extra]
    for channel in channels:
        files += _channel_packages(channel, names)
    providers: dict[str, set[str]] = {}
    for file in files:
        name, libs = _package_libraries(file)
        providers.setdefault(name, set()).update(libs)
    return {name: frozenset(libs) for name, libs in providers.items()}


def _allowed(library: str, allowed: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(library, pattern) for pattern in allowed)


def _channel_packages(channel: Path, names: frozenset[str] | None) -> list[Path]:
    return [file for file, record in _records(channel)
            if names is None or record.get("name") in names]


def _package_libraries(package: Path) -> tuple[str, set[str]]:
    from rattler.package import IndexJson, PathsJson

    name = IndexJson.from_package_archive(package).name.normalized
    paths = PathsJson.from_package_archive(package).paths
    return name, {Path(str(p.relative_path)).name for p in paths
                  if _is_library(str(p.relative_path))}


def _is_library(path: str) -> bool:
    name = Path(path).name
    return ".so" in name and (name.endswith(".so") or ".so." in name)


def _own_libraries_and_needs(package: Path) -> tuple[set[str], dict[str, list[str]]]:
    """The library file names of the package and, per ELF file, its DT_NEEDED entries."""
    from rattler.package_streaming import extract

    with tempfile.TemporaryDirectory(prefix="orchestrate-linkcheck-") as scratch:
        extract(package, scratch)
        root = Path(scratch)
        files = [p for p in sorted(root.rglob("*"))
                 if p.is_file() and not p.is_symlink() and p.relative_to(root).parts[0] != "info"]
        own = {p.name for p in root.rglob("*") if _is_library(p.name)}
        needed = {str(p.relative_to(root)): _needed(p) for p in files if _is_elf(p)}
    return own, {elf: libs for elf, libs in needed.items() if libs}


def _is_elf(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(4) == ELF_MAGIC


def _needed(path: Path) -> list[str]:
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    try:
        with path.open("rb") as file:
            sections = [s for s in ELFFile(file).iter_sections() if isinstance(s, DynamicSection)]
            return [t.needed for s in sections for t in s.iter_tags()
                    if t.entry.d_tag == "DT_NEEDED"]
    except ELFError:
        return []  # not an ELF file we can read (e.g. a truncated test fixture): nothing needed


def allowed_libraries(system_libs: Iterable[str] | None) -> tuple[str, ...]:
    """`[build] system_libs` as patterns; unset, manylinux2014's list."""
    return MANYLINUX2014_LIBS if system_libs is None else tuple(system_libs)


def check_built(packages: list[Path], channel: Path,
                system_libs: Iterable[str] | None = None) -> list[LinkProblem]:
    """The problems of one build's packages, its sibling outputs counted as providers."""
    providers = directory_providers(channel, packages)
    allowed = allowed_libraries(system_libs)
    return [p for package in packages for p in check_package(package, providers, allowed)]


def directory_providers(directory: Path, packages: list[Path]) -> dict[str, frozenset[str]]:
    """`channel_providers` for the run requirements of `packages`, over `directory` (a channel
    or a directory of package files), `packages` themselves counted too."""
    from rattler.package import IndexJson

    names = frozenset(d.split()[0] for p in packages
                      for d in IndexJson.from_package_archive(p).depends)
    return channel_providers([directory], extra=packages, names=names)


def newest_packages(directory: Path, names: Iterable[str]) -> dict[str, Path]:
    """package name → its newest package file in `directory` (a channel: its repodata; else
    the package files below it), by version, build number, then timestamp, over all subdirs."""
    from rattler import VersionWithSource

    wanted, newest = frozenset(names), {}
    for file, record in _records(directory):
        name = record.get("name")
        if name not in wanted:
            continue
        key = (VersionWithSource(str(record.get("version", "0"))),
               int(record.get("build_number", 0)), int(record.get("timestamp", 0)))
        if name not in newest or key > newest[name][0]:
            newest[name] = (key, file)
    return {name: file for name, (_, file) in newest.items()}


def _records(directory: Path) -> list[tuple[Path, dict]]:
    """(package file, its index record) of every package in `directory`."""
    from rattler.package import IndexJson

    repodatas = sorted(directory.glob("*/repodata.json"))
    if not repodatas:
        files = sorted([*directory.rglob("*.conda"), *directory.rglob("*.tar.bz2")])
        return [(f, _index_record(IndexJson.from_package_archive(f))) for f in files]
    records = []
    for repodata in repodatas:
        data = json.loads(repodata.read_text(encoding="utf-8"))
        for file, record in sorted({**data.get("packages", {}),
                                    **data.get("packages.conda", {})}.items()):
            if (repodata.parent / file).is_file():
                records.append((repodata.parent / file, record))
    return records


def _index_record(index) -> dict:
    stamp = index.timestamp  # a datetime, as repodata's milliseconds
    return {"name": index.name.normalized, "version": str(index.version),
            "build_number": index.build_number,
            "timestamp": int(stamp.timestamp() * 1000) if stamp else 0}

