"""`orchestrate promote SPEC... --from testing --to stable`: the same bytes, one channel up."""

from __future__ import annotations

import argparse

from orchestrator.commands.maturity_args import act, add_target_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", help="name, name=version, name=version=build, file")
    parser.add_argument("--from", dest="source", required=True, help="channel to promote from")
    parser.add_argument("--to", dest="target", required=True, help="channel to promote to")
    add_target_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from orchestrator.serve import maturity

    def local(config):
        return {"promoted": maturity.promote(config.root, args.specs, args.source, args.target,
                                             config.archive, config.archived)}

    result = act(args, args.source, "promote", {"specs": args.specs, "to": args.target}, local)
    for path in result["promoted"]:
        print(f"promoted {path} to {args.target}")
    return 0
