"""Raw recipe → Recipe for one platform and variant (pure), and the whole workspace (I/O).

`render_recipe` reads nothing: the platform, variant, `git describe` and the files that
`load_file_data` reads come in a RenderContext. `render_workspace` gathers those, keeps a
content-keyed cache under `cache/render/` and renders what the cache misses, in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.errors import RecipeError
from orchestrator.recipes import records
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.jinja_context import resolve_pins
from orchestrator.recipes.meta_yaml import Rendered, render_meta_yaml
from orchestrator.recipes.model import Output, RawRecipe, Recipe
from orchestrator.recipes.recipe_yaml import render_recipe_yaml
from orchestrator.recipes.records import Invalid, mapping, text
from orchestrator.recipes.yaml_load import line_of

__all__ = ["RenderContext", "RenderResult", "render_recipe", "render_workspace"]

# Names in templates or selectors that mean the recipe depends on a variant key.
_ALIASES = {
    "python": {"py", "py3k", "py2k", "PY_VER", "PY3K", "PYTHON",
               *(f"py{v}" for v in (27, 36, 37, 38, 39, 310, 311, 312, 313, 314))},
    "numpy": {"np", "NPY_VER"},
}


@dataclass(frozen=True)
class RenderResult:
    recipes: tuple[Recipe, ...]
    errors: tuple[RecipeError, ...]


@dataclass(frozen=True)
class _Part:
    """One output before it is typed: where it is in the tree and what it inherits."""

    name: str
    version: str
    build: dict
    path: tuple
    reqs: list


def render_recipe(raw: RawRecipe, context: RenderContext) -> Recipe:
    """`raw` rendered for `context`; RecipeError with file and line for any problem."""
    v1 = raw.format == "recipe.yaml"
    rendered = (render_recipe_yaml if v1 else render_meta_yaml)(raw, context)
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
    parts = _parts(data, head, v1, not skipped)
    live = [p for p in parts if not _skip(p.build)]
    skipped = skipped or not live
    if skipped:
        outputs = tuple(Output(p.name, p.version) for p in parts)
    else:
        outputs = tuple(_output(p, data, v1) for p in live)
    return Recipe(
        target=raw.target, path=raw.path, format=raw.format, outputs=outputs,
        sources=records.sources(data.get("source"), raw.directory, ("source",), v1),
        skipped=skipped, variant=_variant(context, rendered.names, outputs), data=data,
    )


def _parts(tree: dict, head: str, v1: bool, with_reqs: bool) -> list[_Part]:
    top, build = mapping(tree, head, ()), mapping(tree, "build", ())
    version = text(top, "version", (head,)) or ""
    shared = _requirements(tree, (), v1) if with_reqs else []
    outputs = tree.get("outputs")
    if not outputs:
        return [_Part(_name(top, (head,)), _version(version, (head,)), build, (), shared)]
    if not isinstance(outputs, list):
        raise Invalid(("outputs",), "outputs must be a list of mappings")
    return [_part(o, ("outputs", i), version, build, shared, v1, with_reqs)
            for i, o in enumerate(outputs)]


def _part(item, path, version, build, shared, v1, with_reqs) -> _Part:
    if not isinstance(item, dict):
        raise Invalid(path, f"{path[0]}/{path[1]} must be a mapping")
    head = (*path, "package") if v1 else path
    package = mapping(item, "package", path) if v1 else item
    own_build = {"number": build.get("number", 0), **mapping(item, "build", path)}
    reqs = shared + _requirements(item, path, v1) if with_reqs else []
    return _Part(_name(package, head), _version(text(package, "version", head) or version, head),
                 own_build, path, reqs)


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


def _variant(context: RenderContext, names: frozenset[str], outputs) -> tuple:
    required = {r.name for o in outputs for r in o.requirements}
    used = set(names) | required
    return tuple((k, v) for k, v in sorted(context.variant)
                 if k in used or used & _ALIASES.get(k, set()))


def render_workspace(workspace) -> RenderResult:
    """Every recipe of `workspace` rendered (cached by content); failures collected in errors."""
    from orchestrator.recipes import render_cache as rc
    from orchestrator.recipes.discover import find_recipes, read_recipe

    found, errors = find_recipes(workspace.root, workspace.config.workspace.roots)
    base = RenderContext(workspace.platform, tuple(sorted(workspace.config.variant.items())))
    describe = _describer(workspace.root)
    keyed = []
    for item in found:
        try:
            raw = read_recipe(workspace.root, item)
        except RecipeError as exc:
            errors.append(exc)
            continue
        context = rc.context_for(raw, workspace.root, base, describe)
        keyed.append((item, rc.cache_key(raw, context), raw, context))
    cached = rc.load_cache(workspace.cache_dir)
    misses = [(raw, context) for _, key, raw, context in keyed if key not in cached]
    fresh = dict(zip([k for _, k, _, _ in keyed if k not in cached],
                     rc.render_entries(misses), strict=True))
    entries = {key: fresh.get(key) or cached[key] for _, key, _, _ in keyed}
    if fresh or len(entries) != len(cached):
        rc.save_cache(workspace.cache_dir, entries)
    results = [rc.as_result(entries[key], item.files) for item, key, _, _ in keyed]
    return RenderResult(tuple(r for r in results if isinstance(r, Recipe)),
                        tuple(errors) + tuple(r for r in results if isinstance(r, RecipeError)))


def _describer(root):
    """`git describe` per recipe directory, asked at most once each."""
    from functools import cache

    from orchestrator.errors import VcsError
    from orchestrator.vcs import describe_tags

    @cache
    def describe(directory: str) -> tuple[str, str, str]:
        try:
            return tuple(describe_tags(root, directory))
        except VcsError:  # e.g. a repository without commits: no tag to describe
            return ("", "", "")

    return describe
