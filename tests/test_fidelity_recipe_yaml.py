"""Differential test: every recipe.yaml of ../shared/corpus rendered by orchestrate and by
rattler-build itself (`build --render-only` in a separate process), with conda-forge's pinning
file, for linux-64. Per variant and output (keyed by rattler-build's build string, which is a
hash of the variant) they must agree on name, version, build number, noarch, which variants
are skipped, the requirements per section and run_exports; what does not is listed, with its
reason, in fidelity/known_differences.yaml, which must not grow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from orchestrator.recipes.render_workspace import render_workspace
from orchestrator.recipes.v1_pins import requirement_text
from orchestrator.workspace import load_workspace
from ruamel.yaml import YAML

HERE = Path(__file__).parent
KNOWN = HERE / "fidelity/known_differences.yaml"
MAX_KNOWN = 0  # the section may shrink, never grow
FIELDS = ("version", "build_number", "noarch", "build", "host", "run", "test", "run_exports")


@pytest.fixture(scope="module")
def corpus_v1(shared_corpus: Path) -> list[Path]:
    recipes = sorted(shared_corpus.glob("recipes/*/recipe.yaml"))
    assert len(recipes) == 22
    return recipes


@pytest.fixture(scope="module")
def reference(corpus_v1, shared_corpus, tmp_path_factory) -> dict[str, dict]:
    """rattler-build's render: feedstock name → {(name, build string): fields} or an error."""
    out = tmp_path_factory.mktemp("reference")
    subprocess.run([sys.executable, str(HERE / "fidelity/rattler_build_render.py"), str(out),
                    str(shared_corpus / "conda_build_config.yaml"), *map(str, corpus_v1)],
                   check=True, capture_output=True, timeout=600)
    result = {}
    for index, recipe in enumerate(corpus_v1):
        error = out / f"{index}.error"
        result[recipe.parent.name] = (error.read_text() if error.exists() else
                                      _reference_outputs(json.loads((out / f"{index}.json")
                                                                    .read_text())))
    return result


def _reference_outputs(entries: list[dict]) -> dict:
    versions = {e["recipe"]["package"]["name"]: str(e["recipe"]["package"]["version"])
                for e in entries}
    return {(e["recipe"]["package"]["name"], e["recipe"]["build"]["string"]):
            _reference_fields(e["recipe"], versions) for e in entries}


def _reference_fields(recipe: dict, versions: dict) -> dict:
    reqs = recipe.get("requirements") or {}

    def specs(items) -> list[str]:  # pins are data in the render: applied as the build will
        return sorted({str(requirement_text(i, versions)) for i in items or []})

    tests = [t.get("requirements", {}) for t in recipe.get("tests") or [] if "script" in t]
    exports = reqs.get("run_exports") or {}
    exports = exports if isinstance(exports, dict) else {"": exports}
    return {"version": str(recipe["package"]["version"]),
            "build_number": int(recipe["build"].get("number", 0)),
            "noarch": recipe["build"].get("noarch"),
            **{s: specs(reqs.get(s)) for s in ("build", "host", "run")},
            "test": sorted({s for t in tests for k in ("build", "run") for s in specs(t.get(k))}),
            "run_exports": sorted(s for k in sorted(exports) for s in specs(exports[k]))}


@pytest.fixture(scope="module")
def ours(corpus_v1, shared_corpus, tmp_path_factory) -> tuple[dict, dict]:
    root = tmp_path_factory.mktemp("corpus-ws")
    (root / "WORKSPACE.toml").write_text(
        '[workspace]\nname = "corpus"\nroots = ["recipes"]\n'
        'variant_config = ["conda_build_config.yaml"]\n\n[variant]\n')
    shutil.copy(shared_corpus / "conda_build_config.yaml", root)
    for recipe in corpus_v1:
        shutil.copytree(recipe.parent, root / "recipes" / recipe.parent.name)
    result = render_workspace(load_workspace(root, explicit=True))
    outputs: dict[str, dict] = {}
    for recipe in result.recipes:
        trees = recipe.data.get("outputs") or [recipe.data]
        strings = {t["package"]["name"]: t["build"]["string"] for t in trees
                   if not t["build"].get("skip")}
        found = outputs.setdefault(recipe.target.rsplit("/", 1)[1], {})
        for output in () if recipe.skipped else recipe.outputs:
            if output.name in strings:
                found[(output.name, strings[output.name])] = _our_fields(output)
    errors = {e.file.split("/")[1]: str(e) for e in result.errors}
    return outputs, errors


def _our_fields(output) -> dict:
    def section(name: str) -> list[str]:
        return sorted({r.spec for r in output.requirements_in(name)})

    return {"version": output.version, "build_number": output.build_number,
            "noarch": output.noarch, **{s: section(s) for s in ("build", "host", "run", "test")},
            "run_exports": sorted(output.run_exports)}


def differences(reference, ours) -> list[dict]:
    outputs, errors = ours
    found = []
    for name, expected in sorted(reference.items()):
        if isinstance(expected, str) or name in errors:
            if not (isinstance(expected, str) and name in errors):
                found.append({"recipe": name, "field": "renders",
                              "reason": errors.get(name) or expected.strip()})
            continue
        mine = outputs.get(name, {})
        if mine.keys() != expected.keys():
            found.append({"recipe": name, "field": "variants",
                          "reason": f"{sorted(mine)} != {sorted(expected)}"})
        for key in sorted(mine.keys() & expected.keys()):
            found += [{"recipe": name, "field": f"{key[0]}.{f}",
                       "reason": f"{mine[key][f]!r} != {expected[key][f]!r}"}
                      for f in FIELDS if mine[key][f] != expected[key][f]]
    return found


def known() -> list[dict]:
    return YAML(typ="safe").load(KNOWN.read_text()).get("recipe.yaml") or []


def test_every_corpus_recipe_yaml_renders_as_rattler_build_renders_it(reference, ours):
    listed = {(k["recipe"], k["field"]) for k in known()}
    unexplained = [d for d in differences(reference, ours) if (d["recipe"], d["field"])
                   not in listed]
    assert unexplained == []


def test_every_known_difference_is_still_real_and_the_list_does_not_grow(reference, ours):
    entries = known()
    assert len(entries) <= MAX_KNOWN
    assert all(set(k) == {"recipe", "field", "reason"} and k["reason"] for k in entries)
    real = {(d["recipe"], d["field"]) for d in differences(reference, ours)}
    assert [k for k in entries if (k["recipe"], k["field"]) not in real] == []


def test_the_corpus_renders(reference, ours):
    """Both sides render what they render: orchestrate fails only where rattler-build does."""
    outputs, errors = ours
    failing = {name for name, value in reference.items() if isinstance(value, str)}
    assert set(errors) == failing
    assert sum(1 for name in reference if name not in failing and outputs.get(name)) == \
        22 - len(failing)

