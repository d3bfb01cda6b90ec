"""Given real recipes in a real git workspace, when I run `render`, `graph`, `query` or `plan`,
then variants, versions and cycles come out as rendered and said once."""

from __future__ import annotations

import json

import yaml


def meta(name: str, version: str, *lines: str, extra: str = "") -> str:
    """A meta.yaml whose requirements are `section: spec` lines."""
    sections: dict[str, list[str]] = {}
    for line in lines:
        section, spec = (p.strip() for p in line.split(":", 1))
        sections.setdefault(section, []).append(spec)
    text = f"package:\n  name: {name}\n  version: {version}\n{extra}"
    reqs = {s: v for s, v in sections.items() if s != "test"}
    if reqs:
        text += "requirements:\n" + "".join(
            f"  {s}:\n" + "".join(f"    - {spec}\n" for spec in specs) for s, specs in reqs.items())
    if "test" in sections:
        text += "test:\n  requires:\n" + "".join(f"    - {s}\n" for s in sections["test"])
    return text


LIB = meta("lib", "2.1", "build: make", "host: zlib", "run: zlib", "run_constrained: libold <0",
           "test: pytest", extra="build:\n  number: 3\n  run_exports:\n    - lib >=2.1\n")
WIN = meta("winlib", "1.0", extra="build:\n  skip: true  # [linux]\n")


def test_render_json_lists_each_target_and_variant_with_its_outputs(run_cli, make_workspace):
    root = make_workspace({"recipes/lib/meta.yaml": LIB, "recipes/winlib/meta.yaml": WIN})
    result = run_cli(["-C", root, "render", "--format", "json"])
    assert result.code == 0, result.err
    lib, win = json.loads(result.out)
    assert lib == {
        "target": "//recipes/lib", "variant": {"target_platform": "linux-64"},
        "recipe": "recipes/lib/meta.yaml",
        "outputs": [{
            "name": "lib", "version": "2.1", "build_number": 3, "noarch": None, "skip": False,
            "requirements": {"build": ["make"], "host": ["zlib"], "run": ["zlib"],
                             "run_constrained": ["libold <0"]},
            "run_exports": ["lib >=2.1"], "test_requires": ["pytest"],
        }],
    }
    assert win["target"] == "//recipes/winlib" and win["outputs"][0]["skip"] is True
    as_yaml = run_cli(["-C", root, "render", "//recipes/lib"])
    assert as_yaml.code == 0 and yaml.safe_load(as_yaml.out) == [lib]


PIP = meta("pip", "24.0", "host: python", "host: wheel")
WHEEL = meta("wheel", "0.43.0", "host: python", "test: pip")


def test_a_cycle_through_a_test_requirement_is_a_warning_naming_both_lines(run_cli,
                                                                            make_workspace):
    root = make_workspace({"recipes/pip/meta.yaml": PIP, "recipes/wheel/meta.yaml": WHEEL})
    result = run_cli(["-C", root, "query", "deps", "pip"])
    assert result.code == 0, result.err
    assert result.out.split() == ["//recipes/wheel"]
    (warning,) = result.err.splitlines()
    assert warning.startswith("warning: cycle through a test requirement: //recipes/pip")
    assert "recipes/pip/meta.yaml:7" in warning and "recipes/wheel/meta.yaml:9" in warning
    plan = run_cli(["-C", root, "plan", "--format", "json"])
    assert plan.code == 0 and json.loads(plan.out)["order"] == ["//recipes/wheel",
                                                                "//recipes/pip"]
    assert plan.err.count("cycle through a test requirement") == 1


def test_a_run_cycle_is_an_error_with_lines_but_the_rest_still_answers(run_cli, make_workspace):
    root = make_workspace({
        "recipes/a/meta.yaml": meta("a", "1.0", "run: b", "host: zlib"),
        "recipes/b/meta.yaml": meta("b", "1.0", "run: a"),
        "recipes/c/meta.yaml": meta("c", "1.0", "host: d", "host: zlib"),
        "recipes/d/meta.yaml": meta("d", "1.0"),
    })
    result = run_cli(["-C", root, "query", "deps", "c"])
    assert result.code == 2
    assert result.out.split() == ["//recipes/d"]
    (error,) = result.err.splitlines()
    assert error == (
        "error: dependency cycle: //recipes/a --run: b (recipes/a/meta.yaml:6)--> //recipes/b "
        "--run: a (recipes/b/meta.yaml:6)--> //recipes/a (hint: remove one of these "
        "requirements or split a recipe into outputs)")
    for asked in (["why", "b"], ["query", "deps", "//recipes/a"]):  # set aside, not unknown
        result = run_cli(["-C", root, *asked])
        assert result.code == 2
        assert result.err.splitlines()[-1] == (
            f"error: '{asked[-1]}' is set aside: it is on a dependency cycle, which must be "
            "broken first")
    rendered = run_cli(["-C", root, "render", "--format", "json", "a"])  # renders all the same
    assert rendered.code == 2 and [d["target"] for d in json.loads(rendered.out)] == [
        "//recipes/a"]
    zlib = run_cli(["-C", root, "why", "zlib", "--no-status"])  # its requirer a is set aside
    assert zlib.code == 2 and zlib.out.startswith("zlib (third-party) is needed by 1 target")


