"""Rendering recipes: selectors, the conda-build Jinja context, v1 recipes, errors, the cache.

Given a recipe text (or a real workspace in a real git repository), when it is rendered for
linux-64 / python 3.11, then the Recipe record (or the one-line error) is what a user expects.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import commit_all, git
from orchestrator.errors import RecipeError
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.discover import discover_recipes, target_of
from orchestrator.recipes.model import RawRecipe
from orchestrator.recipes.records import package_name
from orchestrator.recipes.render import render_recipe
from orchestrator.recipes.render_workspace import render_workspace
from orchestrator.recipes.selectors import apply_selectors, selector_namespace
from orchestrator.workspace import load_workspace

LINUX = RenderContext("linux-64", (("python", "3.11"),))


def meta(text: str, path: str = "recipes/x/meta.yaml", context=LINUX):
    raw = RawRecipe(target_of(path.rsplit("/", 1)[0]), path, "meta.yaml", textwrap.dedent(text))
    return render_recipe(raw, context)


def v1(text: str, context=LINUX):
    """A recipe.yaml rendered by rattler-build with the context's values as [variant] values."""
    context = replace(context, inline=context.variant)
    raw = RawRecipe("//recipes/x", "recipes/x/recipe.yaml", "recipe.yaml", textwrap.dedent(text))
    return render_recipe(raw, context)


@pytest.mark.parametrize(
    ("platform", "selector", "kept"),
    [
        ("linux-64", "linux", True), ("linux-64", "not win", True), ("linux-64", "py<38", False),
        ("linux-64", "linux and x86_64", True), ("linux-64", "py>=311", True),
        ("linux-64", "unix", True), ("linux-64", "osx", False), ("linux-64", "win", False),
        ("linux-64", "aarch64", False), ("linux-64", "linux64", True),
        ("linux-64", "x86_64", True), ("linux-64", "noarch", False), ("linux-64", "py3k", True),
        ("linux-64", "py==311", True), ("linux-64", "python == '3.11'", True),
        ("linux-aarch64", "aarch64", True), ("linux-aarch64", "linux64", False),
        ("osx-arm64", "osx and arm64", True), ("osx-arm64", "unix", True),
        ("win-64", "win", True), ("win-64", "unix", False), ("win-64", "win64", True),
        ("noarch", "noarch", True), ("noarch", "linux", False),
    ],
)
def test_selector_keeps_or_blanks_the_line(platform, selector, kept):
    names = selector_namespace(platform, {"python": "3.11"})
    text, used = apply_selectors(f"a: 1\nb: 2  # [{selector}]\n", names, "m.yaml")
    assert text == ("a: 1\nb: 2\n" if kept else "a: 1\n\n")
    assert used


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("lunix", "m.yaml:2: unknown selector name 'lunix' in [lunix] (hint: use linux, osx"),
        ("linux and", "m.yaml:2: invalid selector [linux and]"),
        ("__import__('os')", "m.yaml:2: unsupported selector [__import__('os')]"),
    ],
)
def test_bad_selector_is_an_error_with_file_and_line(selector, message):
    names = selector_namespace("linux-64", {"python": "3.11"})
    with pytest.raises(RecipeError) as caught:
        apply_selectors(f"a: 1\nb: 2  # [{selector}]\n", names, "m.yaml")
    assert str(caught.value).startswith(message)


PACKAGE = "package:\n  name: x\n  version: '1.0'\nrequirements:\n  build:\n    - {}\n"


@pytest.mark.parametrize(
    ("expression", "platform", "spec"),
    [
        ("{{ compiler('c') }}", "linux-64", "gcc_linux-64"),
        ("{{ compiler('cxx') }}", "osx-arm64", "clangxx_osx-arm64"),
        ("{{ compiler('c') }}", "win-64", "vs2019_win-64"),
        ("{{ cdt('libx11-devel') }}", "linux-64", "libx11-devel-cos6-x86_64"),
        ("{{ cdt('mesa') }}", "linux-aarch64", "mesa-cos7-aarch64"),
        ("python {{ PY_VER }}", "linux-64", "python 3.11"),
        ("x-{{ 'A-b' | lower | replace('-', '_') }}", "linux-64", "x-a_b"),
        ("{{ environ.get('MISSING', 'dflt') }}", "linux-64", "dflt"),
        ("py{{ target_platform }}", "linux-64", "pylinux-64"),
        ("{{ pin_subpackage('x', max_pin='x.x') }}", "linux-64", "x >=1.0,<1.1.0a0"),
        ("{{ pin_subpackage('x') }}", "linux-64", "x >=1.0,<2.0a0"),
        ("{{ pin_subpackage('x', exact=True) }}", "linux-64", "x ==1.0"),
        ("{{ pin_compatible('numpy') }}", "linux-64", "numpy"),
        ("{{ pin_compatible('numpy', lower_bound='1.2', upper_bound='2') }}", "linux-64",
         "numpy >=1.2,<2"),
    ],
)
def test_jinja_context_of_conda_build(expression, platform, spec):
    # a pin of the recipe's own package is a run requirement here: in build it is an error now
    # (issue 9: a package cannot be built from itself)
    section = "run" if "pin_subpackage" in expression else "build"
    text = PACKAGE.replace("  build:", f"  {section}:").format(expression)
    recipe = meta(text, context=RenderContext(platform, LINUX.variant))
    assert [r.spec for r in recipe.outputs[0].requirements] == [spec]
    assert recipe.data["requirements"][section] == [spec]


