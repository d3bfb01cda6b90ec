"""`orchestrate plan [TARGETS...]`: what must be built, in which order, and why.

Text is a table of the targets to build, dependencies first, each with its reasons, then how
many are up to date; JSON is `plan_document` (the shape scripts and CI rely on).
"""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands._output import add_format, write, write_json
from orchestrator.commands._plan_options import add_plan_options, loaded_graph, plan_request
from orchestrator.commands._recipe_errors import reporting
from orchestrator.commands._table import table_text
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
    table = table_text(f"plan for {plan.platform} → {plan.channel}", PLAN_COLUMNS, _rows(plan))
    return "".join(line.rstrip() + "\n" for line in table.splitlines()) + summary + "\n"


def _summary(plan: Plan) -> str:
    parts = [f"{len(plan.order)} to build", f"{plan.count('up-to-date')} up to date"]
    if plan.count("skipped"):
        parts.append(f"{plan.count('skipped')} skipped on {plan.platform}")
    return ", ".join(parts)


PLAN_COLUMNS = ("#", "target", "hash", "reasons")


def _rows(plan: Plan) -> list[tuple[str, str, str, str]]:
    return [(str(number), target, plan.nodes[target].hash[:10],
             "\n".join(plan.nodes[target].reasons))
            for number, target in enumerate(plan.order, 1)]
