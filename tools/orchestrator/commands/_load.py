"""What `graph`, `why` and `query` share: workspace → rendered recipes → graph, errors kept.

Recipes that fail to render are left out of the graph and kept in `errors`: a command still
answers with the rest, then `finish` raises them so the CLI prints each one and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from orchestrator.errors import RecipeError, RecipeErrors
from orchestrator.graph import TargetGraph, build_graph
from orchestrator.recipes.model import Recipe
from orchestrator.workspace import Workspace, load_workspace

FORMATS = ("text", "json")


@dataclass(frozen=True)
class Loaded:
    workspace: Workspace
    recipes: tuple[Recipe, ...]
    graph: TargetGraph
    errors: tuple[RecipeError, ...]  # recipes that failed to render, to report at the end


def load(args: argparse.Namespace) -> Loaded:
    """The workspace of `-C DIR` (or found above the current directory), rendered, as a graph."""
    from orchestrator.recipes.render import render_workspace

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    rendered = render_workspace(workspace)
    try:
        graph = build_graph(rendered.recipes)
    except RecipeErrors as exc:
        raise RecipeErrors([*rendered.errors, *exc.errors]) from None
    return Loaded(workspace, tuple(rendered.recipes), graph, tuple(rendered.errors))


def finish(loaded: Loaded) -> int:
    """0 when every recipe rendered; otherwise RecipeErrors, raised after the output is out."""
    if loaded.errors:
        sys.stdout.flush()
        raise RecipeErrors(list(loaded.errors))
    return 0


def add_format(parser: argparse.ArgumentParser, *formats: str) -> None:
    choices = formats or FORMATS
    parser.add_argument(
        "--format", choices=choices, default="text", help=f"output format ({', '.join(choices)})"
    )


def write(text: str) -> None:
    """Command output (not errors) goes to stdout, ending with one newline."""
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")


def write_json(document: object) -> None:
    import json

    write(json.dumps(document, indent=2, sort_keys=False))


def render_tree(tree) -> str:
    """A rich Tree as plain text, never wrapped (so scripts and pipes see whole lines)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=1_000_000, color_system=None, highlight=False).print(tree)
    return buffer.getvalue()
