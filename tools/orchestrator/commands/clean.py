"""`orchestrate clean [--all]`: remove logs, records, sources and the render cache.

With --all the local target channel goes too (a remote channel is never touched).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from orchestrator import cache
from orchestrator.commands._load import write
from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="also remove the local channel")


def run(args: argparse.Namespace) -> int:
    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    removed = cache.remove_cached(workspace.cache_dir)
    if args.all and "://" not in workspace.target_channel:
        channel = Path(workspace.target_channel)
        if channel.exists():
            shutil.rmtree(channel)
            removed.append(channel)
    for path in removed:
        write(f"removed {_shown(path, workspace.root)}")
    if not removed:
        write("nothing to clean")
    return 0


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
