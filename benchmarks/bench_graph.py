"""Benchmark: build the graph of 5,000 targets with ~25,000 edges, then a `why` on a deep leaf.

Goal: the graph builds in well under a second; `why` is cheap (reverse BFS + capped walk).
Run: .venv/bin/python benchmarks/bench_graph.py
"""

from __future__ import annotations

import random
import time

from orchestrator import graph as g
from orchestrator.recipes.model import Output, Recipe, Requirement

TARGETS, DEPS_PER_TARGET = 5_000, 5


def synthetic_recipes(seed: int = 0) -> list[Recipe]:
    """Target i needs 5 packages of lower-numbered targets (a DAG) plus two third-party ones."""
    rng = random.Random(seed)
    recipes = []
    for i in range(TARGETS):
        names = {f"p{j}" for j in rng.sample(range(i), min(i, DEPS_PER_TARGET))}
        reqs = [Requirement(n, f"{n} >=1", rng.choice(("build", "host", "run"))) for n in names]
        reqs += [Requirement("pip", "pip", "host"), Requirement("python", "python", "run")]
        out = Output(f"p{i}", "1.0", requirements=tuple(sorted(reqs, key=lambda r: r.name)))
        recipes.append(Recipe(f"//recipes/p{i}", f"recipes/p{i}/meta.yaml", "meta.yaml", (out,)))
    return recipes


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    print(f"{label}: {time.perf_counter() - start:.3f}s")
    return result


def main() -> None:
    recipes = synthetic_recipes()
    tg = timed("build_graph", lambda: g.build_graph(recipes))
    print(f"  {tg.graph.number_of_nodes()} targets, {tg.graph.number_of_edges()} edges")
    timed("build_order(//...)", lambda: g.build_order(tg, g.select(tg, ["//..."])))
    answer = timed("why p0", lambda: g.why(tg, "p0"))
    print(f"  needed by {len(answer.needed_by)}, {len(answer.paths)} paths, "
          f"truncated={answer.truncated}")
    timed("why pip", lambda: g.why(tg, "pip"))
    timed("rdeps p10", lambda: g.rdeps(tg, ["//recipes/p10"]))
    timed("with_dependencies(//...)", lambda: g.with_dependencies(tg, list(tg.graph)))


if __name__ == "__main__":
    main()
