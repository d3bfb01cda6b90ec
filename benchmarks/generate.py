"""Synthetic organization workspaces for the benchmarks, deterministic for a seed.

`generate(base, n, seed)` writes under `base`:
- `ws/`: an `orchestrate` workspace (a git repository with a few commits) holding `n` recipes:
  hub packages almost everything needs (python, pip, setuptools, numpy, six, ...), third-party
  recipes under `recipes/<name>/meta.yaml` and a share of internal projects under
  `internal/<name>/` (`src/`, `tests/`, `pyproject.toml`, `conda/meta.yaml` with
  `source: path: ..`). meta.yaml files use Jinja (`{% set %}`, `{{ PYTHON }}`) and selectors.
- `v1/`: the same recipes as rattler-build v1 `recipe.yaml`, for the comparison with
  rattler-build's own multi-recipe rendering.

Dependencies form a layered DAG: a recipe depends only on recipes of lower layers, fan-in follows
a power law (early packages are picked far more often), about 5 requirements per recipe across
build/host/run/test. The returned `Workspace` record is the generator's knowledge of the graph,
from which the benchmarks compute the true effect of an edit without asking `orchestrate`.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import os
import random
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Hubs, bottom-up: (name, requirements as (section, package)); built before everything else.
HUBS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("python", ()),
    ("c-compiler", ()),
    ("cmake", (("build", "c-compiler"),)),
    ("pip", (("host", "python"), ("run", "python"))),
    ("setuptools", (("host", "python"), ("host", "pip"), ("run", "python"))),
    ("six", (("host", "python"), ("host", "pip"), ("run", "python"))),
    ("numpy", (("build", "c-compiler"), ("build", "cmake"), ("host", "python"),
               ("host", "pip"), ("host", "setuptools"), ("run", "python"))),
    ("pytest", (("host", "python"), ("host", "pip"), ("run", "python"), ("run", "six"))),
)
HOST_SECTIONS = ("build", "host")  # the sections whose dependencies enter a target's hash
LAYERS = 12
FAN_IN_EXPONENT = 1.1
INTERNAL_SHARE = 0.1
COMPILED_SHARE = 0.2
EXTRA_DEPS = (1, 2, 2, 3, 3, 4)  # workspace dependencies besides the hubs, picked uniformly
DEP_SECTIONS = (("host", "run"), ("host", "run"), ("run",), ("run",), ("test",))
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}


@dataclass(frozen=True)
class Package:
    name: str
    target: str  # "//recipes/lib-00042" or "//internal/own-00043"
    directory: str  # workspace-relative directory owning the target's files
    version: str
    layer: int
    requirements: tuple[tuple[str, str], ...]  # (section, package name), as rendered on linux
    compiled: bool = False

    @property
    def internal(self) -> bool:
        return self.target.startswith("//internal/")


@dataclass(frozen=True)
class Workspace:
    root: Path  # the orchestrate workspace (git repository)
    v1_root: Path  # the same recipes as recipe.yaml
    seed: int
    packages: tuple[Package, ...]  # bottom-up: a package only needs earlier ones
    files: dict[str, tuple[str, ...]]  # target → its input files, workspace-relative

    def by_name(self) -> dict[str, Package]:
        return {p.name: p for p in self.packages}

    def v1_dirs(self) -> list[Path]:
        return [self.v1_root / p.directory for p in self.packages]


# ---------------------------------------------------------------- the graph (pure)


def plan_packages(n: int, seed: int) -> tuple[Package, ...]:
    """`n` packages (hubs first) with their linux requirements; the same for the same seed."""
    rng = random.Random(seed)
    hubs = [_hub(name, reqs) for name, reqs in HUBS[: max(1, min(n, len(HUBS)))]]
    rest = n - len(hubs)
    weights = list(itertools.accumulate(1.0 / (j + 1) ** FAN_IN_EXPONENT for j in range(rest)))
    internal = _internal_indices(rest, rng)
    packages = list(hubs)
    for i in range(rest):
        layer = 1 + i * LAYERS // max(rest, 1)
        below = _layer_start(layer, rest)
        picks = _power_law_picks(rng, weights, below, rng.choice(EXTRA_DEPS))
        dep_names = [packages[len(hubs) + j].name for j in picks]
        packages.append(_package(i, layer, i in internal, dep_names, {h.name for h in hubs}, rng))
    return tuple(packages)


def _hub(name: str, reqs: tuple[tuple[str, str], ...]) -> Package:
    return Package(name, f"//recipes/{name}", f"recipes/{name}", "3.11.9" if name == "python"
                   else "1.26.4", 0, reqs, compiled=name in ("python", "numpy", "cmake"))


def _internal_indices(rest: int, rng: random.Random) -> set[int]:
    """Internal projects anywhere: a few core libraries low in the graph that much of the
    organization builds on, and applications at the top."""
    return set(rng.sample(range(rest), min(rest, round(rest * INTERNAL_SHARE))))


def _layer_start(layer: int, rest: int) -> int:
    """Index of the first package of `layer` (layer 1 starts at 0)."""
    return -(-(layer - 1) * rest // LAYERS)


def _power_law_picks(rng: random.Random, cumulative: list[float], below: int, k: int) -> list[int]:
    """Up to `k` distinct indices under `below`, index j chosen with weight 1/(j+1)^a."""
    if below <= 0:
        return []
    chosen: set[int] = set()
    for _ in range(4 * k):
        if len(chosen) >= min(k, below):
            break
        chosen.add(bisect.bisect_left(cumulative, rng.random() * cumulative[below - 1]))
    return sorted(chosen)


def _package(i: int, layer: int, internal: bool, deps: list[str], hubs: set[str],
             rng: random.Random) -> Package:
    name = f"own-{i:05d}" if internal else f"lib-{i:05d}"
    compiled = not internal and rng.random() < COMPILED_SHARE
    reqs: list[tuple[str, str]] = []
    if compiled:
        reqs += [("build", "c-compiler"), ("build", "cmake")]
    reqs += [("host", "python"), ("host", "pip"), ("run", "python")]
    if "numpy" in hubs and rng.random() < 0.3:
        reqs += [("host", "numpy"), ("run", "numpy")]
    if "six" in hubs and rng.random() < 0.3:
        reqs.append(("run", "six"))
    if "pytest" in hubs and rng.random() < 0.5:
        reqs.append(("test", "pytest"))
    for dep in deps:
        reqs += [(s, dep) for s in rng.choice(DEP_SECTIONS)]
    directory = f"internal/{name}" if internal else f"recipes/{name}"
    # every version satisfies the `>=0.1` the dependents write (edges check versions); the
    # draws stay those of the seed, so the graph is the one of earlier results
    version = f"{rng.randint(0, 4) + 1}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
    return Package(name, f"//{directory}", directory, version, layer, tuple(reqs), compiled)


def true_affected(packages: Iterable[Package], target: str) -> set[str]:
    """Targets whose hash must change when an input of `target` changes: itself and every
    target reaching it through build/host requirements."""
    packages = list(packages)
    producer = {p.name: p.target for p in packages}
    dependents: dict[str, set[str]] = {p.target: set() for p in packages}
    for p in packages:
        for section, dep in p.requirements:
            if section in HOST_SECTIONS and dep in producer:
                dependents[producer[dep]].add(p.target)
    found, todo = {target}, [target]
    while todo:
        for dependent in dependents[todo.pop()] - found:
            found.add(dependent)
            todo.append(dependent)
    return found


# ---------------------------------------------------------------- recipe text (pure)


def meta_yaml(p: Package) -> str:
    """conda-build meta.yaml with Jinja and selectors (win-only lines vanish on linux)."""
    lines = [
        f'{{% set name = "{p.name}" %}}', f'{{% set version = "{p.version}" %}}', "",
        "package:", "  name: {{ name }}", "  version: {{ version }}", "",
        "source:", *_meta_source(p), "",
        "build:", "  number: 0", "  skip: true  # [win]",
        "  script: {{ PYTHON }} -m pip install . --no-deps -vv", "",
    ]
    reqs: list[str] = []
    for section in ("build", "host", "run"):
        names = [d for s, d in p.requirements if s == section]
        extra = ["    - m2-make  # [win]"] if section == "build" and p.compiled else []
        if section == "run" and names:
            extra = ["    - pywin32  # [win]"]
        if names or extra:
            reqs += [f"  {section}:", *(f"    - {_spec(d)}" for d in names), *extra]
    lines += ["requirements:", *reqs] if reqs else []
    tests = [d for s, d in p.requirements if s == "test"]
    lines += ["", "test:", "  imports:", f"    - {p.name.replace('-', '_')}"]
    if tests:
        lines += ["  requires:", *(f"    - {d}" for d in tests)]
    lines += ["", "about:", f"  summary: Synthetic package {p.name}", "  license: MIT", ""]
    return "\n".join(lines)


def _meta_source(p: Package) -> list[str]:
    if p.internal:
        return ["  path: .."]
    return ["  url: https://example.invalid/{{ name }}-{{ version }}.tar.gz",
            f"  sha256: {_sha(p.name)}"]


def _spec(dep: str) -> str:
    return dep if dep in ("python", "pip", "c-compiler", "cmake") else f"{dep} >=0.1"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def recipe_yaml(p: Package, ws_dir: str) -> str:
    """The same recipe in rattler-build's v1 format (`if:` blocks instead of selectors)."""
    source = ([f"  path: {ws_dir}"] if p.internal else
              ["  url: https://example.invalid/${{ name }}-${{ version }}.tar.gz",
               f"  sha256: {_sha(p.name)}"])
    lines = [
        "context:", f"  name: {p.name}", f'  version: "{p.version}"', "",
        "package:", "  name: ${{ name }}", "  version: ${{ version }}", "",
        "source:", *source, "",
        "build:", "  number: 0", "  skip:", "    - win",
        "  script: ${{ PYTHON }} -m pip install . --no-deps -vv", "",
    ]
    reqs: list[str] = []
    for section in ("build", "host", "run"):
        names = [d for s, d in p.requirements if s == section]
        compiled = section == "build" and p.compiled
        extra = ["    - if: win", "      then: m2-make"] if compiled else []
        if section == "run" and names:
            extra = ["    - if: win", "      then: pywin32"]
        if names or extra:
            reqs += [f"  {section}:", *(f"    - {_spec(d)}" for d in names), *extra]
    lines += ["requirements:", *reqs] if reqs else []
    tests = [d for s, d in p.requirements if s == "test"]
    module = p.name.replace("-", "_")
    lines += ["", "tests:", "  - python:", "      imports:", f"        - {module}"]
    if tests:
        lines += ["  - script:", "      - pytest", "    requirements:", "      run:",
                  *(f"        - {d}" for d in tests)]
    lines += ["", "about:", f"  summary: Synthetic package {p.name}", "  license: MIT", ""]
    return "\n".join(lines)


