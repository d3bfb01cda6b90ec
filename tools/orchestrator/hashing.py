"""Content hashes of targets: what a build reads, and the hashes of its build/host dependencies.

A target's hash changes exactly when what its build would produce can change: the rendered
recipe (`Recipe.data`, so selectors and comments for other platforms change nothing), the
other files of its recipe directory, the files of its path sources, the url+sha256 of url
sources, the resolved commit of git sources, the build configuration (platform, variant,
builder and version, container image) and, Merkle-style, the hashes of the workspace targets
it needs at build or host time. Run and test dependencies do not enter it.

Files are known by git blob ids (sha1 of "blob <size>\\0<content>"): git's own ids for clean
tracked files, the same function over the working copy for dirty and untracked ones, and for
every file of a workspace outside git. So a file has one digest whichever way it was read,
and nothing machine-specific (absolute paths, times) is hashed.

The recipe file itself is hashed only as rendered, never as text. An internal project whose
recipe lives in `internal/x/conda` with `path: ..` has its conda/ files both as recipe files
and as source files: counted twice, always the same way, so the hash stays deterministic.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator import vcs
from orchestrator.recipes.model import Recipe, Source
from orchestrator.workspace import TargetSettings

HASH_VERSION = 2  # bump when the hashed document changes shape (2: the recipe by its digest)
HASHED_SECTIONS = ("build", "host")
SKIPPED_DIRS = frozenset({".git", "__pycache__"})
CACHE_DIR = "cache"
NOT_GIT_NOTICE = (
    "{root} is not a git repository: hashing reads every file (slower, and untracked "
    "build products count as inputs)"
)


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class FileIndex:
    """Every file that can be an input: workspace-relative POSIX path → blob id."""

    digests: Mapping[str, str]
    paths: tuple[str, ...]  # the keys of `digests`, sorted, for prefix lookups
    dirty: frozenset[str] = frozenset()  # changed since the last commit (unknown without git)
    notice: str | None = None  # said once to the user (e.g. "not a git repository")

    @classmethod
    def of(
        cls, digests: Mapping[str, str], dirty: Iterable[str] = (), notice: str | None = None
    ) -> FileIndex:
        return cls(dict(digests), tuple(sorted(digests)), frozenset(dirty), notice)

    def under(self, directory: str) -> tuple[str, ...]:
        """The files under `directory` ("" or "." for all), or the file itself."""
        directory = directory.strip("/")
        if directory in ("", "."):
            return self.paths
        if directory in self.digests:
            return (directory,)
        prefix = directory + "/"
        start = bisect.bisect_left(self.paths, prefix)
        end = bisect.bisect_left(self.paths, directory + "0")  # "0" sorts right after "/"
        return self.paths[start:end]


@dataclass(frozen=True)
class BuildConfig:
    """The build settings that enter a target's hash (nothing machine-specific)."""

    platform: str
    builder: str
    builder_version: str
    container: str = "none"
    image: str = ""


# ---------------------------------------------------------------- pure: hashes


def target_hash(
    recipe: Recipe,
    files: FileIndex,
    config: BuildConfig,
    dependency_hashes: Mapping[str, str],
    git_commits: Mapping[tuple[str, str], str] | None = None,
    recipe_digest: str | None = None,
) -> str:
    """The hex hash of one target, given the hashes of its build/host dependencies.

    `recipe_digest` is `recipe_data_digest(recipe.data)` when the caller already has it (the
    render cache keeps it with each rendered recipe); a recipe with neither (from the graph
    snapshot, which keeps no `data`) is a bug, never the hash of `{}`."""
    if recipe_digest is None and not recipe.data:
        raise ValueError(f"{recipe.target}: hashed without its rendered recipe or its digest")
    document = {
        "version": HASH_VERSION,
        "format": recipe.format,
        "recipe": recipe_digest or recipe_data_digest(recipe.data),
        "variant": dict(recipe.variant),
        "files": _digests(recipe_files(recipe, files), files),
        "sources": [_source_document(s, files, git_commits or {}) for s in recipe.sources],
        "build": _config_document(config),
        "dependencies": dict(sorted(dependency_hashes.items())),
    }
    return canonical_digest(document)


def hash_targets(
    order: Iterable[str],
    recipes: Mapping[str, Recipe],
    hashed_deps: Callable[[str], Iterable[str]],
    files: FileIndex,
    config_of: Callable[[str], BuildConfig],
    git_commits: Mapping[tuple[str, str], str] | None = None,
    recipe_digests: Mapping[str, str] | None = None,
    previous: Mapping[str, str] | None = None,
    stale: Collection[str] = (),
) -> dict[str, str]:
    """Hashes of every target of `order` (dependencies first); `hashed_deps(t)` are t's
    build/host dependencies inside the workspace; `recipe_digests` (target → digest of its
    rendered recipe) spares serializing the recipes again. `previous`: the hashes of the same
    targets when only the files of the `stale` ones differed: the others keep theirs unless a
    dependency's hash moved."""
    hashes: dict[str, str] = {}
    known = recipe_digests or {}
    for target in order:
        deps = {dep: hashes[dep] for dep in hashed_deps(target)}
        if previous is not None and _still_holds(target, deps, previous, stale):
            hashes[target] = previous[target]
            continue
        hashes[target] = target_hash(
            recipes[target], files, config_of(target), deps, git_commits, known.get(target)
        )
    return hashes


