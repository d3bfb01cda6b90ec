"""The render cache on disk: the rendered entries by key, and the render index.

`recipes.msgpack` holds each render entry (entries.py) under its key (render_keys.py);
`index.msgpack` remembers what each recipe text reads besides itself (its `Needs`), so a warm
run reads no recipe. Both are data only (cachefile.py: nothing read from them can run code),
saved under the renderer's CODE_VERSION and replaced atomically; a file of another code or
shape is a miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from orchestrator import cachefile
from orchestrator.cachefile import collector_paused
from orchestrator.recipes.entries import Entry, decode_entry, encode_entry
from orchestrator.recipes.model import Requirement
from orchestrator.recipes.render_keys import CODE_VERSION, Needs

CACHE_FILE = "render/recipes.msgpack"
INDEX_FILE = "render/index.msgpack"


def load_cache(cache_dir: Path) -> dict[str, Entry]:
    """key → entry as last saved by this renderer's code; {} when absent or of another shape."""
    with collector_paused():
        saved = cachefile.read(cache_dir / CACHE_FILE, "render-entries", CODE_VERSION)
    if saved is None:
        return {}  # no cache yet, or unreadable: render again
    shared: dict[tuple, Requirement] = {}
    try:
        return {key: decode_entry(_entry(entry), shared) for key, entry in saved[1].items()}
    except cachefile.SHAPE_ERRORS:
        return {}


def _entry(value: list) -> Entry:
    kind, body = value
    if kind not in ("ok", "many", "error"):
        raise ValueError(f"not an entry: {kind!r}")
    return kind, tuple(body)


def save_cache(cache_dir: Path, entries: dict[str, Entry],
               encoded: Mapping[str, Entry] | None = None) -> None:
    """Write all entries as one file: a temporary file, then os.replace (atomic). `encoded`:
    the plain form of some of them, already made (by the process pool's workers)."""
    encoded = encoded or {}
    plain = {key: encoded.get(key) or encode_entry(entry) for key, entry in entries.items()}
    cachefile.write(cache_dir / CACHE_FILE, "render-entries", CODE_VERSION, plain)


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


def save_index(cache_dir: Path, index: dict[str, Needs]) -> None:
    cachefile.write(cache_dir / INDEX_FILE, "render-index", CODE_VERSION,
                    {k: tuple(v) for k, v in index.items()})
