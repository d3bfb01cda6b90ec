"""The I/O around rendering: each recipe's RenderContext (describe, loaded files), the
content-keyed render cache (one file, replaced atomically) and the process pool for misses.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import xxhash

from orchestrator.errors import RecipeError
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.jinja_context import candidate_paths
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
PARALLEL_FROM = 200  # below this, starting processes costs more than it saves
_LOADS = re.compile(r"""load_file_data\(\s*['"]([^'"]+)['"]""")

# ("ok", Recipe without files) or ("error", (file, message, line, hint)); on disk a Recipe is
# plain tuples (see `_encode`): unpickling tuples is ~6x faster than dataclasses (5,000 recipes:
# ~40 ms + ~80 ms to rebuild the records, against ~250 ms).
Entry = tuple[str, object]


def context_for(raw: RawRecipe, root: Path, base: RenderContext, describe) -> RenderContext:
    """`base` plus what this recipe reads: git describe (only when it mentions it), files."""
    files = tuple(sorted(_loaded_files(raw, root).items()))
    described = describe(raw.directory) if "GIT_DESCRIBE" in raw.text else None
    if not files and described is None:
        return base
    return RenderContext(base.platform, base.variant, described, files)


def _loaded_files(raw: RawRecipe, root: Path) -> dict[str, str]:
    files = {}
    for literal in _LOADS.findall(raw.text):
        for path in candidate_paths(raw.directory, literal):
            try:
                files[path] = (root / path).read_text(encoding="utf-8")
                break
            except (OSError, UnicodeDecodeError):
                continue
    return files


def cache_key(raw: RawRecipe, context: RenderContext) -> str:
    document = (CODE_VERSION, raw.target, raw.path, raw.format, raw.text, context)
    return xxhash.xxh3_128_hexdigest(repr(document).encode())


def render_entry(raw: RawRecipe, context: RenderContext) -> Entry:
    from orchestrator.recipes.render import render_recipe

    try:
        return "ok", render_recipe(raw, context)
    except RecipeError as exc:
        return "error", (exc.file, exc.message, exc.line, exc.hint)


def _render_chunk(chunk: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    return [render_entry(raw, context) for raw, context in chunk]


def _render_chunk_encoded(chunk: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    """In a worker: entries as plain tuples, which cross the process boundary much faster."""
    return [_encoded(entry) for entry in _render_chunk(chunk)]


def _encoded(entry: Entry) -> Entry:
    return (entry[0], _encode(entry[1])) if entry[0] == "ok" else entry


def _decoded(entry: Entry) -> Entry:
    return (entry[0], _decode(entry[1])) if entry[0] == "ok" else entry


def render_entries(work: list[tuple[RawRecipe, RenderContext]]) -> list[Entry]:
    """Entries for `work`, in order; in a process pool when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(work) < PARALLEL_FROM or workers < 2:
        return _render_chunk(work)
    size = -(-len(work) // (workers * 4))
    chunks = [work[i:i + size] for i in range(0, len(work), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [_decoded(e) for done in pool.map(_render_chunk_encoded, chunks) for e in done]


def load_cache(cache_dir: Path) -> dict[str, Entry]:
    try:
        with open(cache_dir / CACHE_FILE, "rb") as handle:
            version, entries = pickle.load(handle)
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
        return {}  # no cache yet, or unreadable: render again
    if version != CODE_VERSION:
        return {}
    return {key: _decoded(entry) for key, entry in entries.items()}


def save_cache(cache_dir: Path, entries: dict[str, Entry]) -> None:
    """Write all entries as one file: a temporary file, then os.replace (atomic)."""
    encoded = {key: _encoded(entry) for key, entry in entries.items()}
    document = pickle.dumps((CODE_VERSION, encoded), protocol=pickle.HIGHEST_PROTOCOL)
    target = cache_dir / CACHE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".recipes-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(document)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _encode(r: Recipe) -> tuple:
    outputs = tuple((o.name, o.version, o.build_number, o.noarch,
                     tuple((q.name, q.spec, q.section) for q in o.requirements), o.run_exports)
                    for o in r.outputs)
    sources = tuple((s.kind, s.url, s.sha256, s.path, s.git_rev, s.patches, s.target_directory)
                    for s in r.sources)
    return r.target, r.path, r.format, outputs, sources, r.skipped, r.variant, r.data


def _decode(value: tuple) -> Recipe:
    target, path, format_, outputs, sources, skipped, variant, data = value
    return Recipe(target, path, format_, tuple(
        Output(n, v, b, a, tuple(Requirement(*q) for q in reqs), exports)
        for n, v, b, a, reqs, exports in outputs), tuple(Source(*s) for s in sources),
        (), skipped, variant, data)


def as_result(entry: Entry, files: tuple[str, ...]) -> Recipe | RecipeError:
    kind, value = entry
    if kind == "ok":
        return replace(value, files=files)
    return RecipeError(*value)
