"""The I/O around rendering: each recipe's RenderContext (describe, loaded files), the
content-keyed render cache and the process pool for misses.

A rendered recipe is keyed by everything it is a function of: the renderer's code, the
recipe's label, path, format and text, the platform and variant, the files it loads and git
describe when it uses them. The text is known by its git blob id when the caller has git's
file list, so a warm run reads no recipe: `index.msgpack` remembers what each recipe text reads
(its `Needs`), `recipes.msgpack` holds the rendered entries. Both are data only (cachefile.py:
nothing read from them can run code) and replaced atomically.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import xxhash

from orchestrator import cachefile
from orchestrator.errors import RecipeError
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.discover import FoundRecipe, find_recipes, read_recipe
from orchestrator.recipes.model import Output, RawRecipe, Recipe, Requirement, Source
from orchestrator.recipes.v1_variants import recipe_variant_paths


def _code_version() -> str:
    """A digest of the rendering code itself, so a changed renderer never serves stale entries
    (a hand-bumped constant was forgotten once: stale hashes, needless rebuilds)."""
    digest = xxhash.xxh3_64()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


CODE_VERSION = _code_version()
CACHE_FILE = "render/recipes.msgpack"
INDEX_FILE = "render/index.msgpack"
_SETUP_DEFAULT = re.compile(r"load_setup_py_data\(\s*\)")  # reads setup.py by default
PARALLEL_FROM = 200  # below this, starting processes costs more than it saves
_LOADS = re.compile(
    r"""load_(?:file_data|file_regex|setup_py_data)\(\s*(?:load_file\s*=\s*|setup_file\s*=\s*)?"""
    r"""['"]([^'"]+)['"]""")

# ("ok", (Recipe without files, recipe_data_digest(data))) or ("error", (file, message, line,
# hint)); on disk a Recipe is plain arrays (see `encode_recipe`).
Entry = tuple[str, object]


class Needs(NamedTuple):
    """What rendering a recipe text reads besides the text (found by reading the text once)."""

    loads: tuple[tuple[str, ...], ...]  # per `load_file_data` literal: its candidate paths
    describe: bool  # whether it uses GIT_DESCRIBE_* or GIT_BUILD_STR
    used: tuple[str, ...] = ()  # the variant keys it uses (see variant_config.used_keys)
    inputs: tuple = ()  # ids of the recipe's conda_build_config.yaml and build.sh `used` saw
    noarch: bool = False  # a noarch meta.yaml: built with the newest python only


def needs_of(raw: RawRecipe, space=None, scripts=(), inputs=()) -> Needs:
    from orchestrator.recipes.jinja_context import candidate_paths  # Jinja: only on a miss
    from orchestrator.recipes.variant_config import used_keys

    literals = _LOADS.findall(raw.text) + ["setup.py"] * bool(_SETUP_DEFAULT.search(raw.text))
    loads = tuple(tuple(candidate_paths(raw.directory, literal)) for literal in literals)
    if raw.format == "recipe.yaml":  # its own variant files, which rattler-build reads too
        loads += tuple((path,) for path in recipe_variant_paths(raw.directory))
    # a recipe.yaml is multiplied by rattler-build itself (render_recipes): one entry here
    noarch = raw.format == "meta.yaml" and _noarch(raw.text)
    used = frozenset() if space is None or raw.format != "meta.yaml" else used_keys(
        space, raw.text, scripts, noarch)
    return Needs(loads, "GIT_DESCRIBE" in raw.text or "GIT_BUILD_STR" in raw.text,
                 tuple(sorted(used)), tuple(inputs), noarch)


def _noarch(text: str) -> bool:
    return re.search(r"^\s*noarch:\s*\S", text, re.M) is not None and "outputs:" not in text


def render_salt(base: RenderContext) -> str:
    """What every key of a run shares: the renderer's code, the platform and the variant."""
    return xxhash.xxh3_128_hexdigest(repr((CODE_VERSION, base)).encode())


def text_key(target: str, path: str, format_: str, text_id: str, salt: str) -> str:
    """The key of a recipe text (known by `text_id`: its blob id or a digest of the text)."""
    return xxhash.xxh3_128_hexdigest(f"{salt}\0{target}\0{path}\0{format_}\0{text_id}".encode())


def text_id(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(text.encode())


def entry_key(key: str, needs: Needs, file_id, described: tuple | None) -> str:
    """The key of a rendered entry: the text's key, the state of every file it may load
    (`file_id(path)`: a blob id or digest, None when absent) and git describe if it uses it."""
    if not needs.loads and described is None:
        return key  # a recipe that reads nothing else is a function of its text alone
    files = tuple(tuple(file_id(p) for p in candidates) for candidates in needs.loads)
    return xxhash.xxh3_128_hexdigest(repr((key, files, described)).encode())


def context_for(raw: RawRecipe, root: Path, keyed: Keyed, describe) -> RenderContext:
    """The context of one variant of a recipe: the variant's values over the first value of
    every other key, git describe (only when it mentions it), the files it loads."""
    needs = needs_of(raw)
    loaded, refused = _loaded_files(needs, root)
    described = describe(raw.directory) if needs.describe else None
    base = _variant_context(keyed.platform, keyed.space, keyed.variant)
    if raw.format == "recipe.yaml":
        base = replace(base, variant_texts=keyed.v1[0], inline=keyed.v1[1])
    if not loaded and not refused and described is None:
        return base  # shared: the process pool pickles one object for many recipes
    return replace(base, describe=described, files=tuple(sorted(loaded.items())),
                   refused=tuple(sorted(refused.items())))


@lru_cache(maxsize=1024)
def _variant_context(platform: str, space, variant: tuple) -> RenderContext:
    values = tuple(sorted((space.first() | dict(variant)).items()))
    return RenderContext(platform, values, variant_files=space.files,
                         used=tuple(k for k, _ in variant))


def _loaded_files(needs: Needs, root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(path → text, path → why refused) of the files the loaders may read: inside the
    workspace only, symlinks resolved (issue 9: `load_file_data("/etc/passwd")`)."""
    from orchestrator.recipes.paths import OutsideWorkspace, read_inside

    files, refused = {}, {}
    for candidates in needs.loads:
        for path in candidates:
            try:
                files[path] = read_inside(root, path)
                break
            except OutsideWorkspace as exc:
                refused[path] = str(exc)
                break
            except (OSError, UnicodeDecodeError):
                continue
    return files, refused


def file_id(root: Path, path: str) -> str | None:
    """A digest of a file's bytes; None when it cannot be read; where it resolves to when that
    is outside the workspace (which is never read)."""
    from orchestrator.recipes.paths import OutsideWorkspace, resolve_inside

    try:
        return xxhash.xxh3_128_hexdigest((root / resolve_inside(root, path)).read_bytes())
    except OutsideWorkspace as exc:
        return f"outside:{exc.target}"
    except OSError:
        return None


def canonical_digest(document: Any) -> str:
    """blake2b over canonical JSON (sorted keys, no spaces): what target hashes are made of."""
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )
    return hashlib.blake2b(text.encode("utf-8"), digest_size=32).hexdigest()


def recipe_data_digest(data: dict) -> str:
    """The digest of a rendered recipe tree, computed once and kept with its cache entry."""
    return canonical_digest(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def render_entry(raw: RawRecipe, context: RenderContext) -> Entry:
    from orchestrator.recipes.render import render_recipes

    try:
        recipes = render_recipes(raw, context)
        if len(recipes) > 1:  # a recipe.yaml that rattler-build multiplied: one per variant
            return "many", tuple((r, recipe_data_digest(r.data)) for r in recipes)
        return "ok", (recipes[0], recipe_data_digest(recipes[0].data))
    except RecipeError as exc:
        return "error", (exc.file, exc.message, exc.line, exc.hint)


def _render_chunk(chunk: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    return [render_entry(raw, context) for raw, context in chunk]


def _render_chunk_encoded(chunk: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    """In a worker: entries as plain tuples, which cross the process boundary much faster."""
    return [_encoded(entry) for entry in _render_chunk(chunk)]


def _encoded(entry: Entry) -> Entry:
    if entry[0] == "many":
        return "many", tuple((encode_recipe(r), d) for r, d in entry[1])
    return (entry[0], (encode_recipe(entry[1][0]), entry[1][1])) if entry[0] == "ok" else entry


def _decoded(entry: Entry, shared: dict[tuple, Requirement] | None = None) -> Entry:
    if entry[0] == "many":
        return "many", tuple((decode_recipe(r, shared), d) for r, d in entry[1])
    if entry[0] != "ok":
        return entry
    return entry[0], (decode_recipe(entry[1][0], shared), entry[1][1])


def render_entries(work: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    """Entries for `work`, in order; in a process pool when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(work) < PARALLEL_FROM or workers < 2:
        return _render_chunk(work)
    size = -(-len(work) // (workers * 4))
    chunks = [work[i:i + size] for i in range(0, len(work), size)]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        shared: dict[tuple, Requirement] = {}
        return [_decoded(e, shared) for done in pool.map(_render_chunk_encoded, chunks)
                for e in done]


def load_cache(cache_dir: Path) -> dict[str, Entry]:
    """key → entry as last saved by this renderer's code; {} when absent or of another shape."""
    with collector_paused():
        saved = cachefile.read(cache_dir / CACHE_FILE, "render-entries", CODE_VERSION)
    if saved is None:
        return {}  # no cache yet, or unreadable: render again
    shared: dict[tuple, Requirement] = {}
    try:
        return {key: _decoded(_entry(entry), shared) for key, entry in saved[1].items()}
    except cachefile.SHAPE_ERRORS:
        return {}


def _entry(value: list) -> Entry:
    kind, body = value
    if kind not in ("ok", "many", "error"):
        raise ValueError(f"not an entry: {kind!r}")
    return kind, tuple(body)


def save_cache(cache_dir: Path, entries: dict[str, Entry]) -> None:
    """Write all entries as one file: a temporary file, then os.replace (atomic)."""
    encoded = {key: _encoded(entry) for key, entry in entries.items()}
    cachefile.write(cache_dir / CACHE_FILE, "render-entries", CODE_VERSION, encoded)


def load_index(cache_dir: Path) -> dict[str, Needs]:
    """text key → Needs, as last saved (the keys hold CODE_VERSION)."""
    with collector_paused():
        saved = cachefile.read(cache_dir / INDEX_FILE, "render-index", CODE_VERSION)
    try:
        return {key: _needs(*needs) for key, needs in saved[1].items()} if saved else {}
    except cachefile.SHAPE_ERRORS:
        return {}  # not one this code wrote: read the recipes again


def _needs(loads: list, describe: bool, used: list = (), inputs: list = (),
           noarch: bool = False) -> Needs:
    if not isinstance(describe, bool) or not isinstance(noarch, bool):
        raise TypeError("describe or noarch is not a bool")
    return Needs(tuple(tuple(str(p) for p in candidates) for candidates in loads), describe,
                 tuple(str(k) for k in used), tuple(_frozen(i) for i in inputs), noarch)


def _frozen(value):
    """msgpack gives lists back where tuples were saved."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection while loading a cache, and what was loaded is then left out of
    later collections (`gc.freeze`): a cache makes many long-lived acyclic objects, which the
    collector would walk again and again (it halves the time of loading 5,000 recipes, and
    spares each later collection of the run walking them)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def save_index(cache_dir: Path, index: dict[str, Needs]) -> None:
    cachefile.write(cache_dir / INDEX_FILE, "render-index", CODE_VERSION,
                    {k: tuple(v) for k, v in index.items()})


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
        Output(n, v, b, a, requirements_of(reqs, shared), tuple(exports))
        for n, v, b, a, reqs, exports in outputs), tuple(_source(*s) for s in sources),
        (), bool(skipped), tuple((k, v) for k, v in variant), data, requirements_of(top, shared))


def requirements_of(reqs, shared: dict[tuple, Requirement]) -> tuple[Requirement, ...]:
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
    return [as_result(entry, files)]


def as_result(entry: Entry, files: tuple[str, ...]) -> Recipe | RecipeError:
    kind, value = entry
    if kind == "ok":
        return replace(value[0], files=files)
    return RecipeError(*value)


def digests_of_entry(entry: Entry) -> list[str | None]:
    """The digest of each recipe `as_results` gives for `entry` (None for its error)."""
    if entry[0] == "many":
        return [digest for _, digest in entry[1]]
    return [entry[1][1] if entry[0] == "ok" else None]


# ---------------------------------------------------------------- keys of a workspace


def base_context(workspace) -> RenderContext:
    from orchestrator.recipes.variant_config import workspace_space

    space = workspace_space(workspace)
    return RenderContext(workspace.platform, tuple(sorted(space.first().items())),
                         variant_files=space.files)


@dataclass(frozen=True)
class Keyed:
    """One variant of one recipe, and the render cache key of its entry."""

    found: FoundRecipe
    key: str  # the render cache key of its entry
    raw: RawRecipe | None  # read when the cache index did not know its text
    variant: tuple = ()  # the values of the variant keys the recipe uses, sorted
    space: Any = None  # the recipe's VariantSpace (the workspace's plus its own config)
    platform: str = "linux-64"
    v1: tuple = ((), ())  # recipe.yaml: the workspace's variant files (path, text), [variant]


@dataclass(frozen=True)
class RenderKeys:
    """Each recipe found and its cache key: what a render of the workspace is a function of."""

    items: tuple[Keyed, ...]
    errors: tuple[RecipeError, ...]

    def digest(self) -> str:
        """Changes exactly when the RenderResult can change (a directory's file list too)."""
        state = ([(k.key, k.found.files) for k in self.items], [str(e) for e in self.errors])
        return xxhash.xxh3_128_hexdigest(repr(state).encode())


def render_keys(
    workspace, listing: Mapping[str, str] | None = None, index: dict[str, Needs] | None = None
) -> RenderKeys:
    """The cache key of every recipe, reading only the recipes the cache index does not know
    (`index`: `load_index(workspace.cache_dir)` when the caller has read it already)."""
    from orchestrator.recipes.variant_config import workspace_space
    from orchestrator.workspace import WORKSPACE_FILE, missing_roots

    root = workspace.root
    found, errors = find_recipes(root, workspace.config.workspace.roots,
                                 None if listing is None else sorted(listing))
    errors += [RecipeError(str(root / WORKSPACE_FILE), f"workspace.roots: '{r}' is not a "
                           "directory of the workspace") for r in missing_roots(workspace)]
    try:
        space = workspace_space(workspace)
    except RecipeError as exc:  # a variant file that cannot be read: nothing can render
        return RenderKeys((), (*errors, exc))
    salt = render_salt(RenderContext(workspace.platform, space.values, None, (), space.files))
    v1 = v1_variant_inputs(workspace, space)
    index = load_index(workspace.cache_dir) if index is None else index
    used: dict[str, Needs] = {}
    describe, items = describer(root), []
    for item in found:
        try:
            items.extend(_keyed(item, (root, space, workspace.platform, v1), salt, listing,
                                (index, used), describe))
        except RecipeError as exc:
            errors.append(exc)
    if used.keys() != index.keys():
        save_index(workspace.cache_dir, used)
    return RenderKeys(tuple(items), tuple(errors))


def _keyed(item, where, salt, listing, indexes, describe) -> list[Keyed]:
    """`item`'s variants and their entry keys; `where`: (root, workspace VariantSpace,
    platform); `indexes`: the saved index and this run's (filled here)."""
    from orchestrator.recipes import variant_config as vc

    root, space, platform, v1 = where
    index, used = indexes
    blob = listing.get(item.path) if listing is not None else None
    raw = None if blob else read_recipe(root, item)
    key = text_key(item.target, item.path, item.format, blob or text_id(raw.text), salt)

    def identify(path: str) -> str | None:
        return (listing or {}).get(path) or file_id(root, path)

    inputs = vc.recipe_inputs(item, identify)
    if key not in index or tuple(index[key].inputs) != inputs:
        raw = raw or read_recipe(root, item)
    space = vc.recipe_space(root, item, space, platform)
    if key in index and tuple(index[key].inputs) == inputs:
        needs = index[key]
    else:
        needs = needs_of(raw, space, vc.recipe_scripts(root, item), inputs)
    used[key] = needs
    described = describe(item.path.rsplit("/", 1)[0]) if needs.describe else None
    base = entry_key(key, needs, identify, described)
    variants = vc.combinations(space, frozenset(needs.used), needs.noarch)
    if len(variants) == 1 and not any(inputs):  # the text and the salt decide its one variant
        return [Keyed(item, base, raw, variants[0], space, platform, v1)]
    return [Keyed(item, _variant_key(base, variant, inputs), raw, variant, space, platform, v1)
            for variant in variants]


def v1_variant_inputs(workspace, space) -> tuple:
    """What rattler-build's own loaders read for a recipe.yaml: the workspace's variant files
    as text (already read once, inside the workspace, by `workspace_space`) and [variant]."""
    from orchestrator.recipes.paths import read_inside

    texts = tuple((path, read_inside(workspace.root, path)) for path in space.files)
    inline = tuple(sorted((k, tuple(v) if isinstance(v, list | tuple) else v)
                          for k, v in workspace.config.variant.items()))
    return texts, inline


def _variant_key(base: str, variant: tuple, inputs: tuple) -> str:
    return xxhash.xxh3_128_hexdigest(repr((base, variant, inputs)).encode())


def describer(root):
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
