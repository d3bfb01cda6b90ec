"""`orchestrate why PKG` / `orchestrate why A B`: who needs a package, through which requirements.

Text is a tree from each top-level target down to the package, each step showing the section and
the requirement as written (in the spirit of `nix why-depends`); JSON is `why_document`.
"""

from __future__ import annotations

import argparse

from orchestrator.commands._output import add_format, write, write_json
from orchestrator.commands._plan_options import loaded_graph
from orchestrator.commands._recipe_errors import reporting
from orchestrator.commands._tree import TextTree, tree_text
from orchestrator.errors import OrchestratorError
from orchestrator.graph import TargetGraph, Why, describe_step, why


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names", nargs="+", metavar="PKG",
        help="a package or target label; with two, the paths from the first to the second",
    )
    add_format(parser)
    add_status_option(parser)


def run(args: argparse.Namespace) -> int:
    if len(args.names) > 2:
        raise OrchestratorError("why takes PKG, or A B (the paths from A to B)")
    loaded = loaded_graph(args)
    with reporting(loaded):
        source, name = (None, *args.names) if len(args.names) == 1 else args.names
        answer = why(loaded.graph, name, source=source)
        status = plan_status(loaded, answer) if args.status else None
        if args.format == "json":
            write_json(why_document(answer) | ({"status": status} if args.status else {}))
        else:
            write(why_text(loaded.graph, answer, source) + status_text(status))
    return 0


def why_document(answer: Why) -> dict:
    """The JSON answer; `plan`-aware callers may add keys (e.g. "status") to this dict."""
    return {
        "target": answer.target,
        "package": answer.package,
        "needed_by": list(answer.needed_by),
        "paths": [list(p) for p in answer.paths],
        "truncated": answer.truncated,
    }


def why_text(tg: TargetGraph, answer: Why, source: str | None = None) -> str:
    subject = _subject(answer)
    if not answer.paths:
        where = f"from {source}" if source else "in this workspace"
        return f"nothing {where} depends on {subject}\n"
    header = f"{subject} is needed by {len(answer.needed_by)} target(s):\n"
    trees = tree_text(*_trees(tg, answer))
    more = f"(first {len(answer.paths)} paths shown)\n" if answer.truncated else ""
    return header + trees + more


def _subject(answer: Why) -> str:
    if answer.target is None:
        return f"{answer.package} (third-party)"
    return f"{answer.package} ({answer.target})" if answer.package else answer.target


def _trees(tg: TargetGraph, answer: Why) -> list[TextTree]:
    """The paths merged by common prefix into one tree per top-level target."""
    trees: dict[str, TextTree] = {}
    branches: dict[tuple[str, ...], TextTree] = {}
    for path in answer.paths:
        root = path[0]
        if root not in trees:
            trees[root] = branches[path[:1]] = TextTree(root)
        for i in range(1, len(path)):
            if path[: i + 1] not in branches:
                step = describe_step(_step(tg, answer, path[i - 1], path[i]))
                branches[path[: i + 1]] = branches[path[:i]].add(f"--{step}--> {path[i]}")
        if answer.target is None:
            step = describe_step(tg.requirements(path[-1], answer.package))
            branches[path].add(f"--{step}--> {answer.package}")
    return list(trees.values())


def _step(tg: TargetGraph, answer: Why, dependent: str, dependency: str) -> tuple:
    """The requirements behind one step; into the asked target (any of its variants), only
    those on the package."""
    reqs = tg.requirements(dependent, dependency)
    if answer.target and answer.package and dependency in tg.nodes_of(answer.target):
        reqs = tuple(r for r in reqs if r.name == answer.package) or reqs
    return reqs


# ---------------------------------------------------------------- plan status


def add_status_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status", action=argparse.BooleanOptionalAction, default=True,
        help="say whether the target and those needing it will be built, and why "
        "(default; --no-status answers from the graph alone, without git or channels)",
    )


def plan_status(loaded, answer: Why) -> dict[str, dict]:
    """node → {"action", "reasons"} from the plan of the asked target (every variant of a
    label) and its dependents."""
    from orchestrator.plan import PlanRequest
    from orchestrator.planning import plan_graph

    asked = loaded.graph.nodes_of(answer.target) if answer.target else ()
    targets = sorted({*asked, *answer.needed_by})
    if not targets:
        return {}
    plan = plan_graph(loaded, PlanRequest(tuple(targets)))
    return {
        t: {"action": plan.nodes[t].action, "reasons": list(plan.nodes[t].reasons)}
        for t in targets
    }


def status_text(status: dict[str, dict] | None) -> str:
    """One line per target: `//x: build (not in channel ..., input changed: ...)`."""
    if status is None:
        return ""
    lines = ["status:"]
    for target, entry in status.items():
        why_built = f" ({'; '.join(entry['reasons'])})" if entry["reasons"] else ""
        lines.append(f"  {target}: {entry['action']}{why_built}")
    return "\n".join(lines) + "\n"
