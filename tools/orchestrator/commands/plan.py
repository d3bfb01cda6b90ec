"""`orchestrate plan [TARGETS...]`: what must be built, in which order, and why.

Text is a table of the targets to build, dependencies first, each with its reasons, then how
many are up to date; JSON is `plan_document` (the shape scripts and CI rely on).
"""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands._load import add_format, load, render_tree, reporting, write, write_json
from orchestrator.plan import Plan, PlanNode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", default=[],
        help="target patterns (//..., //recipes/..., a label or a package name; default //...)",
    )
    add_plan_options(parser)
    add_format(parser)


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    """The options `plan` shares with `build`."""
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


def run(args: argparse.Namespace) -> int:
    from orchestrator.planning import plan_graph

    loaded = load(args)
    with reporting(loaded):
        plan = plan_graph(
            loaded.workspace, loaded.graph, args.targets or ["//..."],
            changed_since=args.changed_since, dependents=args.dependents,
            full=args.full, offline=args.offline, **loaded.plan_inputs(),
        )
        warn(plan.notices)
        if args.format == "json":
            write_json(plan_document(plan))
        else:
            write(plan_text(plan))
    return 0


def warn(notices) -> None:
    for notice in notices:
        print(f"warning: {notice}", file=sys.stderr)


def plan_document(plan: Plan) -> dict:
    return {
        "platform": plan.platform,
        "channel": plan.channel,
        "nodes": [node_document(n) for n in plan.nodes.values()],
        "order": list(plan.order),
    }


def node_document(node: PlanNode) -> dict:
    return {
        "target": node.target,
        "hash": node.hash,
        "action": node.action,
        "reasons": list(node.reasons),
        "outputs": [
            {"name": o.name, "version": o.version, "build": o.build, "subdir": o.subdir,
             "filename": o.filename}
            for o in node.outputs
        ],
    }


def plan_text(plan: Plan) -> str:
    summary = _summary(plan)
    if not plan.order:
        return f"nothing to build for {plan.platform}: {summary}\n"
    table = "".join(line.rstrip() + "\n" for line in render_tree(_table(plan)).splitlines())
    return table + summary + "\n"


def _summary(plan: Plan) -> str:
    parts = [f"{len(plan.order)} to build", f"{plan.count('up-to-date')} up to date"]
    if plan.count("skipped"):
        parts.append(f"{plan.count('skipped')} skipped on {plan.platform}")
    return ", ".join(parts)


def _table(plan: Plan):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"plan for {plan.platform} → {plan.channel}", box=box.SIMPLE, title_justify="left"
    )
    for column in ("#", "target", "hash", "reasons"):
        table.add_column(column, no_wrap=True)
    for number, target in enumerate(plan.order, 1):
        node = plan.nodes[target]
        # Text: a node id's `[python=3.12]` is not rich markup
        table.add_row(str(number), Text(target), node.hash[:10], Text("\n".join(node.reasons)))
    return table