def test_a_version_no_recipe_satisfies_comes_from_the_channels_said_once(run_cli,
                                                                          make_workspace):
    root = make_workspace({
        "recipes/python/meta.yaml": meta("python", "3.14.0"),
        "internal/old/meta.yaml": meta("old", "1.0", "host: python 3.10.*"),
    })
    result = run_cli(["-C", root, "graph", "--format", "json"])
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["edges"] == []
    assert document["external"] == [{"package": "python", "required_by": ["//internal/old"]}]
    assert result.err == (
        "warning: internal/old/meta.yaml:6: //internal/old needs host: python 3.10.*, which no "
        "variant of //recipes/python satisfies (it has 3.14.0): taken from the channels\n")


NUMPY = """\
package:
  name: numpy
  version: 1.26.4
requirements:
  host:
    - python {{ python }}
  run:
    - python
"""


def test_a_recipe_using_python_is_one_node_per_python(run_cli, make_workspace):
    root = make_workspace({
        "WORKSPACE.toml": '[workspace]\nname = "v"\n\n[variant]\npython = ["3.10", "3.11"]\n',
        "recipes/numpy/meta.yaml": NUMPY,
        "internal/app/meta.yaml": meta("app", "1.0", "host: numpy"),
    })
    result = run_cli(["-C", root, "render", "--format", "json"])
    assert result.code == 0, result.err
    linux = {"target_platform": "linux-64"}  # used by every recipe that is not noarch
    assert [(d["target"], d["variant"]) for d in json.loads(result.out)] == [
        ("//internal/app", linux),
        ("//recipes/numpy", {"python": "3.10", **linux}),
        ("//recipes/numpy", {"python": "3.11", **linux}),
    ]
    plan = json.loads(run_cli(["-C", root, "plan", "--format", "json"]).out)
    assert plan["order"] == ["//recipes/numpy[python=3.10]", "//recipes/numpy[python=3.11]",
                             "//internal/app"]
    hashes = {n["target"]: n["hash"] for n in plan["nodes"]}
    assert hashes["//recipes/numpy[python=3.10]"] != hashes["//recipes/numpy[python=3.11]"]
    builds = {n["target"]: n["outputs"][0]["build"] for n in plan["nodes"]}
    assert builds["//recipes/numpy[python=3.10]"] != builds["//recipes/numpy[python=3.11]"]


def test_text_output_names_each_variant(run_cli, make_workspace):
    root = make_workspace({
        "WORKSPACE.toml": '[workspace]\nname = "v"\n\n[variant]\npython = ["3.10", "3.11"]\n',
        "recipes/numpy/meta.yaml": NUMPY,
        "internal/app/meta.yaml": meta("app", "1.0", "host: numpy"),
    })
    plan = run_cli(["-C", root, "plan"])
    assert plan.code == 0, plan.err
    # a node id's `[python=3.10]` is shown as written, not taken for rich markup
    assert "//recipes/numpy[python=3.10]" in plan.out
    assert "dependency //recipes/numpy[python=3.11] changed" in plan.out
    why = run_cli(["-C", root, "why", "numpy"])  # a package: every variant of its target
    assert why.code == 0, why.err
    status = why.out.split("status:\n")[1].splitlines()
    assert [line.split(":")[0].strip() for line in status] == [
        "//internal/app", "//recipes/numpy[python=3.10]", "//recipes/numpy[python=3.11]"]


def test_plan_stops_on_a_version_neither_a_recipe_nor_a_channel_has(run_cli, make_workspace):
    from test_plan_support import publish_outputs

    root = make_workspace({
        "recipes/python/meta.yaml": meta("python", "3.14.0"),
        "internal/old/meta.yaml": meta("old", "1.0", "host: python 3.10.*"),
    })
    result = run_cli(["-C", root, "plan"])
    assert result.code == 2
    assert result.err.splitlines()[1] == (
        "error: internal/old/meta.yaml:6: //internal/old needs host: python 3.10.*, which no "
        "variant of //recipes/python satisfies (it has 3.14.0) and no channel has (hint: "
        "change the requirement, add the variant to [variant], or list a channel that has it "
        "in [channels] extra)")
    old = {"subdir": "linux-64", "name": "python", "version": "3.10.14", "build": "h0_0",
           "filename": "python-3.10.14-h0_0.conda"}
    publish_outputs(root / "cache" / "channel", [{"outputs": [old]}])
    again = run_cli(["-C", root, "plan", "--format", "json"])
    assert again.code == 0, again.err
    assert json.loads(again.out)["order"] == ["//internal/old", "//recipes/python"]
