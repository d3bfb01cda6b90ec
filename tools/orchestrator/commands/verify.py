"""`orchestrate verify [--repair]`: does the target channel tell the truth?

Checks every package of the local target channel: its size and sha256 against its
repodata.json record, that it is a readable package, and that its info/index.json agrees with
its record and its file name; and that repodata.json lists exactly the files there. One line
per problem and exit 1 when there are any. `--repair` first moves unreadable or mislabelled
packages to `<channel>/quarantine/<subdir>/` and re-indexes, then checks again.
"""

from __future__ import annotations

import argparse

from orchestrator.channel_integrity import Problem, verify_channel
from orchestrator.commands._output import write
from orchestrator.errors import ChannelError, ChannelProblems
from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repair", action="store_true",
                        help="quarantine unreadable packages and re-index, then check again")


def run(args: argparse.Namespace) -> int:
    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    from orchestrator.publish import local_channel

    channel_dir = local_channel(workspace)  # a remote target channel: exit 2
    if not channel_dir.is_dir():
        raise ChannelError(str(channel_dir), "no such channel directory (nothing built yet?)")
    if args.repair:
        for fixed in repair(channel_dir, workspace.platform):
            write(f"repaired: {fixed}")
    problems, count = verify_channel(channel_dir)
    if problems:
        raise ChannelProblems(problems)
    write(f"{channel_dir}: {count} packages, no problems")
    return 0


def repair(channel_dir, platform: str) -> list[Problem]:
    """What --repair did: mislabelled packages quarantined, then a re-index (which
    quarantines the unreadable ones) when anything disagreed."""
    from orchestrator.channel_integrity import quarantine_mislabelled, subdirs_of
    from orchestrator.publish import reindex

    problems, _ = verify_channel(channel_dir)
    if not problems:
        return []
    moved = quarantine_mislabelled(channel_dir)
    subdirs = sorted({"noarch", platform, *subdirs_of(channel_dir)})
    moved += reindex(channel_dir, subdirs)
    return [*moved, Problem(channel_dir, f"re-indexed {', '.join(subdirs)}")]
