"""The benchmark's workspace generator: deterministic, a layered DAG with hubs and a power-law
fan-in, both recipe formats, internal projects, a git history; and its notion of the truth."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from generate import HOST_SECTIONS, generate, plan_packages, true_affected  # noqa: E402


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("gen") / "a", 300, seed=7)


def test_the_same_seed_writes_the_same_files_and_another_seed_does_not(generated, tmp_path):
    again = generate(tmp_path / "b", 300, seed=7)
    other = generate(tmp_path / "c", 300, seed=8)
    assert tree(again.root) == tree(generated.root)
    assert tree(other.root) != tree(generated.root)


def test_dependencies_only_point_down_and_hubs_are_needed_by_almost_everything():
    packages = plan_packages(2000, seed=0)
    position = {p.name: i for i, p in enumerate(packages)}
    for i, p in enumerate(packages):
        assert all(position[d] < i for _, d in p.requirements), p.name
    fan_in = Counter(d for p in packages for d in {d for _, d in p.requirements})
    assert fan_in["python"] >= 0.99 * (len(packages) - 2)
    assert {"numpy", "six", "pytest"} <= {name for name, _ in fan_in.most_common(8)}
    libraries = sorted((n for p in packages if (n := fan_in[p.name]) and p.layer > 0),
                       reverse=True)
    assert libraries[0] >= 20 * libraries[len(libraries) // 2]  # a heavy head, a long tail
    mean = sum(len({d for _, d in p.requirements}) for p in packages) / len(packages)
    assert 4 <= mean <= 7
    sections = Counter(s for p in packages for s, _ in p.requirements)
    assert all(sections[s] > 0 for s in ("build", "host", "run", "test"))


def test_both_formats_internal_projects_and_history_are_written(generated):
    internal = [p for p in generated.packages if p.internal]
    assert 0.05 * 300 <= len(internal) <= 0.15 * 300
    project = generated.root / internal[0].directory
    assert "path: .." in (project / "conda" / "meta.yaml").read_text()
    assert list((project / "src").rglob("*.py")) and list((project / "tests").glob("test_*.py"))
    meta = (generated.root / "recipes" / "numpy" / "meta.yaml").read_text()
    assert "{% set version" in meta and "{{ PYTHON }}" in meta and "# [win]" in meta
    v1 = (generated.v1_root / "recipes" / "numpy" / "recipe.yaml").read_text()
    assert "${{ PYTHON }}" in v1 and "if: win" in v1
    assert len(generated.v1_dirs()) == 300
    log = subprocess.run(["git", "log", "--oneline"], cwd=generated.root, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(log) >= 3
    status = subprocess.run(["git", "status", "--porcelain"], cwd=generated.root,
                            capture_output=True, text=True, check=True).stdout
    assert status == ""


def test_true_affected_follows_build_and_host_requirements_only():
    packages = plan_packages(500, seed=0)
    by_name = {p.name: p for p in packages}
    everything = true_affected(packages, "//recipes/python")
    assert len(everything) > 0.9 * len(packages)
    for p in packages:
        affected = true_affected(packages, p.target)
        assert p.target in affected
        for q in (by_name[d] for s, d in p.requirements if s in HOST_SECTIONS):
            assert p.target in true_affected(packages, q.target)
    leaf = next(p for p in reversed(packages)
                if not any(p.name == d for q in packages for _, d in q.requirements))
    assert true_affected(packages, leaf.target) == {leaf.target}