@pytest.mark.parametrize(
    ("spec", "name"),
    [("numpy >=1", "numpy"), ("numpy 1.2.*", "numpy"), ("numpy=1.2", "numpy"),
     ("numpy[version='>=1']", "numpy"), ("numpy>=1,<2", "numpy"), ("conda-forge::six", "six"),
     ("python_abi 3.11.* *_cp311", "python_abi"), ("ruamel.yaml", "ruamel.yaml")],
)
def test_package_name_of_a_spec(spec, name):
    assert package_name(spec) == name


def test_conda_forge_shaped_multi_output_recipe():
    recipe = meta("""\
        {% set name = "libfoo" %}
        {% set version = "2.4.1" %}
        package:
          name: {{ name|lower }}-split
          version: {{ version }}
        source:
          url: https://example.org/{{ name }}-{{ version }}.tar.gz
          sha256: 0123abcd
          patches:
            - patches/0001-fix.patch  # [unix]
            - patches/win.patch  # [win]
        build:
          number: 3
        requirements:
          build:
            - {{ compiler('c') }}
            - make  # [unix]
          host:
            - zlib
        outputs:
          - name: {{ name }}
            build:
              run_exports:
                - {{ pin_subpackage(name, max_pin='x.x') }}
          - name: py-{{ name }}
            requirements:
              host:
                - python
                - {{ pin_subpackage(name, exact=True) }}
              run:
                - python
                - {{ pin_subpackage(name) }}
            test:
              requires:
                - pytest
    """)
    libfoo, py = recipe.outputs
    assert (libfoo.name, libfoo.version, libfoo.build_number) == ("libfoo", "2.4.1", 3)
    assert libfoo.run_exports == ("libfoo >=2.4.1,<2.5.0a0",)
    # conda-build: an output not named like the package gets only its own requirements
    assert [(r.section, r.spec) for r in py.requirements] == [
        ("host", "python"), ("host", "libfoo ==2.4.1"), ("run", "python"),
        ("run", "libfoo >=2.4.1,<3.0a0"), ("test", "pytest"),
    ]
    assert recipe.sources[0].patches == ("recipes/x/patches/0001-fix.patch",)
    assert recipe.sources[0].url == "https://example.org/libfoo-2.4.1.tar.gz"
    assert recipe.variant == (("python", "3.11"),)


@pytest.mark.parametrize(("platform", "skipped"), [("win-64", True), ("linux-64", False)])
def test_skip_with_a_selector_keeps_names_and_ignores_requirements(platform, skipped):
    recipe = meta("""\
        package:
          name: unix-only
          version: "1.0"
        build:
          skip: true  # [win]
        requirements:
          host:
            - {{ pin_subpackage('not-an-output') }}  # [win]
            - libc  # [not win]
    """, context=RenderContext(platform, LINUX.variant))
    assert recipe.skipped is skipped
    assert recipe.package_names == ("unix-only",)
    assert recipe.outputs[0].requirements == (() if skipped else recipe.outputs[0].requirements)
    assert skipped or recipe.outputs[0].requirements[0].spec == "libc"