def project_files(p: Package, rng: random.Random) -> dict[str, str]:
    """An internal project's own files (besides its recipe): src/, tests/, pyproject.toml."""
    module = p.name.replace("-", "_")
    files = {
        f"{p.directory}/pyproject.toml": (
            f'[project]\nname = "{p.name}"\nversion = "{p.version}"\n'
            '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        ),
        f"{p.directory}/src/{module}/__init__.py": (
            f'"""{p.name}."""\n__version__ = "{p.version}"\n'
        ),
        f"{p.directory}/tests/test_{module}.py": f"import {module}\n\n\ndef test_version():\n"
                                                 f"    assert {module}.__version__\n",
    }
    for k in range(rng.randint(2, 4)):
        files[f"{p.directory}/src/{module}/part{k}.py"] = (
            f"def value_{k}():\n    return {rng.randint(0, 10**6)}\n"
        )
    return files


def package_files(p: Package, rng: random.Random) -> dict[str, str]:
    """Every file of a package's target in the workspace: its recipe, scripts, project files."""
    if p.internal:
        return {f"{p.directory}/conda/meta.yaml": meta_yaml(p), **project_files(p, rng)}
    files = {f"{p.directory}/meta.yaml": meta_yaml(p)}
    if p.compiled:
        files[f"{p.directory}/build.sh"] = "#!/bin/bash\nset -ex\ncmake -S . -B build\n"
    return files


# ---------------------------------------------------------------- writing (I/O)


WORKSPACE_TOML = """[workspace]
name = "bench-org"
platform = "linux-64"

[variant]
python = "3.11"

[channels]
target = "channel"
"""


def generate(base: Path, n: int, seed: int = 0, commits: int = 3) -> Workspace:
    """Write the workspace and its v1 twin under `base` (replacing what was there)."""
    packages = plan_packages(n, seed)
    if base.exists():
        shutil.rmtree(base)
    root, v1 = base / "ws", base / "v1"
    rng = random.Random(seed + 1)
    files = {p.target: package_files(p, rng) for p in packages}
    batches = _commit_batches(packages, commits)
    _write(root, {"WORKSPACE.toml": WORKSPACE_TOML, ".gitignore": "/cache/\n/channel/\n"})
    git(root, "init", "-q", "-b", "main")
    for number, batch in enumerate(batches, 1):
        for p in batch:
            _write(root, files[p.target])
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"add {len(batch)} recipes (batch {number})")
    _history_edit(root, packages, files, rng)
    for p in packages:
        rel = os.path.relpath(root / p.directory, v1 / p.directory)
        _write(v1, {f"{p.directory}/recipe.yaml": recipe_yaml(p, rel)})
    listing = {t: tuple(sorted(f)) for t, f in files.items()}
    return Workspace(root, v1, seed, packages, listing)


def _commit_batches(packages: tuple[Package, ...], commits: int) -> list[list[Package]]:
    size = -(-len(packages) // max(commits - 1, 1))
    return [list(packages[i: i + size]) for i in range(0, len(packages), size)]


def _history_edit(root: Path, packages, files, rng: random.Random) -> None:
    """A last commit touching a few recipes, as real history would."""
    for p in rng.sample(list(packages), min(5, len(packages))):
        recipe = next(f for f in files[p.target] if f.endswith("meta.yaml"))
        text = files[p.target][recipe].replace("license: MIT", "license: MIT\n  home: https://x")
        files[p.target][recipe] = text
        _write(root, {recipe: text})
    git(root, "commit", "-q", "-am", "recipes: add home pages")


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True,
                          text=True)
    return done.stdout


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ws = generate(args.base, args.n, args.seed)
    print(f"{len(ws.packages)} packages in {ws.root}, v1 recipes in {ws.v1_root}")
