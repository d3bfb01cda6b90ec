"""The command line of a plan, defined once: TARGET patterns and the plan options that every
planning command takes (`plan`, `build`, `pipeline gitlab`), read into a `PlanRequest`; and the
workspace of `-C DIR` with its graph (`planning.load_graph`)."""

from __future__ import annotations

import argparse

from orchestrator.plan import PlanRequest
from orchestrator.planning import LoadedGraph


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", default=[],
        help="target patterns (//..., //recipes/..., a label or a package name; default //...)",
    )
    parser.add_argument(
        "--changed-since", metavar="REF",
        help="only targets whose inputs changed since the merge-base of REF and HEAD",
    )
    parser.add_argument(
        "--dependents", action="store_true",
        help="also every target depending on the selected ones, transitively",
    )
    parser.add_argument(
        "--full", action="store_true", help="build every selected target, even if published",
    )
    parser.add_argument(
        "--offline", action="store_true",
        help="no network: unreadable channels count as empty, git revs stay as written",
    )


def plan_request(args: argparse.Namespace) -> PlanRequest:
    return PlanRequest(tuple(args.targets) or ("//...",), args.changed_since, args.dependents,
                       args.full, args.offline)


def workspace_of(args: argparse.Namespace):
    """The workspace of `-C DIR`, or found above the current directory."""
    from orchestrator.workspace import load_workspace

    return load_workspace(args.directory, explicit=args.directory is not None)


def loaded_graph(args: argparse.Namespace, *, with_data: bool = False) -> LoadedGraph:
    """The graph of the workspace of `-C DIR` (`planning.load_graph`)."""
    import gc

    from orchestrator.planning import load_graph

    gc.freeze()  # what was imported lives as long as the run: no collection walks it again
    return load_graph(workspace_of(args), with_data=with_data)
