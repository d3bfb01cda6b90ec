"""`orchestrate lint`: the organization's rules on the example organization, on recipes that
break each rule, with `[lint]` settings, and on the conda-forge corpus."""

from __future__ import annotations

import json
import shutil

from example_org import copy_example_org

BAD_INTERNAL = """\
package:
  name: bad
  version: "1.0"
source:
  path: ..
"""

BAD_RECIPE = """\
package:
  name: thing
  version: "1.0"
source:
  url: https://example.invalid/thing-1.0.tar.gz
build:
  noarch: python
requirements:
  build:
    - cmake
    - ninja >=1.11
  host:
    - python
    - pip
  run:
    - python
    - pywin32  # [win]
    - appnope  # [osx and not linux]
    - tomli  # [py<311]
test:
  imports:
    - thing
about:
  home: https://example.invalid
  summary: a thing
"""


def lint_json(run_cli, root, *args):
    result = run_cli(["-C", root, "lint", "--format", "json", *args])
    return result.code, json.loads(result.out) if result.out else None, result.err


def test_example_org_passes_with_one_warning(run_cli, tmp_path):
    root = copy_example_org(tmp_path / "acme")
    result = run_cli(["-C", root, "lint"])
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("recipes/python-click/meta.yaml:")
    number = int(lines[0].split(":")[1])
    click = (root / "recipes/python-click/meta.yaml").read_text().splitlines()
    assert "# [win]" in click[number - 1] and " dead-selector " in lines[0]


def test_each_rule_names_file_and_line(run_cli, make_workspace):
    root = make_workspace({"internal/bad/conda/meta.yaml": BAD_INTERNAL,
                           "internal/bad/src/x.py": "", "recipes/thing/meta.yaml": BAD_RECIPE})
    code, findings, err = lint_json(run_cli, root)
    assert code == 1, err
    found = {(f["file"], f["line"], f["rule"], f["severity"]) for f in findings}
    bad, thing = "internal/bad/conda/meta.yaml", "recipes/thing/meta.yaml"
    assert found == {
        (bad, 1, "about-fields", "error"), (bad, 1, "about-license", "error"),
        (bad, 1, "test-section", "error"), (bad, 2, "internal-name", "error"),
        (thing, 5, "source-sha256", "error"), (thing, 2, "python-directory", "warning"),
        (thing, 10, "pinned-build-tools", "warning"), (thing, 17, "dead-selector", "warning"),
        (thing, 18, "dead-selector", "warning"), (thing, 23, "about-license", "error"),
    }


def test_a_recipe_with_several_variants_is_reported_once(run_cli, make_workspace):
    compiled = BAD_INTERNAL.replace('  version: "1.0"\n', '  version: "1.0"\n'
                                    "requirements:\n  host:\n    - python\n")
    root = make_workspace({
        "WORKSPACE.toml": '[workspace]\nname = "t"\n[variant]\npython = ["3.11", "3.12"]\n',
        "internal/bad/conda/meta.yaml": compiled, "internal/bad/src/x.py": ""})
    _, findings, err = lint_json(run_cli, root)
    rules = [f["rule"] for f in findings]
    assert rules and len(rules) == len(set(rules)), (rules, err)


def test_text_lines_and_settings(run_cli, make_workspace):
    toml = ('[workspace]\nname = "t"\n[lint]\ndisable = ["about-license", "source-sha256"]\n'
            'severity = {"pinned-build-tools" = "error"}\n')
    root = make_workspace({"WORKSPACE.toml": toml, "recipes/thing/meta.yaml": BAD_RECIPE})
    result = run_cli(["-C", root, "lint"])
    assert result.code == 1
    assert "recipes/thing/meta.yaml:10: pinned-build-tools a build tool is not pinned (hint: " \
        in result.out
    assert "about-license" not in result.out and "source-sha256" not in result.out
    (root / "WORKSPACE.toml").write_text(toml.replace('"error"', '"warning"'))
    assert run_cli(["-C", root, "lint"]).code == 0


def test_unknown_rule_in_settings_is_bad_input(run_cli, make_workspace):
    toml = '[workspace]\nname = "t"\n[lint]\ndisable = ["no-such-rule"]\n'
    result = run_cli(["-C", make_workspace({"WORKSPACE.toml": toml}), "lint"])
    assert result.code == 2
    assert result.err.startswith("error: WORKSPACE.toml: lint: unknown rule 'no-such-rule'")


def test_built_on_an_empty_directory_says_each_output_is_not_built(run_cli, tmp_path):
    root = copy_example_org(tmp_path / "acme")
    (tmp_path / "empty").mkdir()
    code, findings, err = lint_json(run_cli, root, "--built", tmp_path / "empty", "//internal/...")
    assert code == 0, err
    missing = [f for f in findings if f["rule"] == "built-package"]
    names = sorted(f["message"].rsplit(": ", 1)[1] for f in missing)
    assert names == sorted(p.name for p in (root / "internal").iterdir())
    assert all(f["severity"] == "warning" and f["line"] > 0 for f in missing)


def test_corpus_recipes(run_cli, make_workspace, shared_corpus):
    toml = '[workspace]\nname = "c"\n[variant]\npython = "3.11"\npython_min = "3.9"\n'
    root = make_workspace({"WORKSPACE.toml": toml})
    for name in ("colorama", "iniconfig", "tomli", "pcre2", "lxml"):
        shutil.copytree(shared_corpus / "recipes" / name, root / "recipes" / name)
    code, findings, err = lint_json(run_cli, root)
    assert "Traceback" not in err
    by_rule = {}
    for f in findings:
        by_rule.setdefault(f["rule"], set()).add(f["file"].split("/")[1])
    # conda-forge names directories after the package, not python-<name>
    assert {"colorama", "iniconfig", "tomli"} <= by_rule["python-directory"]
    for f in findings:
        if f["rule"] == "dead-selector":
            line = (root / f["file"]).read_text().splitlines()[f["line"] - 1]
            assert "# [" in line and ("win" in line or "osx" in line)
