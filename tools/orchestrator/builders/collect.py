"""After a build: the package files in an output directory, checked against what was asked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.builders.request import BuildRequest
from orchestrator.errors import BuildError

PACKAGE_SUFFIXES = (".conda", ".tar.bz2")


@dataclass(frozen=True)
class Built:
    path: Path
    name: str
    version: str
    build: str
    subdir: str


@dataclass(frozen=True)
class Expected:
    name: str
    version: str
    build: str
    subdir: str


def expected_packages(request: BuildRequest) -> tuple[Expected, ...]:
    return tuple(
        Expected(o.name, o.version, request.build_string_of(o), request.subdir_of(o))
        for o in request.recipe.outputs
    )


def read_built(output_dir: Path) -> list[Built]:
    """Every package archive in `output_dir/<subdir>/`, described by its own index.json."""
    from rattler.package import IndexJson

    built = []
    for path in sorted(output_dir.glob("*/*")):
        if path.name.endswith(PACKAGE_SUFFIXES):
            index = IndexJson.from_package_archive(path)
            subdir = index.subdir or path.parent.name
            built.append(Built(path, index.name.normalized, str(index.version), str(index.build),
                               subdir))
    return built


def check_built(recipe_file: str, expected: Iterable[Expected], built: list[Built]) -> list[Path]:
    """The package file of each expected output; BuildError when one is missing or differs."""
    paths = []
    for want in expected:
        same_name = [b for b in built if b.name == want.name]
        match = [b for b in same_name
                 if (b.version, b.build, b.subdir) == (want.version, want.build, want.subdir)]
        if not match:
            raise BuildError(_mismatch(recipe_file, want, same_name))
        paths.append(match[0].path)
    return paths


def _mismatch(recipe_file: str, want: Expected, same_name: list[Built]) -> str:
    wanted = f"{want.subdir}/{want.name}-{want.version}-{want.build}"
    if not same_name:
        return f"{recipe_file}: the build produced no package {wanted}"
    got = ", ".join(f"{b.subdir}/{b.name}-{b.version}-{b.build}" for b in same_name)
    return f"{recipe_file}: expected package {wanted}, the build produced {got}"
