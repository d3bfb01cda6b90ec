"""Paths a recipe names resolve inside the workspace only (issue 9): absolute paths, `..` that
leaves it, and symlinks whose target is outside are errors naming both paths; a symlink whose
target is inside is followed."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path


class OutsideWorkspace(Exception):
    """`path` (workspace-relative as written) resolves to `target`, outside the workspace."""

    def __init__(self, path: str, target: str):
        super().__init__(f"{path} resolves to {target}, outside the workspace")
        self.path, self.target = path, target


def resolve_inside(root: Path, path: str) -> str:
    """The workspace-relative POSIX path `path` (relative to the root) resolves to, symlinks
    followed; OutsideWorkspace when it is absolute, climbs out, or a link points outside."""
    if posixpath.isabs(path) or os.path.isabs(path):
        raise OutsideWorkspace(path, path)
    joined = posixpath.normpath(path)
    if joined == ".." or joined.startswith("../"):
        raise OutsideWorkspace(path, str(Path(root, joined).resolve()))
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, joined))
    if target != real_root and not target.startswith(real_root + os.sep):
        raise OutsideWorkspace(path, target)
    return Path(os.path.relpath(target, real_root)).as_posix()


def read_inside(root: Path, path: str) -> str:
    """The text of the file at workspace-relative `path`, inside the workspace only."""
    return Path(os.path.realpath(root), resolve_inside(root, path)).read_text(encoding="utf-8")
