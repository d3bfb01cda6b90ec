"""The caches of a plan besides the render cache: the graph snapshot and the target hashes.

The graph snapshot (`cache/render/graph.msgpack`) is the graph of the last run with the digest
of each rendered recipe, keyed by the render keys of every recipe (their texts, the files they
load, the file lists of their directories) and the code that built it: a warm `plan`, `why` or
`graph` reads it instead of the render cache and `build_graph`. Its recipes carry no `data`
(hashes use the digests): what needs `data` (builders) renders through `compute_plan`.
The target hashes (`cache/render/hashes.msgpack`) are keyed by all they are a function of
(`hashes_key`). Both hold data only (cachefile.py; snapshot.py is the graph's codec) and are
written check, lock, check again, then replaced atomically; readers never wait for the lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator import cachefile, snapshot
from orchestrator.graph import TargetGraph
from orchestrator.hashing import HASH_VERSION, FileIndex
from orchestrator.snapshot import Snapshot, strings_map

SNAPSHOT_FILE = "render/graph.msgpack"
HASHES_FILE = "render/hashes.msgpack"
SNAPSHOT_KIND = "graph-snapshot"
HASHES_KIND = "target-hashes"
# The code the target hashes are computed by: hashing.py, planning.py, which gathers their
# inputs (`hash_workspace`; read, not imported: it imports this module), and this module.
_HASHING_CODE = ("hashing.py", "planning.py", "plan_caches.py")


def snapshot_key(render_keys_digest: str) -> str:
    """The render keys and the code that turns rendered recipes into a graph."""
    import xxhash

    from orchestrator import cycles, edges, graph
    from orchestrator.recipes.render_keys import CODE_VERSION

    modules = (graph, edges, cycles, cachefile, snapshot)
    code = b"".join(Path(m.__file__).read_bytes() for m in modules)
    code += Path(__file__).read_bytes()
    return xxhash.xxh3_128_hexdigest(repr((render_keys_digest, CODE_VERSION)).encode() + code)


def read_snapshot(cache_dir: Path) -> tuple[str, Any] | None:
    """The saved snapshot as read, not decoded: (its key, its value), or None. Decoding waits
    for `snapshot_under`, once the caller knows the key of this state of the workspace."""
    with cachefile.collector_paused():
        return cachefile.read(cache_dir / SNAPSHOT_FILE, SNAPSHOT_KIND, tuples=True)


def saved_key(cache_dir: Path) -> str | None:
    """The key the snapshot was saved under, reading only the file's beginning."""
    return cachefile.read_key(cache_dir / SNAPSHOT_FILE, SNAPSHOT_KIND)


def snapshot_under(saved: tuple[str, Any] | None, key: str) -> Snapshot | None:
    """The snapshot `read_snapshot` gave, if it was saved under `key`; None when it was not or
    is of another shape."""
    if saved is None or saved[0] != key:
        return None
    try:
        return snapshot.decode(saved[1])
    except cachefile.SHAPE_ERRORS:
        return None


def save_snapshot(cache_dir: Path, key: str, tg: TargetGraph, digests: Mapping[str, str]) -> None:
    """The graph without the recipes' `data` (the bulk of it), as plain arrays."""
    _save_cached(cache_dir / SNAPSHOT_FILE, SNAPSHOT_KIND, key, snapshot.encode(tg, digests))


def hashes_key(graph_key: str, files: FileIndex, settings: tuple) -> str:
    """What the target hashes of a graph are a function of: the graph (its snapshot key), every
    file's blob id, the build `settings` and the hashing code."""
    import xxhash

    blobs = [files.digests[p] for p in files.paths]
    document = (graph_key, files.paths, blobs, settings, HASH_VERSION)
    code = b"".join(Path(__file__).with_name(name).read_bytes() for name in _HASHING_CODE)
    return xxhash.xxh3_128_hexdigest(repr(document).encode() + code)


def read_hashes(cache_dir: Path, key: str) -> dict[str, str] | None:
    """The target hashes saved under `key`; None when absent, under another key or malformed."""
    saved = cachefile.read(cache_dir / HASHES_FILE, HASHES_KIND, key)
    try:
        return strings_map(saved[1]) if saved is not None else None
    except cachefile.SHAPE_ERRORS:
        return None


def save_hashes(cache_dir: Path, key: str, hashes: Mapping[str, str]) -> None:
    _save_cached(cache_dir / HASHES_FILE, HASHES_KIND, key, dict(hashes))


def _save_cached(file: Path, kind: str, key: str, value: object) -> None:
    """`value` saved under `key` (in the header, so a reader can check it alone): check, lock,
    check again, then replace the file atomically; readers never wait for the lock."""
    from filelock import FileLock

    from orchestrator.errors import FileWriteError

    if cachefile.read_key(file, kind) == key:
        return
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{file}.lock"):
            if cachefile.read_key(file, kind) != key:
                cachefile.write(file, kind, key, value)
    except FileWriteError:
        raise
    except OSError as exc:  # the lock file: a full disk or a read-only cache/
        raise FileWriteError(f"{file}.lock", exc) from None
