"""meta.yaml (rendered tree) → rattler-build v1 recipe: what each key becomes, and what is refused.

The inputs are hand-written rendered trees, the shape `Recipe.data` has for a meta.yaml once
selectors and Jinja are applied.
"""

from __future__ import annotations

import re

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


SPLIT = {
    "package": {"name": "foo-split", "version": "1.2"},
    "source": {"url": "https://x.invalid/foo-1.2.tar.gz", "sha256": "ab" * 32},
    "build": {"number": "1"},
    "outputs": [
        {"name": "libfoo", "script": "install_lib.sh",
         "build": {"run_exports": ["libfoo >=1.2,<2.0a0"]},
         "requirements": {"build": ["make"], "host": ["zlib 1.3"]},
         "test": {"commands": ["test -f $PREFIX/lib/libfoo.so"]}},
        {"name": "foo-tools", "version": "1.2.1", "script": ["make -C tools install"],
         "build": {"noarch": "generic"},
         "requirements": {"run": ["libfoo ==1.2"]},
         "about": {"summary": "the tools"}},
        {"name": "foo", "requirements": ["libfoo ==1.2", "foo-tools ==1.2.1"]},
    ],
    "about": {"license": "MIT", "home": "https://acme.invalid"},
}
PLANNED = {"libfoo": "h1111111111_1", "foo-tools": "h2222222222_1", "foo": "h3333333333_1"}


def v1_split(data, **strings):
    return translate(data, recipe_file=RECIPE_FILE, recipe_dir=RECIPE_DIR, **strings)


def test_a_multi_output_recipe_becomes_a_v1_multi_output_recipe():
    assert v1_split(SPLIT, build_strings=PLANNED) == {
        "recipe": {"name": "foo-split", "version": "1.2"},
        "source": [{"url": "https://x.invalid/foo-1.2.tar.gz", "sha256": "ab" * 32}],
        "build": {"number": 1},
        "about": {"license": "MIT", "homepage": "https://acme.invalid"},
        "outputs": [
            {"package": {"name": "libfoo", "version": "1.2"},
             "build": {"number": 1, "script": {"file": "install_lib.sh"},
                       "string": "h1111111111_1"},
             "requirements": {"run_exports": ["libfoo >=1.2,<2.0a0"], "build": ["make"],
                              "host": ["zlib 1.3.*"]},
             "tests": [{"script": ["test -f $PREFIX/lib/libfoo.so"]}]},
            {"package": {"name": "foo-tools", "version": "1.2.1"},
             "build": {"number": 1, "noarch": "generic", "script": ["make -C tools install"],
                       "string": "h2222222222_1"},
             "requirements": {"run": ["libfoo ==1.2"]},
             "about": {"summary": "the tools"}},
            {"package": {"name": "foo", "version": "1.2"},
             "build": {"number": 1, "string": "h3333333333_1"},
             "requirements": {"run": ["libfoo ==1.2", "foo-tools ==1.2.1"]}},
        ],
    }


def test_without_build_strings_the_outputs_keep_none():
    assert ["string" in o["build"] for o in v1_split(SPLIT)["outputs"]] == [False] * 3


def test_a_lone_build_string_is_for_a_recipe_with_one_output():
    one = {**SPLIT, "outputs": SPLIT["outputs"][:1]}
    assert v1_split(one, build_string="h_7")["outputs"][0]["build"]["string"] == "h_7"
    with pytest.raises(BuildError, match="one build string for 3 outputs"):
        v1_split(SPLIT, build_string="h_7")


def test_build_strings_also_serve_a_recipe_without_outputs():
    assert v1_split(INTERNAL, build_strings={"own-util": "h_9"})["build"]["string"] == "h_9"


def test_an_output_the_plan_does_not_know_is_an_error():
    with pytest.raises(BuildError) as info:
        v1_split(SPLIT, build_strings={"libfoo": "h_1", "foo": "h_3"})
    assert str(info.value) == (f"{RECIPE_FILE}: output `foo-tools` has no build string in the "
                               "plan (planned: foo, libfoo)")


def test_a_skipped_output_is_left_out():
    outputs = [SPLIT["outputs"][0], {**SPLIT["outputs"][1], "build": {"skip": True}}]
    translated = v1_split({**SPLIT, "outputs": outputs}, build_strings={"libfoo": "h_1"})
    assert [o["package"]["name"] for o in translated["outputs"]] == ["libfoo"]


def with_output(index, **changes):
    outputs = [dict(o) for o in SPLIT["outputs"]]
    outputs[index].update(changes)
    return {**SPLIT, "outputs": outputs}


@pytest.mark.parametrize(("data", "key"), [
    ({**SPLIT, "requirements": {"host": ["python"]}}, "`requirements` beside `outputs`"),
    ({**SPLIT, "test": {"commands": ["true"]}}, "`test` beside `outputs`"),
    ({**SPLIT, "build": {"number": 0, "script": "make install"}},
     "`build.script` beside `outputs`"),
    ({**SPLIT, "build": {"noarch": "generic"}}, "`build.noarch` beside `outputs`"),
    (with_output(2, files=["lib/*"]), "`outputs[2].files`"),
    (with_output(1, type="wheel"), "`outputs[1].type`"),
    (with_output(0, build={"script": "make"}), "`outputs[0].build.script` (give the output"),
    (with_output(0, build={"ignore_run_exports": ["x"]}), "`outputs[0].build.ignore_run_exports`"),
    (with_output(0, script="install.py"), "`outputs[0].script` `install.py` (only a .sh"),
    (with_output(0, script="make install"), "`outputs[0].script` `make install` (only a .sh"),
    (with_output(2, name="foo-split"),
     "`outputs[2].script` missing on the output named like the top-level package"),
    (with_output(1, test={"commands": ["x"], "downstreams": ["y"]}),
     "`outputs[1].test.downstreams`"),
])
def test_an_ambiguous_output_is_an_error_naming_key_and_file(data, key):
    with pytest.raises(BuildError) as info:
        v1_split(data, build_strings=PLANNED)
    assert str(info.value).startswith(f"{RECIPE_FILE}: {key}")
    assert "is not supported by the meta.yaml → recipe.yaml translation" in str(info.value)


@pytest.mark.parametrize(("outputs", "message"), [
    ([{"name": "a", "build": {"skip": True}}], "every output is skipped on this platform"),
    ([{"script": "a.sh"}], "`outputs[0].name` is missing"),
    (["libfoo"], "`outputs` must be a list of mappings"),
    ({"package": None}, "no `package` section"),
])
def test_outputs_that_cannot_be_built(outputs, message):
    data = {**SPLIT, **outputs} if isinstance(outputs, dict) else {**SPLIT, "outputs": outputs}
    with pytest.raises(BuildError, match=re.escape(message)) as info:
        v1_split(data)
    assert str(info.value).startswith(RECIPE_FILE)


def test_an_output_named_like_the_package_with_its_own_script_is_fine():
    translated = v1_split(with_output(0, name="foo-split"))
    assert translated["outputs"][0]["package"]["name"] == "foo-split"


def test_a_multiline_script_stays_inline_commands():
    data = with_output(0, script="mkdir -p $PREFIX/lib\ncp libfoo.so $PREFIX/lib\n")
    script = v1_split(data)["outputs"][0]["build"]["script"]
    assert script == "mkdir -p $PREFIX/lib\ncp libfoo.so $PREFIX/lib\n"


def test_the_multi_output_tree_is_not_changed():
    before = repr(SPLIT)
    v1_split(SPLIT, build_strings=PLANNED)
    assert repr(SPLIT) == before
