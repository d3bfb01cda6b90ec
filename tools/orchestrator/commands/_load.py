"""What `graph`, `why` and `query` share: workspace → rendered recipes → graph, errors kept.

Recipes that fail to render are left out of the graph and kept in `errors`: a command still
answers with the rest, then `finish` raises them so the CLI prints each one and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from orchestrator.errors import OrchestratorError, RecipeError, RecipeErrors
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
    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    from orchestrator.recipes.render import render_workspace  # the heavy part, only when needed

    rendered = render_workspace(workspace)
    try:
        graph = build_graph(rendered.recipes)
    except RecipeErrors as exc:
        raise RecipeErrors([*rendered.errors, *exc.errors]) from None
    except OrchestratorError as exc:
        raise _with_recipe_errors(rendered.errors, exc) from None
    return Loaded(workspace, tuple(rendered.recipes), graph, tuple(rendered.errors))


class StoppedAfterRecipeErrors(OrchestratorError):
    """Recipes failed and then the command stopped (often because of them): report both."""

    def __init__(self, recipe_errors: tuple[RecipeError, ...], stop: OrchestratorError):
        self.recipe_errors = recipe_errors
        self.stop = stop
        self.exit_code = stop.exit_code
        super().__init__(str(stop))

    def lines(self) -> list[str]:
        return [*(str(e) for e in self.recipe_errors), *self.stop.lines()]


def _with_recipe_errors(errors, stop: OrchestratorError) -> OrchestratorError:
    return StoppedAfterRecipeErrors(tuple(errors), stop) if errors else stop


@contextmanager
def reporting(loaded: Loaded) -> Iterator[None]:
    """Run a command's body; recipe errors are raised after its output, or with its error."""
    try:
        yield
    except OrchestratorError as exc:
        raise _with_recipe_errors(loaded.errors, exc) from None
    if loaded.errors:
        sys.stdout.flush()
        raise RecipeErrors(list(loaded.errors))


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
