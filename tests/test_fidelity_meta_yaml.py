"""orchestrate's render of the corpus's meta.yaml recipes against conda-build's (issue 10, item 7).

Given the 28 meta.yaml feedstocks of ../shared/corpus laid out as a workspace with conda-forge's
pinning file as its variant configuration, when orchestrate renders them for linux-64, then per
recipe, variant and output the name, version, build number, noarch, skip, requirements (names and
specs per section) and run_exports are what `conda render --bypass-env-check` gives, except the
differences listed with their reasons in tests/fidelity/known_differences.yaml (`meta.yaml:`).

conda-build's answers are recorded once per test session into a temporary directory (by
tests/fidelity/conda_render_reference.py, run in the conda-build environment): a committed copy
would go stale silently when the corpus or conda-build changes, and recording takes ~2 minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from orchestrator.recipes.render_workspace import render_workspace
from orchestrator.recipes.variant_config import workspace_space
from orchestrator.workspace import load_workspace

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent / "fidelity"
KNOWN = HERE / "known_differences.yaml"
FIELDS = ("version", "build_number", "noarch", "skip", "build", "host", "run", "run_exports",
          "test_requires")
MAX_KNOWN = 4  # known-difference entries: the list may shrink, never grow past this
MAX_KNOWN_PAIRS = 21  # (recipe, field) pairs the entries cover


def corpus_meta_recipes(corpus: Path) -> list[str]:
    return sorted(p.name for p in (corpus / "recipes").iterdir() if (p / "meta.yaml").is_file())


@pytest.fixture(scope="session")
def corpus_workspace(shared_corpus, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "ws"
    for name in corpus_meta_recipes(shared_corpus):
        shutil.copytree(shared_corpus / "recipes" / name, root / "recipes" / name, symlinks=True)
    shutil.copy(shared_corpus / "conda_build_config.yaml", root / "conda_build_config.yaml")
    (root / "WORKSPACE.toml").write_text(
        '[workspace]\nname = "corpus"\nroots = ["recipes"]\n'
        'variant_config = ["conda_build_config.yaml"]\n\n[variant]\n')
    return root


@pytest.fixture(scope="session")
def conda_build_reference(conda_build_env, corpus_workspace, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("reference") / "conda-render.json"
    recipes = [str(corpus_workspace / "recipes" / n)
               for n in corpus_meta_recipes(corpus_workspace)]
    subprocess.run(
        [str(conda_build_env / "bin" / "python"), str(HERE / "conda_render_reference.py"),
         str(corpus_workspace / "conda_build_config.yaml"), str(out), *recipes],
        check=True, capture_output=True, cwd=tmp_path_factory.mktemp("cwd"), timeout=1800,
        env={**os.environ, "CONDA_SOLVER": "rattler"})  # the README's offline setting
    document = json.loads(out.read_text())
    return {Path(path).name: value for path, value in document.items()}


def multi_valued(workspace) -> set[str]:
    """The keys that make variants (more than one value), by which records are matched;
    markupsafe's own conda_build_config.yaml makes use_noarch one."""
    return {k for k, values in workspace_space(workspace).values if len(set(values)) > 1} | {
        "use_noarch"}


def ours(root: Path) -> tuple[dict, list[str]]:
    """recipe name → [(match key, output record)], and the render errors."""
    workspace = load_workspace(root)
    multi = multi_valued(workspace)
    result = render_workspace(workspace)
    found: dict[str, list] = {}
    for recipe in result.recipes:
        key = tuple((k, str(v)) for k, v in recipe.variant if k in multi)
        for output in recipe.outputs:
            found.setdefault(recipe.target.rsplit("/", 1)[1], []).append(
                ((output.name, key), _our_record(recipe, output)))
    return found, [str(e) for e in result.errors]


def _our_record(recipe, output) -> dict:
    specs = {s: [r.spec for r in output.requirements if r.section == s]
             for s in ("build", "host", "run", "test")}
    return {"version": output.version, "build_number": output.build_number,
            "noarch": output.noarch, "skip": recipe.skipped, "build": specs["build"],
            "host": specs["host"], "run": specs["run"], "run_exports": list(output.run_exports),
            "test_requires": specs["test"]}


def theirs(reference: dict, multi_keys: set[str]) -> dict:
    found: dict[str, list] = {}
    for name, value in reference.items():
        for rec in value.get("records", []):
            key = tuple((k, v) for k, v in sorted(rec["variant"].items()) if k in multi_keys)
            reqs = rec["requirements"]
            found.setdefault(name, []).append(((rec["name"], key), {
                "version": rec["version"], "build_number": rec["build_number"],
                "noarch": rec["noarch"], "skip": rec["skip"], "build": reqs["build"],
                "host": reqs["host"], "run": reqs["run"], "run_exports": rec["run_exports"],
                "test_requires": rec["test_requires"]}))
    return found


def differences(mine: dict, reference: dict) -> set[tuple[str, str, str]]:
    """(recipe, output[variant], field) for every field that differs; `variants` when the
    sets of outputs and variants differ."""
    out = set()
    for recipe in sorted(set(mine) | set(reference)):
        a, b = dict(mine.get(recipe, [])), dict(reference.get(recipe, []))
        if set(a) != set(b):
            out.add((recipe, "*", "variants"))
        for key in sorted(set(a) & set(b), key=repr):
            label = key[0] + "".join(f"[{k}={v}]" for k, v in key[1])
            skipped = a[key]["skip"] and b[key]["skip"]  # a skipped variant has nothing else
            for field in ("skip",) if skipped else FIELDS:
                if _normal(a[key][field]) != _normal(b[key][field]):
                    out.add((recipe, label, field))
    return out


def _normal(value):
    if isinstance(value, list):
        return [" ".join(str(v).split()) for v in value]
    return value


def known_entries() -> list[dict]:
    document = yaml.safe_load(KNOWN.read_text()) or {}
    return document.get("meta.yaml") or []


def is_known(difference: tuple[str, str, str], entry: dict) -> bool:
    recipe, _, field = difference
    return recipe in entry["recipes"] and field in entry["fields"]


def test_known_differences_have_reasons_and_stay_short():
    entries = known_entries()
    assert len(entries) <= MAX_KNOWN
    assert sum(len(e["recipes"]) * len(e["fields"]) for e in entries) <= MAX_KNOWN_PAIRS
    assert all(str(e.get("reason", "")).strip() for e in entries)
    assert all(set(e["fields"]) <= {*FIELDS, "variants"} for e in entries)


def test_every_corpus_meta_yaml_renders(corpus_workspace):
    found, errors = ours(corpus_workspace)
    assert errors == []
    assert sorted(found) == corpus_meta_recipes(corpus_workspace)


def test_render_agrees_with_conda_build(corpus_workspace, conda_build_reference):
    assert all("error" not in v for v in conda_build_reference.values())
    multi = multi_valued(load_workspace(corpus_workspace))
    mine, _ = ours(corpus_workspace)
    found = differences(mine, theirs(conda_build_reference, multi))
    unexpected = sorted(d for d in found if not any(is_known(d, e) for e in known_entries()))
    assert unexpected == [], "\n".join(map(str, unexpected))
    unneeded = [e["recipes"] for e in known_entries() if not any(is_known(d, e) for d in found)]
    assert unneeded == [], "fixed: remove these from known_differences.yaml"
