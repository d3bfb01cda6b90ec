"""`orchestrate restore SPEC... --channel C`: bring pruned packages back from the archive."""

from __future__ import annotations

import argparse

from orchestrator.commands.maturity_args import act, add_target_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", help="name, name=version, name=version=build, file")
    parser.add_argument("--channel", required=True, help="channel to restore into")
    add_target_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from orchestrator.serve import maturity

    def local(config):
        return {"restored": maturity.restore(config.root, args.specs, args.channel,
                                             config.archive)}

    result = act(args, args.channel, "restore", {"specs": args.specs}, local)
    for path in result["restored"]:
        print(f"restored {path} into {args.channel}")
    return 0
