"""`orchestrate updates [TARGETS] [--format text|json] [--pre]`: the newest upstream version of
each recipe next to the current one (PyPI, GitHub releases, directory listings; see updates/).

Text lines are `target  latest (current)  changelog`; recipes no checker understands are
listed as `unknown`, a failing checker as `error: why`. Exit 0 either way: it is a report.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from orchestrator.commands._output import add_format, write, write_json
from orchestrator.errors import RecipeErrors
from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", default=["//..."], help="patterns (default //...)")
    parser.add_argument("--pre", action="store_true", help="count pre-releases too")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from orchestrator import updates
    from orchestrator.commands._rendered import selected_recipes
    from orchestrator.updates.queries import query_of

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    settings = updates.settings_from(workspace.config.updates)
    if args.pre:
        settings = dataclasses.replace(settings, prereleases=True)
    recipes, errors = selected_recipes(workspace, args.targets)
    queries = [query_of(r) for r in recipes]
    with _progress(len(queries)) as advance:
        results = updates.check_all(queries, settings, advance)
    write_json([_as_json(r) for r in results]) if args.format == "json" else _write_text(results)
    if errors:
        sys.stdout.flush()
        raise RecipeErrors(list(errors))
    return 0


class _progress:
    """A rich progress bar on stderr (transient: only the report stays on the screen)."""

    def __init__(self, total: int):
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(file=sys.stderr), transient=True)
        self.task = self.bar.add_task("checking upstreams", total=total)

    def __enter__(self):
        self.bar.start()
        return lambda result: self.bar.advance(self.task)

    def __exit__(self, *exc):
        self.bar.stop()


def _write_text(results) -> None:
    width = max((len(r.target) for r in results), default=0)
    for r in results:
        write(f"{r.target:<{width}}  {_text(r)}")


def _text(result) -> str:
    if result.status == "unknown":
        return f"unknown ({result.current}): no checker understands this recipe"
    if result.status == "error":
        return f"error ({result.current}): {result.checker}: {result.error}"
    mark = "  " + result.latest.changelog if result.newer and result.latest.changelog else ""
    state = "" if result.newer else " current"
    return f"{result.latest.version} ({result.current}){state}{mark}"


def _as_json(result) -> dict:
    latest = result.latest
    return {"target": result.target, "file": result.path, "current": result.current,
            "latest": latest.version if latest else None, "status": result.status,
            "checker": result.checker or None, "project": result.project or None,
            "changelog": latest.changelog if latest else None, "error": result.error or None}
