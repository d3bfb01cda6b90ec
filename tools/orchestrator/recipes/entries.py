"""A render entry: what rendering one recipe text for one variant gave, and its plain form.

An entry is ("ok", (Recipe without files, digest of its data)), ("many", ((Recipe, digest),
...)) for a recipe.yaml that rattler-build multiplied, or ("error", (file, message, line,
hint)). Encoded, a Recipe is plain arrays: what crosses the process pool's boundary (much
faster than pickled records) and what the render cache writes (data, never code).
"""

from __future__ import annotations

from dataclasses import replace

from orchestrator.errors import RecipeError
from orchestrator.recipes.model import Output, Recipe, Requirement, Source

Entry = tuple[str, object]


def encode_entry(entry: Entry) -> Entry:
    if entry[0] == "many":
        return "many", tuple((encode_recipe(r), d) for r, d in entry[1])
    return (entry[0], (encode_recipe(entry[1][0]), entry[1][1])) if entry[0] == "ok" else entry


def decode_entry(entry: Entry, shared: dict[tuple, Requirement] | None = None) -> Entry:
    """The entry `encode_entry` gave; `shared` as for `decode_recipe`."""
    if entry[0] == "many":
        return "many", tuple((decode_recipe(r, shared), d) for r, d in entry[1])
    if entry[0] != "ok":
        return entry
    return entry[0], (decode_recipe(entry[1][0], shared), entry[1][1])


def encode_recipe(r: Recipe) -> tuple:
    """A Recipe as plain arrays (its `files` are not kept: the caller knows them)."""
    outputs = tuple((o.name, o.version, o.build_number, o.noarch,
                     tuple((q.name, q.spec, q.section, q.line) for q in o.requirements),
                     o.run_exports)
                    for o in r.outputs)
    sources = tuple((s.kind, s.url, s.sha256, s.path, s.git_rev, s.patches, s.target_directory)
                    for s in r.sources)
    top = tuple((q.name, q.spec, q.section, q.line) for q in r.top_requirements)
    return r.target, r.path, r.format, outputs, sources, r.skipped, r.variant, r.data, top


def decode_recipe(value, shared: dict[tuple, Requirement] | None = None) -> Recipe:
    """A Recipe from `encode_recipe`'s arrays (tuples, or lists once read back); equal
    requirements become one object across the recipes decoded with one `shared` dict
    (5,000 recipes: ~40,000 requirements, ~3,000 distinct)."""
    shared = {} if shared is None else shared
    target, path, format_, outputs, sources, skipped, variant, data, top = value
    if not isinstance(data, dict):
        raise TypeError("recipe data is not a map")
    return Recipe(target, path, format_, tuple(
        Output(n, v, b, a, _requirements_of(reqs, shared), tuple(exports))
        for n, v, b, a, reqs, exports in outputs), tuple(_source(*s) for s in sources),
        (), bool(skipped), tuple((k, v) for k, v in variant), data, _requirements_of(top, shared))


def _requirements_of(reqs, shared: dict[tuple, Requirement]) -> tuple[Requirement, ...]:
    """Requirement objects from (name, spec, section, line) arrays, one object per distinct
    value."""
    found = []
    for q in reqs:
        q = tuple(q)
        found.append(shared.get(q) or shared.setdefault(q, Requirement(*q)))
    return tuple(found)


def _source(kind, url, sha256, path, git_rev, patches, target_directory) -> Source:
    return Source(kind, url, sha256, path, git_rev, tuple(patches), target_directory)


def as_results(entry: Entry, files: tuple[str, ...]) -> list[Recipe | RecipeError]:
    """The recipes of an entry (one per variant), or its error."""
    if entry[0] == "many":
        return [replace(recipe, files=files) for recipe, _ in entry[1]]
    kind, value = entry
    if kind == "ok":
        return [replace(value[0], files=files)]
    return [RecipeError(*value)]


def digests_of_entry(entry: Entry) -> list[str | None]:
    """The digest of each recipe `as_results` gives for `entry` (None for its error)."""
    if entry[0] == "many":
        return [digest for _, digest in entry[1]]
    return [entry[1][1] if entry[0] == "ok" else None]
