"""Raw recipe → Recipe for one platform and variant (pure), and the whole workspace (I/O).

`render_recipe` reads nothing: the platform, variant, `git describe` and the files that
`load_file_data` reads come in a RenderContext. `render_workspace` gathers those, keeps a
content-keyed cache under `cache/render/` and renders what the cache misses, in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.errors import RecipeError
from orchestrator.recipes import records
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.discover import read_recipe
from orchestrator.recipes.jinja_context import resolve_pins
from orchestrator.recipes.meta_yaml import Rendered, render_meta_yaml
from orchestrator.recipes.model import Output, RawRecipe, Recipe, node_ids
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
    digests: Mapping[str, str] = field(default_factory=dict)  # node id → recipe_data_digest


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
        outputs = records.with_lines(tuple(_output(p, data, v1) for p in live), rendered.text)
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


def render_workspace(workspace, listing: Mapping[str, str] | None = None) -> RenderResult:
    """Every recipe of `workspace` rendered (cached by content); failures collected in errors.

    `listing` (every file git sees, workspace-relative path → blob id, working copy included)
    replaces walking the tree and reading the recipes the cache knows."""
    from orchestrator.recipes.render_cache import render_keys

    return render_keyed(workspace, render_keys(workspace, listing))


def render_keyed(workspace, keys) -> RenderResult:
    """The recipes of `keys`, from the render cache or rendered (in parallel) when missing."""
    from orchestrator.recipes import render_cache as rc

    cached = rc.load_cache(workspace.cache_dir)
    missing = [k for k in keys.items if k.key not in cached]
    describe = rc.describer(workspace.root)
    fresh = dict(zip([k.key for k in missing], rc.render_entries(
        [_work(workspace, k, describe) for k in missing]), strict=True))
    entries = {k.key: fresh.get(k.key) or cached[k.key] for k in keys.items}
    if fresh or len(entries) != len(cached):
        rc.save_cache(workspace.cache_dir, entries)
    results = [rc.as_result(entries[k.key], k.found.files) for k in keys.items]
    recipes = [(r, rc.digest_of_entry(entries[k.key]))
               for k, r in zip(keys.items, results, strict=True) if isinstance(r, Recipe)]
    ids = node_ids([r for r, _ in recipes])  # digests are looked up by graph node
    return RenderResult(
        tuple(r for r, _ in recipes),
        keys.errors + tuple(r for r in results if isinstance(r, RecipeError)),
        {node: d for node, (_, d) in zip(ids, recipes, strict=True) if d is not None},
    )


def _work(workspace, keyed, describe) -> tuple[RawRecipe, RenderContext]:
    """What rendering a missing entry takes: the recipe's text and its context."""
    from orchestrator.recipes import render_cache as rc

    raw = keyed.raw or read_recipe(workspace.root, keyed.found)
    return raw, rc.context_for(raw, workspace.root, rc.base_context(workspace), describe)
