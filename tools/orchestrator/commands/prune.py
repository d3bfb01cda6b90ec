"""`orchestrate prune --channel C --keep N [--older-than DAYS] [--dry-run]`: drop old builds.

What an archived channel loses stays in the archive (`orchestrate restore` brings it back).
"""

from __future__ import annotations

import argparse

from orchestrator.commands.maturity_args import act, add_target_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", required=True)
    parser.add_argument("--keep", type=int, required=True, help="newest builds kept per package")
    parser.add_argument("--older-than", type=float, metavar="DAYS",
                        help="remove only builds older than DAYS days")
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed")
    add_target_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from orchestrator.errors import OrchestratorError
    from orchestrator.serve import maturity

    if args.keep < 1:
        raise OrchestratorError("--keep must be at least 1")

    def local(config):
        return maturity.prune(config.root, args.channel, args.keep, args.older_than,
                              args.dry_run, config.archive, config.archived)

    body = {"keep": args.keep, "older_than_days": args.older_than, "dry_run": args.dry_run}
    result = act(args, args.channel, "prune", body, local)
    verb = "would remove" if args.dry_run else "removed"
    for path in result["removed"]:
        print(f"{verb} {path}")
    for path in result["kept"]:
        print(f"kept {path} (not in the archive)")
    return 0
