"""The I/O around rendering: each recipe's RenderContext (describe, loaded files), the
content-keyed render cache and the process pool for misses.

A rendered recipe is keyed by everything it is a function of: the renderer's code, the
recipe's label, path, format and text, the platform and variant, the files it loads and git
describe when it uses them. The text is known by its git blob id when the caller has git's
file list, so a warm run reads no recipe: `index.pickle` remembers what each recipe text reads
(its `Needs`), `recipes.pickle` holds the rendered entries. Both files are replaced atomically.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import xxhash

from orchestrator.errors import RecipeError
from orchestrator.files import replace_atomically
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.discover import FoundRecipe, find_recipes, read_recipe
from orchestrator.recipes.model import Output, RawRecipe, Recipe, Requirement, Source


def _code_version() -> str:
    """A digest of the rendering code itself, so a changed renderer never serves stale entries
    (a hand-bumped constant was forgotten once: stale hashes, needless rebuilds)."""
    digest = xxhash.xxh3_64()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


CODE_VERSION = _code_version()
CACHE_FILE = "render/recipes.pickle"
INDEX_FILE = "render/index.pickle"
PARALLEL_FROM = 200  # below this, starting processes costs more than it saves
_LOADS = re.compile(r"""load_file_data\(\s*['"]([^'"]+)['"]""")

# ("ok", (Recipe without files, recipe_data_digest(data))) or ("error", (file, message, line,
# hint)); on disk a Recipe is plain tuples (see `_encode`): unpickling tuples is ~6x faster than
# dataclasses (5,000 recipes: ~40 ms + ~80 ms to rebuild the records, against ~250 ms).
Entry = tuple[str, object]


class Needs(NamedTuple):
    """What rendering a recipe text reads besides the text (found by reading the text once)."""

    loads: tuple[tuple[str, ...], ...]  # per `load_file_data` literal: its candidate paths
    describe: bool  # whether it uses GIT_DESCRIBE_* or GIT_BUILD_STR


def needs_of(raw: RawRecipe) -> Needs:
    from orchestrator.recipes.jinja_context import candidate_paths  # Jinja: only on a miss

    loads = tuple(tuple(candidate_paths(raw.directory, literal))
                  for literal in _LOADS.findall(raw.text))
    return Needs(loads, "GIT_DESCRIBE" in raw.text or "GIT_BUILD_STR" in raw.text)


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


def context_for(raw: RawRecipe, root: Path, base: RenderContext, describe) -> RenderContext:
    """`base` plus what this recipe reads: git describe (only when it mentions it), files."""
    needs = needs_of(raw)
    files = tuple(sorted(_loaded_files(needs, root).items()))
    described = describe(raw.directory) if needs.describe else None
    if not files and described is None:
        return base
    return RenderContext(base.platform, base.variant, described, files)


def _loaded_files(needs: Needs, root: Path) -> dict[str, str]:
    files = {}
    for candidates in needs.loads:
        for path in candidates:
            try:
                files[path] = (root / path).read_text(encoding="utf-8")
                break
            except (OSError, UnicodeDecodeError):
                continue
    return files


def file_id(root: Path, path: str) -> str | None:
    """A digest of a file's bytes; None when it cannot be read."""
    try:
        return xxhash.xxh3_128_hexdigest((root / path).read_bytes())
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
    from orchestrator.recipes.render import render_recipe

    try:
        recipe = render_recipe(raw, context)
        return "ok", (recipe, recipe_data_digest(recipe.data))
    except RecipeError as exc:
        return "error", (exc.file, exc.message, exc.line, exc.hint)


def _render_chunk(chunk: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    return [render_entry(raw, context) for raw, context in chunk]


def _render_chunk_encoded(chunk: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    """In a worker: entries as plain tuples, which cross the process boundary much faster."""
    return [_encoded(entry) for entry in _render_chunk(chunk)]


def _encoded(entry: Entry) -> Entry:
    return (entry[0], (_encode(entry[1][0]), entry[1][1])) if entry[0] == "ok" else entry


def _decoded(entry: Entry, shared: dict[tuple, Requirement] | None = None) -> Entry:
    if entry[0] != "ok":
        return entry
    return entry[0], (_decode(entry[1][0], shared), entry[1][1])


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
    try:
        with open(cache_dir / CACHE_FILE, "rb") as handle, collector_paused():
            version, entries = pickle.load(handle)
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
        return {}  # no cache yet, or unreadable: render again
    if version != CODE_VERSION:
        return {}
    shared: dict[tuple, Requirement] = {}
    return {key: _decoded(entry, shared) for key, entry in entries.items()}


def save_cache(cache_dir: Path, entries: dict[str, Entry]) -> None:
    """Write all entries as one file: a temporary file, then os.replace (atomic)."""
    encoded = {key: _encoded(entry) for key, entry in entries.items()}
    write_atomically(cache_dir / CACHE_FILE, (CODE_VERSION, encoded))


def load_index(cache_dir: Path) -> dict[str, Needs]:
    """text key → Needs, as last saved (the keys hold CODE_VERSION)."""
    try:
        with open(cache_dir / INDEX_FILE, "rb") as handle, collector_paused():
            return {key: Needs._make(needs) for key, needs in pickle.load(handle).items()}
    except (OSError, EOFError, ValueError, TypeError, AttributeError, pickle.UnpicklingError):
        return {}  # no index yet, or not one this code wrote: read the recipes again


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection while unpickling, and what was loaded is then left out of later
    collections (`gc.freeze`): a cache makes many long-lived acyclic objects, which the
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
    write_atomically(cache_dir / INDEX_FILE, {k: tuple(v) for k, v in index.items()})


def write_atomically(target: Path, *values: object) -> None:
    """`values` pickled one after the other into `target`, replaced whole."""
    document = b"".join(pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL) for v in values)
    replace_atomically(target, document)


def _encode(r: Recipe) -> tuple:
    outputs = tuple((o.name, o.version, o.build_number, o.noarch,
                     tuple((q.name, q.spec, q.section, q.line) for q in o.requirements),
                     o.run_exports)
                    for o in r.outputs)
    sources = tuple((s.kind, s.url, s.sha256, s.path, s.git_rev, s.patches, s.target_directory)
                    for s in r.sources)
    return r.target, r.path, r.format, outputs, sources, r.skipped, r.variant, r.data


def _decode(value: tuple, shared: dict[tuple, Requirement] | None = None) -> Recipe:
    """A Recipe from `_encode`'s tuples; equal requirements become one object across the
    recipes decoded with one `shared` dict (5,000 recipes: ~40,000 requirements, ~3,000
    distinct)."""
    shared = {} if shared is None else shared
    target, path, format_, outputs, sources, skipped, variant, data = value
    return Recipe(target, path, format_, tuple(
        Output(n, v, b, a, tuple(shared.get(q) or shared.setdefault(q, Requirement(*q))
                                 for q in reqs), exports)
        for n, v, b, a, reqs, exports in outputs), tuple(Source(*s) for s in sources),
        (), skipped, variant, data)


def as_result(entry: Entry, files: tuple[str, ...]) -> Recipe | RecipeError:
    kind, value = entry
    if kind == "ok":
        return replace(value[0], files=files)
    return RecipeError(*value)


def digest_of_entry(entry: Entry) -> str | None:
    return entry[1][1] if entry[0] == "ok" else None


# ---------------------------------------------------------------- keys of a workspace


def base_context(workspace) -> RenderContext:
    return RenderContext(workspace.platform, tuple(sorted(workspace.config.variant.items())))


@dataclass(frozen=True)
class Keyed:
    found: FoundRecipe
    key: str  # the render cache key of its entry
    raw: RawRecipe | None  # read when the cache index did not know its text


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
    root = workspace.root
    found, errors = find_recipes(root, workspace.config.workspace.roots,
                                 None if listing is None else sorted(listing))
    salt = render_salt(base_context(workspace))
    index = load_index(workspace.cache_dir) if index is None else index
    used: dict[str, Needs] = {}
    describe, items = describer(root), []
    for item in found:
        try:
            items.append(_keyed(item, root, salt, listing, (index, used), describe))
        except RecipeError as exc:
            errors.append(exc)
    if used.keys() != index.keys():
        save_index(workspace.cache_dir, used)
    return RenderKeys(tuple(items), tuple(errors))


def _keyed(item, root, salt, listing, indexes, describe) -> Keyed:
    """`item`'s entry key; `indexes`: the saved index and this run's (filled here)."""
    index, used = indexes
    blob = listing.get(item.path) if listing is not None else None
    raw = None if blob else read_recipe(root, item)
    key = text_key(item.target, item.path, item.format, blob or text_id(raw.text), salt)
    if key not in index:
        raw = raw or read_recipe(root, item)
    needs = used[key] = index[key] if key in index else needs_of(raw)

    def identify(path: str) -> str | None:
        return (listing or {}).get(path) or file_id(root, path)

    described = describe(item.path.rsplit("/", 1)[0]) if needs.describe else None
    return Keyed(item, entry_key(key, needs, identify, described), raw)


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
