"""`orchestrate clean [--all]`: remove logs, records, sources and the render cache.

With --all the local target channel goes too (a remote channel is never touched).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestrator import cache
from orchestrator.commands._output import write
from orchestrator.errors import WorkspaceError
from orchestrator.workspace import WORKSPACE_FILE, load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="also remove the local channel")


def run(args: argparse.Namespace) -> int:
    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    removed = cache.remove_cached(workspace.cache_dir)
    if args.all and workspace.target_channel.path is not None:
        from orchestrator.publish import local_channel

        removed += remove_channel_contents(local_channel(workspace), workspace.root)
    for path in removed:
        write(f"removed {_shown(path, workspace.root)}")
    if not removed:
        write("nothing to clean")
    return 0


def remove_channel_contents(channel: Path, root: Path) -> list[Path]:
    """The channel's subdirs (those holding a repodata.json) and its lock; never a directory
    that holds the workspace, whatever `channels.target` says."""
    if root.is_relative_to(channel.resolve()):
        raise WorkspaceError(
            f"{root / WORKSPACE_FILE}: channels.target: {channel} holds the workspace; "
            "refusing to remove it (hint: publish into a directory of its own)"
        )
    parts = [*channel.glob("*/repodata.json"), channel / ".orchestrate.lock"]
    removed = []
    for part in parts:
        target = part.parent if part.name == "repodata.json" else part
        if target.exists():
            cache.remove_tree(target)
            removed.append(target)
    if channel.is_dir() and not any(channel.iterdir()):
        channel.rmdir()
    return removed


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
