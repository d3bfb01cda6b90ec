"""`orchestrate query deps|rdeps|path ARGS [--depth N]`: answers for scripts, one target a line."""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands._output import add_format, write, write_json
from orchestrator.commands._plan_options import loaded_graph
from orchestrator.commands._recipe_errors import reporting
from orchestrator.errors import OrchestratorError
from orchestrator.graph import TargetGraph, deps, paths, rdeps, select, target_of

QUERIES = ("deps", "rdeps", "path")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", choices=QUERIES, help="deps, rdeps (of targets) or path A B")
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="patterns or package names")
    parser.add_argument("--depth", type=int, help="deps/rdeps: at most N steps (default: all)")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    _check(args)
    loaded = loaded_graph(args)
    with reporting(loaded):
        if args.query == "path":
            document = path_document(loaded.graph, *args.targets)
            lines = [" ".join(p) for p in document["paths"]]
            _note_paths(document)
        else:
            document = reach_document(loaded.graph, args.query, args.targets, args.depth)
            lines = document["result"]
        if args.format == "json":
            write_json(document)
        else:
            write("\n".join(lines))
    return 0


def _note_paths(document: dict) -> None:
    """An empty answer or a cut one is worth a word on stderr; stdout stays script-friendly."""
    if not document["paths"]:
        print(f"note: {document['from']} does not depend on {document['to']}", file=sys.stderr)
    elif document["truncated"]:
        print(f"note: only the first {len(document['paths'])} paths are shown", file=sys.stderr)


def _check(args: argparse.Namespace) -> None:
    if args.query == "path" and len(args.targets) != 2:
        raise OrchestratorError("query path takes two targets: A B (the paths from A down to B)")
    if args.depth is not None and (args.query == "path" or args.depth < 1):
        raise OrchestratorError("--depth takes a number >= 1, for deps and rdeps only")


def reach_document(tg: TargetGraph, query: str, patterns: list[str], depth: int | None) -> dict:
    targets = select(tg, patterns)
    found = (deps if query == "deps" else rdeps)(tg, targets, depth)
    return {"query": query, "targets": targets, "depth": depth, "result": found}


def path_document(tg: TargetGraph, source: str, dest: str) -> dict:
    a, b = target_of(tg, source), target_of(tg, dest)
    found = paths(tg, a, b)
    listed = [list(p) for p in found.paths]
    return {"from": a, "to": b, "paths": listed, "truncated": found.truncated}
