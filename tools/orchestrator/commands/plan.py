"""`orchestrate plan [TARGETS...]`: what must be built, in which order, and why.

Text is a table of the targets to build, dependencies first, each with its reasons, then how
many are up to date; JSON is `plan_document` (the shape scripts and CI rely on).
"""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands._output import add_format, render_tree, write, write_json
from orchestrator.commands._plan_options import add_plan_options, loaded_graph, plan_request
from orchestrator.commands._recipe_errors import reporting
from orchestrator.plan import Plan, PlanNode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_options(parser)
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from orchestrator.planning import plan_graph

    loaded = loaded_graph(args)
    with reporting(loaded):
        plan = plan_graph(loaded, plan_request(args))
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
