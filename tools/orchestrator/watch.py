"""Which files of a workspace changed since they were last read: inotify, for the server.

The kernel queues an inotify event inside the system call that changed the file, so a `drain`
after a client's request sees every change made before it (no cookie file, no settling delay:
what watchman needs on other systems). What cannot be told file by file says "everything":
an overflowing queue, a directory moved (its watches would name the wrong paths), a watch the
kernel refused (too many directories), a change in git's own directory (the index, HEAD,
refs: git's view of every file may have moved) and a changed .gitignore. The workspace's cache
is not watched: nothing in it is an input.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inotify_simple import INotify, flags

_CHANGES = (flags.MODIFY | flags.ATTRIB | flags.CLOSE_WRITE | flags.CREATE | flags.DELETE
            | flags.MOVED_FROM | flags.MOVED_TO | flags.DELETE_SELF | flags.MOVE_SELF)
_GIT_NAMES = ("index", "HEAD", "packed-refs")  # what git's view of the files is made of
_GIT_DIRS = ("refs", "info")  # refs: describe and --changed-since; info/exclude: ignores


@dataclass(frozen=True)
class Changes:
    """What changed since the last drain: `paths` (files or directories, relative to the
    root), or everything (`paths` None); `gone` when the root itself was deleted or moved."""

    paths: frozenset[str] | None
    gone: bool = False

    @property
    def everything(self) -> bool:
        return self.paths is None


class TreeWatch:
    """inotify watches on every directory under `root` but those `skipped(path)` says are
    never inputs, and on git's own."""

    def __init__(self, root: Path, skipped: Callable[[str], bool], git_dir: Path | None):
        self.root = root
        self._skipped = skipped
        self._inotify = INotify()
        self._dirs: dict[int, str] = {}  # watch descriptor → directory relative to root
        self._git: dict[int, Path] = {}
        self._git_dir = git_dir
        self._everything = True  # what changed before the watches were set is not known
        self._gone = False
        self._moved = False  # a directory moved: every watch is set again at the next drain
        self._changed: set[str] = set()
        self._add_tree("")
        if git_dir is not None:
            self._add_git(git_dir)

    def drain(self) -> Changes:
        """Every change queued since the last drain, without waiting."""
        for event in self._inotify.read(timeout=0):
            self._take(event)
        if self._moved and not self._gone:
            self._rewatch()
        changes = Changes(None if self._everything else frozenset(self._changed), self._gone)
        self._changed, self._everything = set(), False
        return changes

    def _rewatch(self) -> None:
        """A directory moved: its watches name the old paths, so all are set again."""
        self._inotify.close()
        self._inotify, self._dirs, self._git = INotify(), {}, {}
        self._moved = False
        self._add_tree("")
        if self._git_dir is not None:
            self._add_git(self._git_dir)

    # ------------------------------------------------------------ events

    def _take(self, event) -> None:
        if event.mask & flags.Q_OVERFLOW:
            self._everything = True
        elif event.wd in self._git:
            self._take_git(event)
        elif event.wd in self._dirs:
            self._take_file(self._dirs[event.wd], event)

    def _take_git(self, event) -> None:
        place = self._git[event.wd]
        if event.mask & flags.IGNORED:
            del self._git[event.wd]
        elif event.name.endswith(".lock") or (place == self._git_dir
                                              and event.name not in _GIT_NAMES):
            return
        elif event.mask & flags.ISDIR and event.mask & flags.CREATE:
            self._add_git_tree(place / event.name)  # refs/heads/topic/
        self._everything = True

    def _take_file(self, directory: str, event) -> None:
        if event.mask & flags.IGNORED:
            del self._dirs[event.wd]
            return
        if event.mask & (flags.DELETE_SELF | flags.MOVE_SELF):
            if directory == "":
                self._gone = self._everything = True
            return
        path = f"{directory}/{event.name}" if directory else event.name
        if self._skipped(path):
            return
        is_dir = bool(event.mask & flags.ISDIR)
        if is_dir and event.mask & (flags.MOVED_FROM | flags.MOVED_TO):
            self._everything = self._moved = True
        elif is_dir and event.mask & flags.CREATE:
            self._add_tree(path)  # and whatever was made in it before its watch
        if event.name == ".gitignore":
            self._everything = True
        self._changed.add(path)

    # ------------------------------------------------------------ watches

    def _add_tree(self, top: str) -> None:
        for directory, dirs, _files in os.walk(self.root / top):
            relative = os.path.relpath(directory, self.root)
            relative = "" if relative == "." else relative
            dirs[:] = [d for d in dirs if not self._skipped(f"{relative}/{d}".lstrip("/"))]
            self._watch(Path(directory), relative)

    def _watch(self, directory: Path, relative: str) -> None:
        try:
            self._dirs[self._inotify.add_watch(directory, _CHANGES | flags.ONLYDIR)] = relative
        except OSError:  # gone meanwhile, or no watch left (fs.inotify.max_user_watches)
            self._everything = True

    def _add_git(self, git_dir: Path) -> None:
        self._add_git_watch(git_dir)
        for top in _GIT_DIRS:
            self._add_git_tree(git_dir / top)

    def _add_git_tree(self, top: Path) -> None:
        for directory, _dirs, _files in os.walk(top):
            self._add_git_watch(Path(directory))

    def _add_git_watch(self, directory: Path) -> None:
        try:
            self._git[self._inotify.add_watch(directory, _CHANGES | flags.ONLYDIR)] = directory
        except OSError:
            self._everything = True
