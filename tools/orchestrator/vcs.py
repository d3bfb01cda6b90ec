"""The only module that talks to git (through GitPython): describe, changed paths, blob ids."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from orchestrator.errors import VcsError


class Describe(NamedTuple):
    tag: str
    number: str
    hash: str


NO_DESCRIBE = Describe("", "", "")


def _repo(root: Path):
    import git  # GitPython is imported only by commands that need git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def parse_describe(text: str) -> Describe:
    """`v1.2-3-gabc1234` → Describe("v1.2", "3", "gabc1234"); a bare tag has number 0."""
    parts = text.strip().rsplit("-", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].startswith("g"):
        return Describe(parts[0], parts[1], parts[2])
    return Describe(text.strip(), "0", "") if text.strip() else NO_DESCRIBE


def describe_tags(root: Path, path: str = ".") -> Describe:
    """`git describe --tags --long` of the commit that last touched `path`; empty without a tag."""
    import git

    repo = _repo(root)
    if repo is None:
        return NO_DESCRIBE
    try:
        return parse_describe(repo.git.describe("--tags", "--long", "HEAD"))
    except git.GitCommandError:
        return NO_DESCRIBE
    except ValueError as exc:  # an empty repository has no HEAD
        raise VcsError(f"{root}: git describe failed: {exc}") from None
