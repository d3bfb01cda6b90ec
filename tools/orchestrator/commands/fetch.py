"""`orchestrate fetch [TARGETS]`: download the url sources of targets into the source cache.

Each download is verified against the recipe's sha256 and stored under
cache/sources/<sha256>/, where builders find it; sources already there are not downloaded again.
A url source without a sha256 cannot be cached by content and is reported, not fetched.
"""

from __future__ import annotations

import argparse

from orchestrator import cache
from orchestrator.commands._output import write
from orchestrator.commands._plan_options import loaded_graph
from orchestrator.commands._recipe_errors import reporting
from orchestrator.errors import OrchestratorError
from orchestrator.graph import select


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", default=["//..."], help="patterns (default //...)")


def run(args: argparse.Namespace) -> int:
    loaded = loaded_graph(args)
    with reporting(loaded):
        cache_dir = loaded.workspace.cache_dir
        problems = []
        for target in select(loaded.graph, args.targets):
            recipe = loaded.graph.graph.nodes[target]["recipe"]
            problems += _fetch_recipe(cache_dir, recipe)
        if problems:
            raise FetchFailed(problems)
    return 0


def _fetch_recipe(cache_dir, recipe) -> list[str]:
    problems = []
    for source in recipe.sources:
        if source.kind != "url" or not source.url:
            continue
        if not source.sha256:
            problems.append(f"{recipe.path}: {source.url}: no sha256, cannot be cached")
            continue
        try:
            path = cache.fetch_source(cache_dir, source.url, source.sha256)
        except cache.SourceError as exc:
            problems.append(f"{recipe.path}: {exc}")
            continue
        write(f"{recipe.target}: {path.relative_to(cache_dir.parent)}")
    return problems


class FetchFailed(OrchestratorError):
    """Some sources could not be fetched; each one is named."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} source(s) could not be fetched")

    def lines(self) -> list[str]:
        return self.problems
