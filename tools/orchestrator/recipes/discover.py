"""Finding recipes: every `meta.yaml` / `recipe.yaml` under the workspace roots, its target label
and the files of its directory. From git's list of files when the caller has it (no walk), else
one walk of the tree; nothing is rendered here.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import RecipeError, RecipeErrors
from orchestrator.recipes.model import RawRecipe
from orchestrator.recipes.paths import OutsideWorkspace, resolve_inside

RECIPE_FILES = ("recipe.yaml", "meta.yaml")  # the first wins when a directory has both
RECIPE_SUBDIRS = ("conda", "recipe")  # a recipe here belongs to the parent directory's target
_SKIPPED_DIRS = {"__pycache__", "node_modules", "build", "dist"}
_SKIPPED_NAMES = "|".join(sorted(_SKIPPED_DIRS))
_SKIPPED_PART = re.compile(rf"(?:^|/)(?:\.|(?:{_SKIPPED_NAMES})(?:/|$))")  # in a relative dir


@dataclass(frozen=True)
class FoundRecipe:
    target: str
    path: str  # workspace-relative POSIX path of the recipe file
    format: str
    files: tuple[str, ...]  # every file in the recipe directory, workspace-relative, sorted


def target_of(directory: str) -> str:
    """`internal/own-util/conda` → `//internal/own-util`; `recipes/six` → `//recipes/six`."""
    parent, _, base = directory.rpartition("/")
    return f"//{parent}" if base in RECIPE_SUBDIRS and parent else f"//{directory}"


def _walk(root: str, top: str) -> tuple[dict[str, list[str]], list[str]]:
    """(recipe directory → recipe file names present, all files) under `root/top`, both
    workspace-relative. Plain strings: pathlib costs more than the walk for 5,000 recipes."""
    recipe_dirs, files, cut = {}, [], len(root) + 1
    for current, dirs, names in os.walk(os.path.join(root, top)):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        rel = current[cut:].replace(os.sep, "/")
        # os.walk does not enter linked directories: one pointing outside is named (as a file,
        # so that find_recipes reports it), one pointing inside is walked where it points
        files.extend(f"{rel}/{d}" for d in dirs if os.path.islink(os.path.join(current, d))
                     and _outside(root, f"{rel}/{d}"))
        files.extend(f"{rel}/{n}" for n in names if not n.endswith((".pyc", "~")))
        present = [n for n in RECIPE_FILES if n in names]
        if present:
            recipe_dirs[rel] = present
    return recipe_dirs, files


def _listed(paths: list[str], top: str) -> tuple[dict[str, list[str]], list[str]]:
    """What `_walk` finds, from a sorted list of workspace-relative files (git's tracked and
    untracked-not-ignored files), with the same directories and files left out."""
    prefix = top.strip("/") + "/"
    start = bisect.bisect_left(paths, prefix)
    end = bisect.bisect_left(paths, prefix + "\U0010ffff")
    recipe_dirs: dict[str, list[str]] = {}
    files = []
    for path in paths[start:end]:
        directory, _, name = path.rpartition("/")
        if name.endswith((".pyc", "~")) or _skipped_dir(directory[len(prefix):]):
            continue
        files.append(path)
        if name in RECIPE_FILES:
            recipe_dirs.setdefault(directory, []).append(name)
    return {d: [n for n in RECIPE_FILES if n in names] for d, names in recipe_dirs.items()}, files


def _outside(root: str, path: str) -> str | None:
    """Where `path` resolves to when that is outside the workspace, else None."""
    try:
        resolve_inside(Path(root), path)
    except OutsideWorkspace as exc:
        return exc.target
    return None


def outside_links(root: Path, files: list[str]) -> list[RecipeError]:
    """An error for each recipe file or directory under the roots that is a symlink to
    outside the workspace (issue 9: it would be read as a recipe)."""
    errors = []
    for path in files:
        name = path.rsplit("/", 1)[-1]
        if (name in RECIPE_FILES or os.path.isdir(os.path.join(root, path))) and os.path.islink(
                os.path.join(root, path)):
            target = _outside(str(root), path)
            if target:
                errors.append(RecipeError(path, f"is a symlink to {target}, outside the "
                                          "workspace", hint="recipes are read inside it only"))
    return errors


def _skipped_dir(relative: str) -> bool:
    return _SKIPPED_PART.search(relative) is not None


def find_recipes(
    root: Path, tops: tuple[str, ...], listed: list[str] | None = None
) -> tuple[list[FoundRecipe], list[RecipeError]]:
    """The recipes under the workspace roots `tops`, sorted by target; both formats in one
    directory is an error (the v1 recipe is kept). `listed`: every file of the workspace,
    sorted (then nothing is walked)."""
    found, errors = [], []
    for top in tops:
        recipe_dirs, files = _walk(str(root), top) if listed is None else _listed(listed, top)
        files.sort()
        linked = [f"{d}/{n[0]}" for d, n in recipe_dirs.items()
                  if os.path.islink(os.path.join(root, d, n[0]))]  # one lstat per recipe
        # linked directories: _walk lists them as files; git lists a link as a file too (it
        # is a blob): those without a suffix are looked at (few files are, so few lstat calls)
        # (inside a recipe directory only conda/ and recipe/ can hold recipes: other linked
        # directories there are sources, checked where the source is resolved)
        linked += [f for f in files if "." not in f.rsplit("/", 1)[-1]
                   and (f.rsplit("/", 1)[0] not in recipe_dirs
                        or f.rsplit("/", 1)[-1] in RECIPE_SUBDIRS)
                   and os.path.islink(os.path.join(root, f))
                   and os.path.isdir(os.path.join(root, f))]
        bad = outside_links(root, linked)
        errors.extend(bad)
        refused = {e.file.rsplit("/", 1)[0] for e in bad}
        recipe_dirs = {d: n for d, n in recipe_dirs.items() if d not in refused}
        for directory, present in recipe_dirs.items():
            if len(present) > 1:
                errors.append(RecipeError(f"{directory}/meta.yaml", "this directory also has a "
                              "recipe.yaml", hint="keep one recipe format per directory"))
            found.append(FoundRecipe(target_of(directory), f"{directory}/{present[0]}",
                                     present[0], _files_under(files, directory)))
    found.sort(key=lambda f: (f.target, f.path))
    return found, errors


def _files_under(files: list[str], directory: str) -> tuple[str, ...]:
    prefix = directory + "/"
    start = bisect.bisect_left(files, prefix)
    end = bisect.bisect_left(files, prefix + "\U0010ffff")
    return tuple(files[start:end])


def read_recipe(root: Path, found: FoundRecipe) -> RawRecipe:
    try:
        with open(os.path.join(root, found.path), encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(found.path, f"cannot read: {exc}") from None
    return RawRecipe(found.target, found.path, found.format, text)


def discover_recipes(workspace) -> list[RawRecipe]:
    """Every recipe of the workspace, read, sorted by target (RecipeErrors if any is unreadable)."""
    found, errors = find_recipes(workspace.root, workspace.config.workspace.roots)
    recipes = []
    for item in found:
        try:
            recipes.append(read_recipe(workspace.root, item))
        except RecipeError as exc:
            errors.append(exc)
    if errors:
        raise RecipeErrors(errors)
    return recipes
