"""Files as orchestrate writes and identifies them: written so that readers see the old content
or the new, whole (the one way every cache, record, report and repodata copy is written), and
known by a digest of their bytes where git's blob ids are not at hand."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from orchestrator.errors import FileWriteError


def replace_atomically(path: Path, data: bytes) -> None:
    """Write beside `path` under a temporary name, then os.replace it into place.

    (Not tempfile.mkstemp: its files are private (0600); these follow the umask like any file.)
    A full disk or an unwritable directory is a FileWriteError naming `path`.
    """
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(6)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "xb") as out:
            out.write(data)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise FileWriteError(path, exc) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def file_id(root: Path, path: str) -> str | None:
    """A digest of the bytes of the file at workspace-relative `path`; None when it cannot be
    read; where it resolves to when that is outside the workspace (which is never read)."""
    import xxhash

    from orchestrator.recipes.paths import OutsideWorkspace, resolve_inside

    try:
        return xxhash.xxh3_128_hexdigest((root / resolve_inside(root, path)).read_bytes())
    except OutsideWorkspace as exc:
        return f"outside:{exc.target}"
    except OSError:
        return None


def changed_paths(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """The paths whose id differs between two listings (path → blob id), come or gone too."""
    return [p for p in before.keys() | after.keys() if before.get(p) != after.get(p)]