def test_v1_recipe_with_context_conditions_and_tests():
    recipe = v1("""\
        context:
          name: rtool
          version: "2.0.1"
          tag: v${{ version }}
        package:
          name: ${{ name }}
          version: ${{ version }}
        source:
          git: https://github.com/x/rtool
          tag: ${{ tag }}
        build:
          number: 1
          skip:
            - win
            - match(python, "<3.8")
        requirements:
          build:
            - ${{ compiler('cxx') }}
            - ${{ stdlib('c') }}
            - if: linux
              then:
                - if: aarch64
                  then: qemu
                  else: [patchelf]
          host:
            - python ${{ python }}.*
          run:
            - if: win
              then: pywin32
              else: libc
        tests:
          - script: [rtool --help]
            requirements:
              run: [pytest]
          - python:
              imports: [rtool]
    """, RenderContext("linux-64", (("c_stdlib", "sysroot"), ("python", "3.11"))))
    assert not recipe.skipped
    assert [(r.section, r.spec) for r in recipe.requirements()] == [
        ("build", "gxx_linux-64"), ("build", "sysroot_linux-64"), ("build", "patchelf"),
        ("host", "python 3.11.*"), ("run", "libc"), ("test", "pytest"),
    ]
    assert recipe.sources[0].kind == "git" and recipe.sources[0].git_rev == "v2.0.1"
    assert recipe.data["context"]["tag"] == "v2.0.1"
    assert recipe.variant == (("c_stdlib", "sysroot"), ("python", "3.11"))


@pytest.mark.parametrize(("python", "skipped"), [("3.7", True), ("3.12", False)])
def test_v1_skip_by_match(python, skipped):
    recipe = v1("""\
        package: {name: a, version: "1"}
        build:
          skip:
            - match(python, "<3.8")
        requirements:
          host: [python]
    """, context=RenderContext("linux-64", (("python", python),)))
    assert recipe.skipped is skipped


def test_v1_multi_output_with_pin_subpackage():
    recipe = v1("""\
        context: {version: "3.1.4"}
        recipe: {name: pi-split, version: "${{ version }}"}
        build: {number: 2}
        outputs:
          - package: {name: libpi}
            requirements:
              run_exports:
                - ${{ pin_subpackage('libpi', upper_bound='x.x') }}
          - package: {name: pi-tools}
            build: {noarch: generic}
            requirements:
              run:
                - ${{ pin_subpackage('libpi', exact=True) }}
    """)
    libpi, tools = recipe.outputs
    assert libpi.run_exports == ("libpi >=3.1.4,<3.2.0a0",)
    assert (tools.noarch, tools.build_number, tools.version) == ("generic", 2, "3.1.4")
    assert tools.requirements[0].spec == "libpi ==3.1.4"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("package:\n  name: x\n  version: [1\n", "recipes/x/meta.yaml:4: invalid YAML: "),
        ("package:\n  name: x\n  version: {{ nope }}\n",
         "recipes/x/meta.yaml:3: undefined Jinja variable 'nope' (hint: define it with"),
        ("package:\n  name: {% if %}\n", "recipes/x/meta.yaml:2: Jinja syntax error: "),
        ("package:\n  version: '1'\n", "recipes/x/meta.yaml:1: package/name is missing"),
        ("build:\n  number: 0\n", "recipes/x/meta.yaml:1: package/name is missing"),
        ("package:\n  name: x\n", "recipes/x/meta.yaml:1: package/version is missing"),
        ("package:\n  name: x\n  version: '1'\nrequirements:\n  host:\n    - a\n    - {b: 1}\n",
         "recipes/x/meta.yaml:7: requirements/host/1 must be text, not a mapping"),
        ("package:\n  name: x\n  version: '1'\nbuild:\n  number: one\n",
         "recipes/x/meta.yaml:5: build/number must be an integer, not 'one'"),
        ("package:\n  name: x\n  version: '1'\nrequirements:\n  run:\n    - a  # [lnux]\n",
         "recipes/x/meta.yaml:6: unknown selector name 'lnux' in [lnux]"),
        ("package:\n  name: x\n  version: '1'\nsource:\n  path: ../../..\n",
         "recipes/x/meta.yaml:5: source path '../../..' is outside the workspace"),
        ("package:\n  name: x\n  version: '1'\nrequirements:\n  run:\n"
         "    - {{ pin_subpackage('y') }}\n",
         "recipes/x/meta.yaml:6: pin_subpackage('y'): this recipe has no output named 'y'"),
        ("- a\n- b\n", "recipes/x/meta.yaml:1: a recipe must be a YAML mapping"),
        ("{% set d = load_file_data('nothere.json') %}\n",
         "recipes/x/meta.yaml:1: load_file_data('nothere.json'): no such file"),
    ],
)
def test_bad_meta_yaml_is_one_line_with_file_and_line(text, message):
    with pytest.raises(RecipeError) as caught:
        meta(text)
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("package:\n  name: ${{ nme }}\n  version: '1'\n",
         "recipes/x/recipe.yaml:2: undefined Jinja variable 'nme'"),
        ("package:\n  name: a\n  version: '1'\nrequirements:\n  run:\n    - if: lnux\n"
         "      then: b\n", "recipes/x/recipe.yaml:6: undefined Jinja variable 'lnux'"),
        ("package:\n  version: '1'\n", "recipes/x/recipe.yaml:1: package/name is missing"),
        ("context: [1]\n", "recipes/x/recipe.yaml:1: context must be a mapping"),
    ],
)
def test_bad_recipe_yaml_is_one_line_with_file_and_line(text, message):
    with pytest.raises(RecipeError) as caught:
        v1(text)
    assert str(caught.value).startswith(message), str(caught.value)


