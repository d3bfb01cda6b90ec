"""meta.yaml (rendered tree) → rattler-build v1 recipe: what each key becomes, and what is refused.

The inputs are hand-written rendered trees, the shape `Recipe.data` has for a meta.yaml once
selectors and Jinja are applied.
"""

from __future__ import annotations

import pytest
from orchestrator.builders.translate import spec, translate
from orchestrator.errors import BuildError

RECIPE_FILE = "internal/own-util/conda/meta.yaml"
RECIPE_DIR = "/ws/internal/own-util/conda"

INTERNAL = {
    "package": {"name": "own-util", "version": "1.2.0"},
    "source": {"path": ".."},
    "build": {"number": 3, "noarch": "python",
              "script": "$PYTHON -m pip install . --no-deps --no-build-isolation",
              "entry_points": ["own = own_util.cli:main"]},
    "requirements": {"host": ["python", "pip", "setuptools >=61"], "run": ["python >=3.9"]},
    "test": {"imports": ["own_util"], "source_files": ["tests"], "requires": ["pytest"],
             "commands": ["pytest tests"]},
    "about": {"summary": "helpers", "license": "MIT", "home": "https://acme.invalid"},
}


def v1(data, build_string="h0123456789_3"):
    return translate(data, recipe_file=RECIPE_FILE, recipe_dir=RECIPE_DIR,
                     build_string=build_string)


def test_an_internal_recipe_becomes_a_complete_v1_recipe():
    assert v1(INTERNAL) == {
        "package": {"name": "own-util", "version": "1.2.0"},
        "source": [{"path": "/ws/internal/own-util"}],
        "build": {"number": 3, "noarch": "python", "string": "h0123456789_3",
                  "script": "$PYTHON -m pip install . --no-deps --no-build-isolation",
                  "python": {"entry_points": ["own = own_util.cli:main"]}},
        "requirements": {"host": ["python", "pip", "setuptools >=61"], "run": ["python >=3.9"]},
        "tests": [
            {"python": {"imports": ["own_util"], "pip_check": False}},
            {"script": ["pytest tests"], "requirements": {"run": ["pytest"]},
             "files": {"source": ["tests"]}},
        ],
        "about": {"summary": "helpers", "license": "MIT", "homepage": "https://acme.invalid"},
    }


def test_the_plans_build_string_replaces_the_recipes_own():
    data = {**INTERNAL, "build": {**INTERNAL["build"], "string": "py_0"}}
    assert v1(data, "habcdef0123_3")["build"]["string"] == "habcdef0123_3"


def test_pip_in_test_requires_turns_on_pip_check():
    data = {**INTERNAL, "test": {"imports": ["six"], "requires": ["pip"],
                                 "commands": ["pip check"]}}
    tests = v1(data)["tests"]
    assert tests[0] == {"python": {"imports": ["six"], "pip_check": True}}
    assert tests[1] == {"script": ["pip check"], "requirements": {"run": ["pip"]}}


@pytest.mark.parametrize(("source", "expected"), [
    ({"url": "https://x.invalid/a-1.tar.gz", "sha256": "ab" * 32},
     [{"url": "https://x.invalid/a-1.tar.gz", "sha256": "ab" * 32}]),
    ({"url": "https://x.invalid/a.tgz", "md5": "c" * 32, "fn": "a-1.tgz", "folder": "a"},
     [{"url": "https://x.invalid/a.tgz", "md5": "c" * 32, "file_name": "a-1.tgz",
       "target_directory": "a"}]),
    ({"git_url": "https://git.invalid/a.git", "git_rev": "v1.0"},
     [{"git": "https://git.invalid/a.git", "rev": "v1.0"}]),
    ({"path": "../src", "patches": ["fix.patch", "more/other.patch"]},
     [{"path": "/ws/internal/own-util/src",
       "patches": [f"{RECIPE_DIR}/fix.patch", f"{RECIPE_DIR}/more/other.patch"]}]),
    ([{"path": ".."}, {"url": "https://x.invalid/b.zip", "sha256": "0" * 64, "folder": "b"}],
     [{"path": "/ws/internal/own-util"},
      {"url": "https://x.invalid/b.zip", "sha256": "0" * 64, "target_directory": "b"}]),
])
def test_sources(source, expected):
    assert v1({**INTERNAL, "source": source})["source"] == expected


def test_run_exports_and_run_constrained_go_to_requirements():
    data = {**INTERNAL,
            "build": {"number": 0, "run_exports": {"weak": ["libfoo 1.2"]}},
            "requirements": {"host": ["python"], "run_constrained": ["numpy >=1.20"]}}
    assert v1(data)["requirements"] == {
        "host": ["python"], "run_constraints": ["numpy >=1.20"],
        "run_exports": {"weak": ["libfoo 1.2.*"]},
    }


def test_about_keys_take_their_v1_names():
    about = {"home": "h", "dev_url": "d", "doc_url": "o", "license_file": "LICENSE",
             "license_family": "BSD", "description": "long"}
    assert v1({**INTERNAL, "about": about})["about"] == {
        "homepage": "h", "repository": "d", "documentation": "o", "license_file": "LICENSE",
        "license_family": "BSD", "description": "long"}


@pytest.mark.parametrize(("written", "v1_spec"), [
    ("python", "python"),
    ("python 3.11", "python 3.11.*"),
    ("python 3.11.*", "python 3.11.*"),
    ("python  >=3.8", "python >=3.8"),
    ("pluggy >=1.5,<2", "pluggy >=1.5,<2"),
    ("numpy 1.26 py311_0", "numpy 1.26 py311_0"),
])
def test_specs(written, v1_spec):
    assert spec(written) == v1_spec


@pytest.mark.parametrize(("data", "key"), [
    ({**INTERNAL, "outputs": [{"name": "a"}]}, "`outputs`"),
    ({**INTERNAL, "build": {"number": 0, "ignore_run_exports": ["x"]}},
     "`build.ignore_run_exports`"),
    ({**INTERNAL, "requirements": {"host": ["python"], "bogus": ["x"]}}, "`requirements.bogus`"),
    ({**INTERNAL, "test": {"imports": ["x"], "downstreams": ["y"]}}, "`test.downstreams`"),
    ({**INTERNAL, "source": {"url": "u", "svn_url": "s"}}, "`source.svn_url`"),
    ({**INTERNAL, "about": {"summary": "s", "tags": ["t"]}}, "`about.tags`"),
])
def test_an_unsupported_key_is_an_error_naming_key_and_file(data, key):
    with pytest.raises(BuildError) as info:
        v1(data)
    assert str(info.value).startswith(f"{RECIPE_FILE}: {key} is not supported")


@pytest.mark.parametrize(("data", "message"), [
    ({**INTERNAL, "build": {"skip": True}}, "skipped on this platform"),
    ({**INTERNAL, "build": {"skip": "true"}}, "skipped on this platform"),
    ({**INTERNAL, "source": {"sha256": "0" * 64}}, "a source needs `url`, `path` or `git_url`"),
    ({k: v for k, v in INTERNAL.items() if k != "package"}, "no `package` section"),
])
def test_recipes_that_cannot_be_built(data, message):
    with pytest.raises(BuildError, match=message) as info:
        v1(data)
    assert str(info.value).startswith(RECIPE_FILE)


def test_a_recipe_that_is_not_skipped_builds():
    data = {**INTERNAL, "build": {"number": 0, "skip": "false"}}
    assert v1(data)["build"] == {"number": 0, "string": "h0123456789_3"}


def test_the_input_tree_is_not_changed():
    before = repr(INTERNAL)
    v1(INTERNAL)
    assert repr(INTERNAL) == before
