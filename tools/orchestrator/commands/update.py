"""`orchestrate update TARGET... [--to VERSION] [--dry-run]`: move recipes to a new version.

Sets the version (to `--to`, else the newest upstream from `orchestrate updates`' checkers),
downloads each changed url source into the source cache and writes its sha256, resets the build
number to 0, and prints the unified diff. Only the characters of those values change. When a
download or its checksum fails the recipe is left unchanged and the error says why.
"""

from __future__ import annotations

import argparse
import difflib

from orchestrator.commands._output import write
from orchestrator.errors import OrchestratorError
from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="+", help="targets or package names")
    parser.add_argument("--to", metavar="VERSION", help="this version instead of the newest")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")


def run(args: argparse.Namespace) -> int:
    from orchestrator.commands._rendered import selected_recipes

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    recipes, _errors = selected_recipes(workspace, args.targets)
    for recipe in recipes:
        update_one(workspace, recipe, args.to, args.dry_run)
    return 0


def update_one(workspace, recipe, to: str | None, dry_run: bool) -> None:
    from orchestrator import updates
    from orchestrator.cache import write_text_atomically
    from orchestrator.updates.apply import edited_recipe
    from orchestrator.updates.queries import query_of

    settings = updates.settings_from(workspace.config.updates)
    query = query_of(recipe)
    found = updates.check(query, settings, updates.checkers())
    if found.error and not to:
        raise UpdateError(f"{recipe.path}: {found.checker}: {found.error}")
    version = to or (found.latest.version if found.latest else None)
    if version is None:
        raise UpdateError(f"{recipe.path}: no checker knows its upstream (hint: pass --to)")
    if version == query.version:
        write(f"{recipe.target}: already at {version}")
        return
    edit = edited_recipe(workspace, recipe, query.version, version, found.latest,
                         settings.timeout)
    write(unified_diff(edit.path, edit.before, edit.after))
    if not dry_run:
        write_text_atomically(workspace.root / edit.path, edit.after)


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        f"a/{path}", f"b/{path}"))


class UpdateError(OrchestratorError):
    """No version to move to, or its upstream cannot say."""
