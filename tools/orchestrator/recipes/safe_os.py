"""`os` as recipes see it (templates and selectors): the fixed environment and the separators,
pure path arithmetic, never the real `os` module or the process's environment."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OsPath:
    """`os.path`: nothing here touches the disk."""

    join = staticmethod(posixpath.join)
    basename = staticmethod(posixpath.basename)
    dirname = staticmethod(posixpath.dirname)
    splitext = staticmethod(posixpath.splitext)
    normpath = staticmethod(posixpath.normpath)
    sep: str = "/"


@dataclass(frozen=True)
class OsModule:
    """`os`: `environ` is the documented mapping a RenderContext gives (see CONTRACTS.md)."""

    environ: dict = field(default_factory=dict)
    sep: str = "/"
    pathsep: str = ":"
    linesep: str = "\n"
    path: OsPath = OsPath()
    # what a selector may read of it (`os.environ.get("CF_CUDA_ENABLED", "False")`)
    selector_attributes = frozenset({"environ", "sep", "pathsep", "linesep"})

    def getenv(self, key: str, default: Any = None) -> Any:
        return self.environ.get(key, default)


def os_for(platform: str, environ: dict) -> OsModule:
    return OsModule(environ, pathsep=";" if platform.startswith("win") else ":")