def _still_holds(target: str, deps: Mapping[str, str], previous: Mapping[str, str],
                 stale: Collection[str]) -> bool:
    return (target not in stale and target in previous
            and all(previous.get(dep) == digest for dep, digest in deps.items()))


def canonical_digest(document: Any) -> str:
    """blake2b over canonical JSON (sorted keys, no spaces): what target hashes are made of."""
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )
    return hashlib.blake2b(text.encode("utf-8"), digest_size=32).hexdigest()


def recipe_data_digest(data: dict) -> str:
    """The digest of a rendered recipe tree, computed once where it is rendered and kept with
    its render cache entry (recipes/render_pool.py)."""
    return canonical_digest(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def build_string(target_hash_hex: str, build_number: int) -> str:
    return f"h{target_hash_hex[:10]}_{build_number}"


def build_config(platform: str, settings: TargetSettings, builder_version: str) -> BuildConfig:
    """The hashed part of a target's settings (`Workspace.target_settings`): what it builds
    with is what its hash says."""
    return BuildConfig(
        platform=platform,
        builder=settings.builder,
        builder_version=builder_version,
        container=settings.container,
        image=settings.image,
    )


# ---------------------------------------------------------------- pure: input files


def recipe_files(recipe: Recipe, files: FileIndex) -> tuple[str, ...]:
    """The recipe directory's files and patches, except the recipe file (hashed as rendered).

    Files git ignores are nobody's input: they are not in `files` and are left out.
    """
    wanted = {*recipe.files, *(p for s in recipe.sources for p in s.patches)}
    wanted.discard(recipe.path)
    return tuple(sorted(p for p in wanted if p in files.digests))


def source_files(source: Source, recipe: Recipe, files: FileIndex) -> tuple[str, ...]:
    """The files of a path source (without the recipe file itself)."""
    if source.kind != "path" or source.path is None:
        return ()
    return tuple(p for p in files.under(source.path) if p != recipe.path)


def changed_inputs(
    recipes: Iterable[Recipe], changed_files: Iterable[str], global_inputs: Iterable[str] = ()
) -> dict[str, tuple[str, ...]]:
    """target → its inputs among `changed_files`, sorted; targets with none are left out.

    Ownership is by place (the recipe directory, patches, path sources), so a deleted or
    renamed file still belongs to the target it was an input of; `global_inputs` (e.g.
    WORKSPACE.toml) belong to every target.
    """
    changes = FileIndex.of(dict.fromkeys(changed_files, ""))
    if not changes.paths:
        return {}
    shared = {f for f in global_inputs if f in changes.digests}
    found = {}
    for recipe in recipes:
        owned = shared | owned_files(recipe, changes)
        if owned:
            found[recipe.target] = tuple(sorted(owned))
    return found


def owned_files(recipe: Recipe, files: FileIndex) -> set[str]:
    """The files of `files` that are inputs of `recipe`, the recipe file included."""
    owned = set(files.under(recipe.directory))
    for source in recipe.sources:
        owned.update(p for p in source.patches if p in files.digests)
        if source.kind == "path" and source.path is not None:
            owned.update(files.under(source.path))
    return owned


def _source_document(
    source: Source, files: FileIndex, git_commits: Mapping[tuple[str, str], str]
) -> dict[str, Any]:
    if source.kind == "url":
        return {"kind": "url", "url": source.url, "sha256": source.sha256}
    if source.kind == "git":
        key = (source.url or "", source.git_rev or "HEAD")
        return {"kind": "git", "url": source.url, "commit": git_commits.get(key, key[1])}
    under = files.under(source.path or ".")
    return {"kind": "path", "path": source.path, "files": _digests(under, files)}


def _digests(paths: Iterable[str], files: FileIndex) -> dict[str, str]:
    return {p: files.digests[p] for p in paths}


def _config_document(config: BuildConfig) -> dict[str, str]:
    return {
        "platform": config.platform,
        "builder": config.builder,
        "builder_version": config.builder_version,
        "container": config.container,
        "image": config.image,
    }


# ---------------------------------------------------------------- reading files


def read_file_index(root: Path, directories: Iterable[str] = (".",)) -> FileIndex:
    """Blob ids of every input file under `root`: from git's index plus the dirty files, or,
    when `root` is not in a git repository, by reading every file under `directories` (the
    places inputs can be: recipe directories, path sources), with a notice saying so."""
    index = git_file_index(root)
    if index is None:
        digests = {p: blob_id(root / p) for p in walk_files(root, directories)}
        return FileIndex.of(digests, notice=NOT_GIT_NOTICE.format(root=root))
    return index


def git_file_index(root: Path, state=None) -> FileIndex | None:
    """Blob ids of every file git sees under `root` (the index, and the working copy of dirty
    and untracked files); None when `root` is not in a git repository. `state`: a
    `vcs.PendingTreeState` the caller started earlier."""
    return file_index_of(root, (state or vcs.start_tree_state(root)).result())


def file_index_of(root: Path, state: vcs.TreeState | None) -> FileIndex | None:
    """The FileIndex of git's `state` of `root` (`git_file_index`)."""
    if state is None:
        return None
    digests = {p: b for p, b in state.blobs.items() if not skipped_path(p)}
    for path in state.dirty:
        digest = blob_id(root / path)
        if digest is None or skipped_path(path):
            digests.pop(path, None)
        else:
            digests[path] = digest
    return FileIndex.of(digests, dirty=(p for p in state.dirty if not skipped_path(p)))


UNTRACKED_ASKED = 256  # more new untracked files than this: read git's view again instead


def updated_file_index(root: Path, files: FileIndex, tracked: Mapping[str, str],
                       changed: Iterable[str]) -> FileIndex | None:
    """`files` once the `changed` paths (files or directories) changed, as `file_index_of`
    would see them: a tracked file (`tracked`: the index's blob ids) by its working copy, dirty
    when that differs; a deleted one dirty; an untracked one unless git ignores it. None when
    more untracked files are new than are worth asking git about one by one."""
    digests, dirty, untracked = dict(files.digests), set(files.dirty), {}
    for path in _expanded(root, files, changed):
        digests.pop(path, None)
        dirty.discard(path)
        blob, indexed = blob_id(root / path), tracked.get(path)
        if indexed is not None:
            if blob is not None:
                digests[path] = blob
            if blob != indexed:
                dirty.add(path)
        elif blob is not None:
            untracked[path] = blob
    if len(untracked) > UNTRACKED_ASKED:
        return None
    ignored = vcs.ignored(root, sorted(untracked)) if untracked else frozenset()
    for path, blob in untracked.items():
        if path not in ignored:
            digests[path] = blob
            dirty.add(path)
    return FileIndex.of(digests, dirty, files.notice)


def _expanded(root: Path, files: FileIndex, changed: Iterable[str]) -> set[str]:
    """The files `changed` names: each path, what `files` had under it (a deleted or replaced
    directory), and what is under it now (a new directory)."""
    found = set()
    for path in changed:
        found.update(files.under(path))
        if os.path.isdir(root / path) and not os.path.islink(root / path):
            found.update(_files_and_links(root, path))
        else:
            found.add(path)
    return {p for p in found if not skipped_path(p)}


def _files_and_links(root: Path, top: str) -> Iterable[str]:
    """What git lists under `top`: files, and symbolic links to directories (git's blobs)."""
    for directory, dirs, names in os.walk(root / top):
        rel = Path(directory).relative_to(root).as_posix()
        links = [d for d in dirs if os.path.islink(os.path.join(directory, d))]
        yield from (_join(rel, n) for n in (*names, *links))


def input_directories(recipes: Iterable[Recipe]) -> list[str]:
    """Where the inputs of `recipes` are: their directories, patches and path sources."""
    places = set()
    for recipe in recipes:
        places.add(recipe.directory)
        for source in recipe.sources:
            places.update(source.patches)
            if source.kind == "path" and source.path is not None:
                places.add(source.path)
    return sorted(places)


def blob_id(path: Path) -> str | None:
    """git's blob id of a file's working copy (a symlink's is its target), marked as git's index
    marks executable files (vcs.EXECUTABLE); None if absent."""
    try:
        link = path.is_symlink()
        data = os.readlink(path).encode() if link else path.read_bytes()
        executable = not link and path.stat().st_mode & 0o100
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    return blob + vcs.EXECUTABLE if executable else blob


def walk_files(root: Path, directories: Iterable[str] = (".",)) -> list[str]:
    """Workspace-relative paths of the files under `directories` (or those files themselves),
    skipping cache/, .git and __pycache__."""
    found: set[str] = set()
    for place in directories:
        place = place.strip("/") or "."
        if (root / place).is_file() and not skipped_path(place):
            found.add(place)
        for directory, dirs, names in os.walk(root / place):
            rel = Path(directory).relative_to(root).as_posix()
            dirs[:] = [d for d in dirs if not skipped_path(_join(rel, d))]
            found.update(p for p in (_join(rel, n) for n in names) if not skipped_path(p))
    return sorted(found)


def _join(directory: str, name: str) -> str:
    return name if directory == "." else f"{directory}/{name}"


def skipped_path(path: str) -> bool:
    """Never an input: the workspace's cache/, and .git and __pycache__ anywhere."""
    parts = path.split("/")
    return parts[0] == CACHE_DIR or not SKIPPED_DIRS.isdisjoint(parts)
