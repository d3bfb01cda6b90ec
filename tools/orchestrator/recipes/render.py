"""Raw recipe → Recipe for one platform and variant (pure).

`render_recipe` reads nothing: the platform, variant, `git describe` and the files that
`load_file_data` reads come in a RenderContext. render_workspace.py gathers those for every
recipe of a workspace, keeps a content-keyed cache under `cache/render/` and renders what the
cache misses, in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from orchestrator.errors import RecipeError
from orchestrator.recipes import records
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.jinja_context import resolve_pins
from orchestrator.recipes.meta_yaml import Rendered, render_meta_yaml
from orchestrator.recipes.model import Output, RawRecipe, Recipe
from orchestrator.recipes.recipe_yaml import render_recipe_yaml
from orchestrator.recipes.records import Invalid, mapping, text
from orchestrator.recipes.variant_pins import pin_tree
from orchestrator.recipes.yaml_load import line_of

__all__ = ["RenderContext", "render_recipe", "render_recipes"]

# Names in templates or selectors that mean the recipe depends on a variant key.
_ALIASES = {
    "python": {"py", "py3k", "py2k", "PY_VER", "PY3K", "PYTHON",
               *(f"py{v}" for v in (27, 36, 37, 38, 39, 310, 311, 312, 313, 314))},
    "numpy": {"np", "NPY_VER"},
}


@dataclass(frozen=True)
class _Part:
    """One output before it is typed: where it is in the tree and what it inherits."""

    name: str
    version: str
    build: dict
    path: tuple
    reqs: list


def render_recipe(raw: RawRecipe, context: RenderContext) -> Recipe:
    """`raw` rendered for `context` (its first variant); RecipeError with file and line."""
    return render_recipes(raw, context)[0]


def render_recipes(raw: RawRecipe, context: RenderContext) -> tuple[Recipe, ...]:
    """`raw` rendered for `context`: a meta.yaml for the one variant of `context`; a
    recipe.yaml by rattler-build, which multiplies it by the variant keys it uses."""
    if raw.format != "recipe.yaml":
        return (_typed(raw, render_meta_yaml(raw, context), context, False),)
    variants = render_recipe_yaml(raw, context)
    if not variants:
        raise RecipeError(raw.path, "the recipe renders no output", 1)
    return tuple(replace(_typed(raw, Rendered(v.tree, v.text, frozenset(), frozenset()),
                                context, True), variant=v.variant) for v in variants)


def _typed(raw: RawRecipe, rendered: Rendered, context: RenderContext, v1: bool) -> Recipe:
    try:
        return _recipe(raw, rendered, context, v1)
    except Invalid as exc:
        line = line_of(rendered.text, exc.path) or 1
        raise RecipeError(raw.path, exc.message, line, exc.hint) from None


def _recipe(raw: RawRecipe, rendered: Rendered, context: RenderContext, v1: bool) -> Recipe:
    tree = rendered.tree
    head = "recipe" if v1 and "outputs" in tree else "package"
    skipped = _skip(mapping(tree, "build", ()))
    versions = {p.name: p.version for p in _parts(tree, head, v1, False)}
    data = _resolved(tree, versions, skipped)
    if not v1:
        pin_tree(data, {k: str(v) for k, v in context.variant})
    parts = _parts(data, head, v1, not skipped)
    live = [p for p in parts if not _skip(p.build)]
    skipped = skipped or not live
    if skipped:
        outputs = tuple(Output(p.name, p.version) for p in parts)
    else:
        outputs = records.with_lines(tuple(_output(p, data, v1) for p in live), rendered.text)
        _check_outputs(parts, data, head, v1)
    top = () if v1 or skipped or not data.get("outputs") else records.requirements_with_lines(
        records.unique(_requirements(data, (), v1)), rendered.text)
    return Recipe(
        target=raw.target, path=raw.path, format=raw.format, outputs=outputs,
        sources=records.sources(data.get("source"), raw.directory, ("source",), v1),
        skipped=skipped, variant=_variant(context, rendered.names, outputs, v1), data=data,
        top_requirements=top,
    )


def _check_outputs(parts: list[_Part], data: dict, head: str, v1: bool) -> None:
    """Names and versions by conda's rules; no output built from itself (a build or host
    requirement on its own name, or top-level ones on any output of the recipe)."""
    names = {p.name for p in parts}
    for part in parts:
        where = (*part.path, "package") if v1 and part.path else part.path or (head,)
        records.check_name_and_version(part.name, part.version, part.path, where)
        _no_self_requirement(_node(data, part.path), part.path, {part.name})
    if data.get("outputs") and not v1:
        _no_self_requirement(data, (), names)


def _no_self_requirement(node: dict, path: tuple, own: set[str]) -> None:
    reqs = node.get("requirements") if isinstance(node, dict) else None
    for section in ("build", "host"):
        items = reqs.get(section) if isinstance(reqs, dict) else None
        for index, spec in enumerate(items if isinstance(items, list) else []):
            if isinstance(spec, str) and records.package_name(spec) in own:
                raise Invalid((*path, "requirements", section, index),
                              f"{records.package_name(spec)} requires itself to build "
                              f"({section}: {spec})", "a package cannot be built from itself; "
                              "take the requirement out or pin another package")


def _parts(tree: dict, head: str, v1: bool, with_reqs: bool) -> list[_Part]:
    top, build = mapping(tree, head, ()), mapping(tree, "build", ())
    version = text(top, "version", (head,)) or ""
    shared = _requirements(tree, (), v1) if with_reqs else []
    outputs = tree.get("outputs")
    if not outputs:
        return [_Part(_name(top, (head,)), _version(version, (head,)), build, (), shared)]
    if not isinstance(outputs, list):
        raise Invalid(("outputs",), "outputs must be a list of mappings")
    top_name = None if v1 else text(top, "name", (head,))
    return [_part(o, ("outputs", i), version, build, (shared, top_name), v1, with_reqs)
            for i, o in enumerate(outputs)]


def _part(item, path, version, build, inherited, v1, with_reqs) -> _Part:
    """One output. meta.yaml follows conda-build: only the output named like the package
    inherits the top-level requirements and run_exports; the others get only their own."""
    if not isinstance(item, dict):
        raise Invalid(path, f"{path[0]}/{path[1]} must be a mapping")
    shared, top_name = inherited
    head = (*path, "package") if v1 else path
    package = mapping(item, "package", path) if v1 else item
    name = _name(package, head)
    own_build = {"number": build.get("number", 0), **mapping(item, "build", path)}
    inherits = v1 or name == top_name
    if inherits and not v1 and "run_exports" not in own_build and "run_exports" in build:
        own_build["run_exports"] = build["run_exports"]
    own = _requirements(item, path, v1) if with_reqs else []
    reqs = (shared if inherits and not (not v1 and "requirements" in item) else []) + own
    return _Part(name, _version(text(package, "version", head) or version, head),
                 own_build, path, reqs if with_reqs else [])


def _name(package: dict, path: tuple) -> str:
    name = text(package, "name", path)
    if not name:
        where = "/".join(map(str, (*path, "name")))
        raise Invalid(path, f"{where} is missing", "every package needs a name")
    return name


def _version(version: str, path: tuple) -> str:
    if not version:
        where = "/".join(map(str, (*path, "version")))
        raise Invalid(path, f"{where} is missing", "set it, e.g. {% set version = \"1.0\" %}")
    return version


def _requirements(tree: dict, path: tuple, v1: bool) -> list:
    reqs = records.requirements(tree.get("requirements"), (*path, "requirements"))
    if v1:
        return reqs + _v1_test_requirements(tree.get("tests"), (*path, "tests"))
    test = mapping(tree, "test", path)
    return reqs + records.section(test.get("requires"), (*path, "test", "requires"), "test")


def _v1_test_requirements(tests: Any, path: tuple) -> list:
    out = []
    for index, test in enumerate(tests if isinstance(tests, list) else []):
        if isinstance(test, dict) and "script" in test:
            where = (*path, index, "requirements")
            reqs = mapping(test, "requirements", (*path, index))
            for section in ("build", "run"):
                out += records.section(reqs.get(section), (*where, section), "test")
    return out


def _output(part: _Part, data: dict, v1: bool) -> Output:
    build = part.build
    if v1:  # v1 keeps run_exports under requirements
        reqs = _node(data, part.path).get("requirements")
        exports = reqs.get("run_exports") if isinstance(reqs, dict) else None
        build = {**build, "run_exports": exports}
    return records.output(part.name, part.version, build, part.reqs, part.path)


def _node(tree: dict, path: tuple) -> dict:
    for key in path:
        tree = tree[key]
    return tree if isinstance(tree, dict) else {}


def _skip(build: dict) -> bool:
    skip = build.get("skip")
    if isinstance(skip, list):
        return any(s is True or s in ("true", "True") for s in skip)
    return skip is True or skip in ("true", "True", "yes")


def _resolved(value: Any, versions: dict[str, str], lenient: bool, path: tuple = ()) -> Any:
    """`value` with pin markers replaced (in a skipped recipe unknown outputs are let be)."""
    if isinstance(value, str):
        try:
            return resolve_pins(value, versions)
        except ValueError as exc:
            if lenient:
                return resolve_pins(value, _AnyVersion())
            raise Invalid(path, str(exc), "pin only outputs of this recipe") from None
    if isinstance(value, dict):
        return {k: _resolved(v, versions, lenient, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, versions, lenient, (*path, i)) for i, v in enumerate(value)]
    return value


class _AnyVersion(dict):
    def __missing__(self, key: str) -> str:
        return "0"

    def __contains__(self, key: object) -> bool:
        return True


def _variant(context: RenderContext, names: frozenset[str], outputs, v1: bool) -> tuple:
    """The variant keys the recipe uses and their values: those its text uses by conda-build's
    rules (`context.used`, when known), and for v1 recipes or an unknown `used` those its
    templates, selectors or requirements read."""
    static = set(context.used or ())
    if context.used is not None and not v1:
        return tuple((k, v) for k, v in sorted(context.variant) if k in static)
    used = set(names) | {r.name for o in outputs for r in o.requirements}
    return tuple((k, v) for k, v in sorted(context.variant)
                 if k in static or k in used or used & _ALIASES.get(k, set()))
