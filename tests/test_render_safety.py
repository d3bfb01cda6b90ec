"""Recipes are untrusted input (issue 9): rendering a meta.yaml runs nothing from it, reads
no real environment and no file outside the workspace, and hostile YAML ends in one error.

Given a recipe that tries an escape, when the workspace is planned, then the command prints one
`error: <file>:<line>:` line per bad recipe, exits 2, and the marker file the payload would
create does not exist.
"""

from __future__ import annotations

import textwrap

import pytest
from orchestrator.errors import RecipeError
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.model import RawRecipe
from orchestrator.recipes.render import render_recipe
from orchestrator.recipes.selectors import apply_selectors, selector_namespace

GOOD = "package:\n  name: good\n  version: '1.0'\n"


def recipe_with(summary: str) -> str:
    return f"package:\n  name: x\n  version: '1.0'\nabout:\n  summary: \"{summary}\"\n"


def render(text: str, context: RenderContext | None = None):
    raw = RawRecipe("//recipes/x", "recipes/x/meta.yaml", "meta.yaml", textwrap.dedent(text))
    return render_recipe(raw, context or RenderContext())


ESCAPES = [
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ compiler.__globals__['os'].popen('touch MARKER') }}",
    "{{ os.path.os.popen('touch MARKER') }}",
    "{{ lipsum.__globals__['os'].popen('touch MARKER') }}",
    "{{ environ.__class__ }}",
    "{{ os.environ.update({'A': 'B'}) }}",
    "{{ pin_subpackage.__code__ }}",
]


@pytest.mark.parametrize("summary", ESCAPES)
def test_template_escapes_are_one_line_errors_and_run_nothing(summary, make_workspace, run_cli):
    root = make_workspace({"recipes/good/meta.yaml": GOOD})
    text = recipe_with(summary.replace("MARKER", str(root / "escaped")))
    (root / "recipes/x").mkdir(parents=True)
    (root / "recipes/x/meta.yaml").write_text(text)
    result = run_cli(["plan"], cwd=root)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0].startswith("error: recipes/x/meta.yaml:5: "), result.err
    assert "Traceback" not in result.err and "orchestrator." not in result.err
    assert not (root / "escaped").exists()


def test_the_real_environment_is_not_visible(monkeypatch):
    monkeypatch.setenv("ORCHESTRATE_SECRET_TOKEN", "s3cr3t")
    got = render(recipe_with("{{ environ.get('ORCHESTRATE_SECRET_TOKEN', 'none') }}-"
                             "{{ os.getenv('ORCHESTRATE_SECRET_TOKEN', 'none') }}"))
    assert got.data["about"]["summary"] == "none-none"
    with pytest.raises(RecipeError) as caught:
        render(recipe_with("{{ environ['ORCHESTRATE_SECRET_TOKEN'] }}"))
    assert str(caught.value).startswith("recipes/x/meta.yaml:5: no key 'ORCHESTRATE_SECRET")
    assert "s3cr3t" not in str(caught.value)


def test_the_documented_os_names_render():
    got = render(recipe_with("{{ os.pathsep }}{{ os.sep }}{{ os.path.join('a', 'b') }}"
                             "{{ os.path.basename('c/d') }}"))
    assert got.data["about"]["summary"] == ":/a/bd"


def test_internal_type_names_stay_out_of_messages():
    with pytest.raises(RecipeError) as caught:
        render(recipe_with("{{ os.nothing }}"))
    message = str(caught.value)
    assert "has no attribute 'nothing'" in message
    assert "SimpleNamespace" not in message and "orchestrator" not in message
    assert "OsModule" not in message


@pytest.mark.parametrize(
    ("selector", "kept"),
    [
        ("win and int(float(vc)) < 14", False),  # vc is never read on linux
        ("linux and int(float('14.2')) >= 14", True),
        ("linux and not aarch64", True),
        ("py>=311 and py<313", True),
        ("target_platform.startswith('linux')", True),
        ("str(py) == '311'", True),
    ],
)
def test_selectors_evaluate_the_python_conda_build_evaluates(selector, kept):
    names = selector_namespace("linux-64", {"python": "3.11"})
    text, _ = apply_selectors(f"a: 1\nb: 2  # [{selector}]\n", names, "m.yaml")
    assert text == ("a: 1\nb: 2\n" if kept else "a: 1\n\n")


