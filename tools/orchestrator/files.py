"""Writing a file so that readers see the old content or the new, whole: the one way every
cache, record, report and repodata copy of orchestrate is written."""

from __future__ import annotations

import os
import secrets
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
