"""Command line: parses arguments, dispatches to `commands/<name>.py`, turns errors into exit codes.

This is the only module that prints errors or exits. Command modules are imported only when
their command runs, so `orchestrate why` does not pay for what `orchestrate build` needs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from orchestrator import __version__
from orchestrator.errors import OrchestratorError

DESCRIPTION = """\
Build a monorepo of conda recipes: render every recipe, see the dependency graph of its
targets, plan what changed (against git and the channel) and build that, in dependency order,
publishing to a conda channel. `orchestrate COMMAND --help` shows a command's options."""

# name -> (module under orchestrator.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "graph": ("graph", "show the dependency graph of targets"),
    "why": ("why", "who needs a package, through what, and whether it will be rebuilt"),
    "query": ("query", "deps / rdeps / path queries for scripts"),
    "plan": ("plan", "what must be built, in which order, and why"),
    "build": ("build", "build what changed, in parallel, and publish it"),
    "fetch": ("fetch", "download every source into the source cache"),
    "pipeline": ("pipeline", "write the plan as a GitLab CI child pipeline"),
    "clean": ("clean", "remove cached logs, records, sources and the render cache"),
    "verify": ("verify", "check the target channel's packages against its repodata.json"),
    "serve": ("serve", "serve the organization's channels over HTTP (uploads, tokens, pages)"),
    "token": ("token", "create, list or revoke the channel service's access tokens"),
    "promote": ("promote", "promote packages from one channel to another (same bytes)"),
    "prune": ("prune", "remove old builds from a channel (the archive keeps them)"),
    "restore": ("restore", "bring pruned packages back from the archive"),
    "updates": ("updates", "the newest upstream version of each recipe"),
    "update": ("update", "set a recipe's version, sha256 and build number; print the diff"),
    "new": ("new", "a new recipe from PyPI with grayskull, in the workspace's conventions"),
    "lint": ("lint", "check recipes against the organization's rules"),
    "develop": ("develop", "an environment with a project's requirements, the project editable"),
    "render": ("render", "the rendered recipe of each target and variant"),
    "server": ("server", "status or stop the server answering plan, why, graph and query"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrate", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"orchestrate {__version__}")
    parser.add_argument("-C", dest="directory", type=Path, help="workspace directory")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    module = importlib.import_module(f"orchestrator.commands.{COMMANDS[name][0]}")
    parser = argparse.ArgumentParser(prog=f"orchestrate {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    top, rest = _parser().parse_known_args(argv)
    debug = top.debug or "--debug" in rest
    rest = [a for a in rest if a != "--debug"]
    try:
        parser, module = _command_parser(top.command)
        args = parser.parse_args(rest)
        args.directory = top.directory
        args.debug = debug
        return int(module.run(args) or 0)
    except OrchestratorError as exc:
        if debug:
            raise
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
