"""What `graph`, `why`, `plan` and `query` share: workspace → rendered recipes → graph, errors kept.

Recipes that fail to render are left out of the graph and kept in `errors`: a command still
answers with the rest, then `finish` raises them so the CLI prints each one and exits 2.
A warm run reads the graph snapshot instead (see plan_caches.py): its recipes have no `data`.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from orchestrator.errors import OrchestratorError, RecipeError, RecipeErrors
from orchestrator.graph import TargetGraph, build_graph
from orchestrator.hashing import FileIndex
from orchestrator.recipes.model import Recipe
from orchestrator.workspace import Workspace, load_workspace

FORMATS = ("text", "json")


@dataclass(frozen=True)
class Loaded:
    workspace: Workspace
    recipes: tuple[Recipe, ...]
    graph: TargetGraph
    errors: tuple[OrchestratorError, ...]  # recipes that failed to render and cycles set
    # aside, to report at the end
    files: FileIndex | None = None  # git's view of the files, read once (None outside git)
    digests: Mapping[str, str] = field(default_factory=dict)  # target → rendered recipe digest
    key: str | None = None  # the graph's snapshot key, when it is snapshotted

    def plan_inputs(self) -> dict:
        """The keyword arguments that spare `plan_graph` reading again what was read here."""
        return {"files": self.files, "recipe_digests": self.digests, "graph_key": self.key}


def load(args: argparse.Namespace, *, with_data: bool = False) -> Loaded:
    """The workspace of `-C DIR` (or found above the current directory), rendered, as a graph;
    `with_data`: recipes with their rendered tree (the render cache, not the graph snapshot)."""
    from orchestrator.plan_caches import save_snapshot
    from orchestrator.planning import prepare

    gc.freeze()  # what was imported lives as long as the run: no collection walks it again
    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    prepared = prepare(workspace)
    files, keys, key = prepared.files, prepared.keys, prepared.key
    if prepared.snapshot is not None and not with_data:
        graph = prepared.snapshot.graph
        recipes = tuple(graph.recipe(t) for t in graph.graph)
        return Loaded(workspace, recipes, graph, (), files, prepared.snapshot.digests, key)
    from orchestrator.recipes.render_workspace import render_keyed  # the snapshot missed

    rendered = render_keyed(workspace, keys)
    try:
        graph = build_graph(rendered.recipes, strict=False)  # cycles: answer on the rest
    except RecipeErrors as exc:
        raise RecipeErrors([*rendered.errors, *exc.errors]) from None
    except OrchestratorError as exc:
        raise _with_recipe_errors(rendered.errors, exc) from None
    errors = (*rendered.errors, *graph.notes.errors)
    if errors:
        return Loaded(workspace, tuple(rendered.recipes), graph, errors, files,
                      rendered.digests)
    save_snapshot(workspace.cache_dir, key, graph, rendered.digests)
    return Loaded(workspace, tuple(rendered.recipes), graph, (), files, rendered.digests, key)


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
    """Run a command's body; recipe errors are raised after its output, or with its error.
    What the graph has to say (cycles broken at a test requirement, requirements no variant
    satisfies) is said first, once."""
    for warning in loaded.graph.notes.warnings:
        print(f"warning: {warning}", file=sys.stderr)
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
    write(json_text(document))


def json_text(document: object) -> str:
    """JSON with each top-level key, and each item of a top-level list, on its own line:
    readable and diffable, and written by json's C encoder (`indent=` falls back to the
    pure-Python one: 0.4 s instead of 0.04 s for a plan of 5,000 targets)."""
    import json

    if not isinstance(document, dict) or not document:
        return json.dumps(document)
    members = [f"{json.dumps(key)}: {_json_value(value)}" for key, value in document.items()]
    return "{\n  " + ",\n  ".join(members) + "\n}"


def _json_value(value: object) -> str:
    import json

    if isinstance(value, list) and value:
        return "[\n    " + ",\n    ".join(map(json.dumps, value)) + "\n  ]"
    return json.dumps(value)


def render_tree(*trees) -> str:
    """Rich Trees (or tables) as plain text, never wrapped (so scripts and pipes see whole
    lines); one console for all of them (setting one up costs more than a small tree)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=1_000_000, color_system=None, highlight=False)
    for tree in trees:
        console.print(tree)
    return buffer.getvalue()