INTERNAL = {
    "internal/own-util/pyproject.toml": """\
        [project]
        name = "own-util"
        version = "0.4.1"
        dependencies = ["attrs >=21", "rich"]
    """,
    "internal/own-util/src/own_util/__init__.py": "",
    "internal/own-util/conda/meta.yaml": """\
        {% set project = load_file_data('pyproject.toml')['project'] %}
        package:
          name: {{ project['name'] }}
          version: {{ project['version'] }}
        source:
          path: ..
        build:
          noarch: python
          script: {{ PYTHON }} -m pip install . --no-deps
        requirements:
          host: [python, pip]
          run:
            - python
        {% for dep in project['dependencies'] %}
            - {{ dep }}
        {% endfor %}
    """,
    "recipes/tagged/meta.yaml": """\
        package:
          name: tagged
          version: {{ GIT_DESCRIBE_TAG | replace('v', '') }}
        build:
          number: {{ GIT_DESCRIBE_NUMBER }}
          string: {{ GIT_BUILD_STR }}
    """,
    "recipes/tagged/build.sh": "make\n",
    "recipes/tagged/__pycache__/x.pyc": "",
    "recipes/broken/meta.yaml": "package:\n  name: broken\n  version: {{ nope }}\n",
    "recipes/v1tool/recipe.yaml": "package: {name: v1tool, version: '1'}\n",
}


def test_workspace_renders_internal_project_and_git_describe(make_workspace):
    root = make_workspace(INTERNAL)
    git(root, "tag", "v1.5.0")
    (root / "recipes/tagged/NEWS").write_text("x\n")
    commit_all(root, "after the tag")
    result = render_workspace(load_workspace(root, explicit=True))
    by_target = {r.target: r for r in result.recipes}
    assert sorted(by_target) == ["//internal/own-util", "//recipes/tagged", "//recipes/v1tool"]
    own = by_target["//internal/own-util"]
    assert own.sources[0].path == "internal/own-util"
    assert [r.spec for r in own.outputs[0].requirements_in("run")] == ["python", "attrs >=21",
                                                                         "rich"]
    assert own.data["build"]["script"] == "$PYTHON -m pip install . --no-deps"
    tagged = by_target["//recipes/tagged"]
    assert (tagged.outputs[0].version, tagged.outputs[0].build_number) == ("1.5.0", 1)
    assert tagged.files == ("recipes/tagged/NEWS", "recipes/tagged/build.sh",
                            "recipes/tagged/meta.yaml")
    assert [str(e) for e in result.errors] == [
        "recipes/broken/meta.yaml:3: undefined Jinja variable 'nope' (hint: define it with "
        "{% set nope = ... %} or add it to [variant] in WORKSPACE.toml)"
    ]


def test_git_build_str_alone_is_enough_to_ask_git(make_workspace):
    root = make_workspace({"recipes/s/meta.yaml": """\
        package: {name: s, version: "1.0"}
        build: {string: "b{{ GIT_BUILD_STR }}"}
    """})
    git(root, "tag", "v1.0")
    commit_all(root, "one more")
    (recipe,) = render_workspace(load_workspace(root, explicit=True)).recipes
    assert recipe.data["build"]["string"].startswith("b1_g")


def test_warm_render_reuses_the_cache_and_sees_changes(make_workspace):
    root = make_workspace(INTERNAL)
    workspace = load_workspace(root, explicit=True)
    cold = render_workspace(workspace)
    cache_file = root / "cache/render/recipes.msgpack"
    stamp = cache_file.stat().st_mtime_ns
    warm = render_workspace(workspace)
    assert warm.recipes == cold.recipes and cache_file.stat().st_mtime_ns == stamp
    assert [str(e) for e in warm.errors] == [str(e) for e in cold.errors]
    assert "recipes/tagged/meta.yaml:1: package/version is missing" in str(warm.errors[-1])
    pyproject = root / "internal/own-util/pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("0.4.1", "0.5.0"))
    changed = {r.target: r for r in render_workspace(workspace).recipes}
    assert changed["//internal/own-util"].outputs[0].version == "0.5.0"