@pytest.mark.parametrize(
    "selector",
    [
        "__import__('os').system('touch MARKER')",
        "open('MARKER', 'w')",
        "py.__class__",
        "(lambda: 1)()",
        "{x: 1 for x in (1,)}",
        "target_platform.__len__()",
        "getattr(py, 'real')",
    ],
)
def test_selector_escapes_are_refused(selector, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = selector_namespace("linux-64", {"python": "3.11"})
    with pytest.raises(RecipeError) as caught:
        apply_selectors(f"a: 1\nb: 2  # [{selector}]\n", names, "m.yaml")
    assert str(caught.value).startswith("m.yaml:2: ")
    assert not (tmp_path / "MARKER").exists()


def test_an_unknown_selector_name_lists_the_variant_files_read():
    context = RenderContext(variant_files=("conda_build_config.yaml", "recipes/x/cbc.yaml"))
    with pytest.raises(RecipeError) as caught:
        render("package:\n  name: x\n  version: '1'\nbuild:\n  number: 1  # [with_icu]\n",
               context)
    message = str(caught.value)
    assert message.startswith("recipes/x/meta.yaml:5: unknown selector name 'with_icu'")
    assert "variant files read: conda_build_config.yaml, recipes/x/cbc.yaml" in message


def _laughs(levels: int) -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        previous, this = chr(96 + i), chr(97 + i)
        lines.append(f"{this}: &{this} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return GOOD + "extra:\n" + "".join(f"  {line}\n" for line in lines)


HOSTILE_YAML = {
    "laughs": _laughs(9),
    "flow600": GOOD + "extra: " + "[" * 600 + "]" * 600 + "\n",
    "block990": GOOD + "extra:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(990)),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_YAML))
def test_hostile_yaml_is_one_error_and_others_are_still_reported(kind, make_workspace, run_cli):
    root = make_workspace({
        "recipes/hostile/meta.yaml": HOSTILE_YAML[kind],
        "recipes/other/meta.yaml": "package:\n  name: other\n",  # no version: its own error
        "recipes/good/meta.yaml": GOOD,
    })
    result = run_cli(["plan"], cwd=root)
    assert result.code == 2
    errors = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert any(line.startswith("error: recipes/hostile/meta.yaml: YAML ") for line in errors)
    assert any(line.startswith("error: recipes/other/meta.yaml:") for line in errors)
    assert "Traceback" not in result.err


def _plan_errors(root, run_cli) -> list[str]:
    result = run_cli(["plan"], cwd=root)
    assert result.code == 2, result.out + result.err
    assert "Traceback" not in result.err
    return [line for line in result.err.splitlines() if line.startswith("error: ")]


LOADER = "{{% set data = {call} %}}\n" + GOOD + "about:\n  summary: {{{{ data }}}}\n"


@pytest.mark.parametrize("call", [
    "load_file_data('/etc/passwd')",
    "load_file_data('../../../etc/passwd')",
    "load_file_data('leak.yaml')",  # a symlink to outside
    "load_file_regex(load_file='leak.yaml', regex_pattern='root')",
    "load_setup_py_data('/etc/passwd')",
])
def test_loaders_read_inside_the_workspace_only(call, make_workspace, run_cli, tmp_path):
    (tmp_path / "secret.yaml").write_text("token: s3cr3t\n")
    root = make_workspace({"recipes/x/meta.yaml": LOADER.format(call=call)})
    (root / "recipes/x/leak.yaml").symlink_to(tmp_path / "secret.yaml")
    errors = _plan_errors(root, run_cli)
    assert len(errors) == 1 and errors[0].startswith("error: recipes/x/meta.yaml:"), errors
    assert "outside the workspace" in errors[0]
    assert "s3cr3t" not in errors[0]


def test_a_symlink_inside_the_workspace_is_followed(make_workspace):
    root = make_workspace({
        "recipes/x/meta.yaml": LOADER.format(call="load_file_data('data.yaml')"),
        "shared/data.yaml": "summary: from shared\n",
    })
    (root / "recipes/x/data.yaml").symlink_to(root / "shared/data.yaml")
    from orchestrator.recipes.render_workspace import render_workspace
    from orchestrator.workspace import load_workspace

    result = render_workspace(load_workspace(root))
    assert result.errors == ()
    assert result.recipes[0].data["about"]["summary"] == {"summary": "from shared"}


SETUP_PY = """\
from setuptools import setup
VERSION = "2.5.1"
setup(name="pkg", version=VERSION, install_requires=["attrs >=21"], description=open("R").read())
"""


def test_setup_py_is_read_statically_and_never_run(make_workspace, tmp_path):
    from orchestrator.recipes.render_workspace import render_workspace
    from orchestrator.workspace import load_workspace

    marker = tmp_path / "ran"
    root = make_workspace({
        "recipes/x/meta.yaml": "{% set d = load_setup_py_data() %}\npackage:\n  name: x\n"
                               "  version: {{ d.version }}\nrequirements:\n  run:\n"
                               "    - {{ d.install_requires[0] }}\n",
        "recipes/x/setup.py": f"open({str(marker)!r}, 'w')\n" + SETUP_PY.replace(
            ', description=open("R").read()', ""),
        "recipes/y/meta.yaml": "{% set d = load_setup_py_data() %}\npackage:\n  name: y\n"
                               "  version: {{ d.description }}\n",
        "recipes/y/setup.py": SETUP_PY,
    })
    result = render_workspace(load_workspace(root))
    (x,) = result.recipes
    assert x.outputs[0].version == "2.5.1"
    assert [r.spec for r in x.outputs[0].requirements] == ["attrs >=21"]
    (error,) = result.errors
    assert str(error).startswith("recipes/y/meta.yaml:1: load_setup_py_data: recipes/y/setup.py:3:")
    assert "reads setup.py without running it" in str(error)
    assert not marker.exists()


def test_a_recipe_file_or_directory_linking_outside_is_an_error(make_workspace, run_cli,
                                                                tmp_path):
    outside = tmp_path / "elsewhere"
    (outside / "evil").mkdir(parents=True)
    (outside / "evil/meta.yaml").write_text(GOOD)
    (outside / "meta.yaml").write_text(GOOD)
    root = make_workspace({"recipes/good/meta.yaml": GOOD})
    (root / "recipes/linkdir").symlink_to(outside / "evil")
    (root / "recipes/linkfile").mkdir()
    (root / "recipes/linkfile/meta.yaml").symlink_to(outside / "meta.yaml")
    errors = _plan_errors(root, run_cli)
    assert f"error: recipes/linkfile/meta.yaml: is a symlink to {outside / 'meta.yaml'}, " \
           "outside the workspace (hint: recipes are read inside it only)" in errors
    assert any(e.startswith(f"error: recipes/linkdir: is a symlink to {outside / 'evil'}")
               for e in errors)


def test_a_path_source_linking_outside_is_an_error(make_workspace, run_cli, tmp_path):
    (tmp_path / "etc").mkdir()
    root = make_workspace({
        "recipes/x/meta.yaml": GOOD.replace("good", "x") + "source:\n  path: src\n",
        "recipes/y/meta.yaml": GOOD.replace("good", "y") + "source:\n  path: src\n",
        "shared/src/a.txt": "a",
    })
    (root / "recipes/x/src").symlink_to(tmp_path / "etc")
    (root / "recipes/y/src").symlink_to(root / "shared/src")
    errors = _plan_errors(root, run_cli)
    assert errors == [f"error: recipes/x/meta.yaml: source path recipes/x/src resolves to "
                      f"{tmp_path / 'etc'}, outside the workspace"]
    from orchestrator.recipes.render_workspace import render_workspace
    from orchestrator.workspace import load_workspace

    y = [r for r in render_workspace(load_workspace(root)).recipes if r.target == "//recipes/y"]
    assert y[0].sources[0].path == "shared/src"  # followed: hashed by the target's content


@pytest.mark.parametrize(("text", "message"), [
    ("package:\n  name: \"own data!\"\n  version: '1'\n",
     "recipes/x/meta.yaml:2: package name 'own data!' contains a space, '!'"),
    ("package:\n  name: x\n  version: \"1 2 3\"\n",
     "recipes/x/meta.yaml:3: version '1 2 3' contains a space"),
    ("package:\n  name: x\n  version: '1'\nrequirements:\n  host:\n    - python\n    - x\n",
     "recipes/x/meta.yaml:7: x requires itself to build (host: x)"),
    ("package:\n  name: s\n  version: '1'\nrequirements:\n  build:\n    - liba\n"
     "outputs:\n  - name: liba\n  - name: libb\n",
     "recipes/x/meta.yaml:6: liba requires itself to build (build: liba)"),
])
def test_names_versions_and_self_dependencies_are_checked_at_plan_time(text, message):
    with pytest.raises(RecipeError) as caught:
        render(text)
    assert str(caught.value).startswith(message)


def test_self_references_outside_build_and_host_are_what_conda_build_allows():
    recipe = render("package:\n  name: x\n  version: '1'\nrequirements:\n  run:\n"
                    "    - {{ pin_subpackage('x') }}\ntest:\n  requires:\n    - x\n")
    assert [r.spec for r in recipe.outputs[0].requirements] == ["x >=1,<2.0a0", "x"]


@pytest.mark.parametrize(("expression", "spec"), [
    ("{{ pin_subpackage('x', max_pin=None) }}", "x >=1.2.3"),
    ("{{ pin_subpackage('x', min_pin=None, max_pin='x.x') }}", "x <1.3.0a0"),
    ("{{ pin_subpackage('x', min_pin='x.x', max_pin='x.x.x.x') }}", "x >=1.2,<1.2.4.0a0"),
    ("{{ pin_subpackage('x', lower_bound='1.0', upper_bound='3') }}", "x >=1.0,<3"),
    ("x-{{ PKG_NAME }}-{{ PKG_VERSION }}-{{ PKG_BUILDNUM }}", "x-x-1.2.3-4"),
    ("lib{{ SHLIB_EXT }}", "lib.so"),
    ("a{{ os.pathsep }}b", "a:b"),
    ("{{ stdlib('c') }}", "sysroot_linux-64"),
])
def test_conda_build_context_names(expression, spec):
    recipe = render("package:\n  name: x\n  version: '1.2.3'\nbuild:\n  number: 4\n"
                    f"requirements:\n  run:\n    - {expression}\n")
    assert [r.spec for r in recipe.outputs[0].requirements] == [spec]
