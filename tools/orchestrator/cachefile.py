"""The storage format of every cache file under cache/render/: data, never code.

A cache file is two msgpack documents one after the other: a header `[MAGIC, FORMAT, kind,
key]` and the value (plain maps, arrays, strings, numbers). msgpack builds nothing but those
types, so a cache file committed to a repository or written by other code cannot run anything
when read (pickle could: issue 9). A file with another header (another format, another kind,
another key) or that does not parse is a miss, and so is a value of another shape: the callers
decode values inside `try` and treat the errors of `SHAPE_ERRORS` as a miss.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgpack

from orchestrator.files import replace_atomically

MAGIC = "orchestrate-cache"
FORMAT = 1
HEADER_BYTES = 4096  # a header is a few hundred bytes: enough to read the key alone
SHAPE_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError)


def write(file: Path, kind: str, key: str, value: Any) -> None:
    """`value` under a header naming `kind` and `key`, replacing `file` whole."""
    header = msgpack.packb([MAGIC, FORMAT, kind, key])
    replace_atomically(file, header + msgpack.packb(value, default=str))


def read(
    file: Path, kind: str, key: str | None = None, *, tuples: bool = False
) -> tuple[str, Any] | None:
    """(key, value) saved in `file` as `kind` (the value only when the key is `key`, if
    given); None when absent, unreadable, of another kind or format, or under another key.
    `tuples`: arrays are read as tuples (faster), else as lists."""
    try:
        data = file.read_bytes()
    except OSError:
        return None
    unpacker = _unpacker(data, tuples)
    found = _header_key(unpacker, kind)
    if found is None or (key is not None and found != key):
        return None
    try:
        return found, unpacker.unpack()
    except (msgpack.UnpackException, msgpack.OutOfData, *SHAPE_ERRORS):
        return None


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


def read_key(file: Path, kind: str) -> str | None:
    """The key `file` was saved under, reading only its beginning."""
    try:
        with open(file, "rb") as handle:
            data = handle.read(HEADER_BYTES)
    except OSError:
        return None
    return _header_key(_unpacker(data), kind)


def _unpacker(data: bytes, tuples: bool = False) -> msgpack.Unpacker:
    # strict_map_key=False: rendered YAML may have integer keys; still no code, only data.
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, use_list=not tuples,
                                max_buffer_size=len(data) + 1)
    unpacker.feed(data)
    return unpacker


def _header_key(unpacker: msgpack.Unpacker, kind: str) -> str | None:
    try:
        header = unpacker.unpack()
    except (msgpack.UnpackException, msgpack.OutOfData, *SHAPE_ERRORS):
        return None
    if not (isinstance(header, list | tuple) and len(header) == 4):
        return None
    magic, version, found_kind, key = header
    if (magic, version, found_kind) != (MAGIC, FORMAT, kind) or not isinstance(key, str):
        return None
    return key