def test_discovery_targets_and_both_formats(make_workspace):
    root = make_workspace({"recipes/a/meta.yaml": "package: {name: a, version: '1'}\n",
                           "recipes/a/recipe.yaml": "package: {name: a, version: '1'}\n",
                           "internal/b/recipe/recipe.yaml": "package: {name: b, version: '1'}\n"})
    workspace = load_workspace(root, explicit=True)
    result = render_workspace(workspace)
    assert [r.target for r in result.recipes] == ["//internal/b", "//recipes/a"]
    assert [r.format for r in result.recipes] == ["recipe.yaml", "recipe.yaml"]
    assert [str(e) for e in result.errors] == [
        "recipes/a/meta.yaml: this directory also has a recipe.yaml "
        "(hint: keep one recipe format per directory)"]
    (root / "recipes/a/meta.yaml").unlink()
    assert [r.path for r in discover_recipes(workspace)] == [
        "internal/b/recipe/recipe.yaml", "recipes/a/recipe.yaml"]


def test_variant_lists_only_keys_the_recipe_uses(tmp_path: Path):
    context = RenderContext("linux-64", (("numpy", "1.26"), ("python", "3.11")))
    plain = meta("package: {name: a, version: '1'}\nrequirements:\n  run: [libc]\n",
                 context=context)
    uses = meta("package: {name: a, version: '1'}\nrequirements:\n  run:\n    - numpy\n"
                "    - b  # [py>=38]\n", context=context)
    assert plain.variant == ()
    assert uses.variant == (("numpy", "1.26"), ("python", "3.11"))


@pytest.mark.parametrize(
    "template",
    [
        "{% set v = '1.2' %}\na: {{ v }}\nb: {{ v.split('.')[0] }}-{{ v | replace('.', '_') }}\n",
        "{% set n = 3 %}\n{% set m = n * 2 %}\nx: {{ m }} {{ [1, 2] }} {{ none }} {{ true }}\n",
        "a: {{ compiler('c') }}  # comment {{ 'x' ~ 'y' }}\n\n\n",
        "a: 1\n",
    ],
)
def test_cheap_template_path_renders_like_jinja(template):
    from orchestrator.recipes.jinja_context import meta_context, meta_environment, render_simple

    names = meta_context(LINUX, "recipes/x", set())
    expected = meta_environment().from_string(template).render(names)
    assert render_simple(template, names, "m.yaml") == expected


def test_jinja_blocks_see_selectors_and_describe():
    text = """\
        package:
          name: a
          version: {{ GIT_DESCRIBE_TAG or '0.0' }}
        requirements:
          run:
        {% if linux and py3k %}
            - on-linux
        {% else %}
            - elsewhere
        {% endif %}
    """
    assert meta(text).outputs[0].version == "0.0"
    assert [r.spec for r in meta(text).requirements()] == ["on-linux"]
    described = RenderContext("osx-64", LINUX.variant, ("v2.1", "4", "gabc"))
    recipe = meta(text, context=described)
    assert recipe.outputs[0].version == "v2.1"
    assert [r.spec for r in recipe.requirements()] == ["elsewhere"]


def test_many_recipes_render_in_parallel_like_one_by_one(make_workspace):
    from orchestrator.recipes.render_pool import PARALLEL_FROM

    files = {f"recipes/p{i:03}/meta.yaml": PACKAGE.format(f"dep-{i} >={i}").replace(
        "name: x", f"name: p{i:03}") for i in range(PARALLEL_FROM + 10)}
    workspace = load_workspace(make_workspace(files, git_repo=False), explicit=True)
    result = render_workspace(workspace)
    assert result.errors == ()
    one_by_one = [render_recipe(raw, LINUX) for raw in discover_recipes(workspace)]
    assert [r.outputs for r in result.recipes] == [r.outputs for r in one_by_one]
    assert result.recipes[7].outputs[0].requirements[0].spec == "dep-7 >=7"


def test_v1_script_may_name_python_as_rattler_build_does():
    recipe = v1("""\
        package: {name: tool, version: "1.0"}
        build:
          noarch: python
          script: ${{ PYTHON }} -m pip install . --no-deps
    """)
    # rattler-build's Stage1 keeps the script as written: it is rendered when the build runs
    assert recipe.data["build"]["script"] == "${{ PYTHON }} -m pip install . --no-deps"
