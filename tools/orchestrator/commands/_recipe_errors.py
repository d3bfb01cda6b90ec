"""Recipes that failed and cycles set aside: a command answers on the rest, then reports them.

`reporting(loaded)` wraps a command's body: what the graph has to say (cycles broken at a test
requirement, requirements no variant satisfies) first, once; then the body; then the errors of
`loaded` (exit 2), or, when the body stopped, those errors with what stopped it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from orchestrator.errors import OrchestratorError, RecipeErrors, StoppedAfterRecipeErrors
from orchestrator.planning import LoadedGraph


@contextmanager
def reporting(loaded: LoadedGraph) -> Iterator[None]:
    """Run a command's body; recipe errors are raised after its output, or with its error."""
    for warning in loaded.graph.notes.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        yield
    except OrchestratorError as exc:
        raise with_recipe_errors(loaded.errors, exc) from None
    if loaded.errors:
        sys.stdout.flush()
        raise RecipeErrors(list(loaded.errors))


def with_recipe_errors(errors, stop: OrchestratorError) -> OrchestratorError:
    return StoppedAfterRecipeErrors(tuple(errors), stop) if errors else stop
