"""`orchestrate render [TARGETS...] [--format yaml|json]`: each target and variant as rendered.

Like `conda render` / `rattler-build build --render-only`: per node of the graph (a target and
one variant), the variant values it uses, and per output its name, version, build number,
noarch, skip, requirements by section, run_exports and test requirements. The recipes come the
way `plan` gets them (`planning.load_graph`), with their rendered tree.
"""

from __future__ import annotations

import argparse
from typing import Any

from orchestrator.commands._output import add_format, write
from orchestrator.commands._plan_options import loaded_graph
from orchestrator.commands._recipe_errors import reporting
from orchestrator.graph import TargetGraph, select, unlinked_graph
from orchestrator.recipes.model import Output, Recipe

SECTIONS = ("build", "host", "run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", default=["//..."], help="patterns (default //...)")
    add_format(parser, "yaml", "json")
    parser.set_defaults(format="yaml")


def run(args: argparse.Namespace) -> int:
    loaded = loaded_graph(args, with_data=True)
    with reporting(loaded):
        every = unlinked_graph(loaded.recipes)  # a recipe on a cycle renders all the same
        document = render_document(every, select(every, args.targets))
        write(_json(document) if args.format == "json" else _yaml(document))
    return 0


def render_document(tg: TargetGraph, nodes: list[str]) -> list[dict[str, Any]]:
    return [node_document(tg.recipe(n)) for n in nodes]


def node_document(recipe: Recipe) -> dict[str, Any]:
    return {
        "target": recipe.target,
        "variant": dict(recipe.variant),
        "recipe": recipe.path,
        "outputs": [_output(recipe, o) for o in recipe.outputs],
    }


def _output(recipe: Recipe, output: Output) -> dict[str, Any]:
    requirements = {s: [r.spec for r in output.requirements_in(s)] for s in SECTIONS}
    # a skipped variant has no requirements (render.py), its constraints neither
    requirements["run_constrained"] = [] if recipe.skipped else run_constrained(recipe,
                                                                               output.name)
    return {
        "name": output.name, "version": output.version, "build_number": output.build_number,
        "noarch": output.noarch, "skip": recipe.skipped, "requirements": requirements,
        "run_exports": list(output.run_exports),
        "test_requires": [r.spec for r in output.requirements_in("test")],
    }


def run_constrained(recipe: Recipe, name: str) -> list[str]:
    """The output's run constraints from the rendered tree (meta.yaml `run_constrained`, v1
    `run_constraints`), the output's own or, for the package itself, the top-level ones."""
    key = "run_constraints" if recipe.format == "recipe.yaml" else "run_constrained"
    node = _output_node(recipe.data, name, recipe.format == "recipe.yaml")
    reqs = node.get("requirements") if isinstance(node, dict) else None
    found = reqs.get(key) if isinstance(reqs, dict) else None
    return [str(s) for s in found if s is not None] if isinstance(found, list) else []


def _output_node(data: dict, name: str, v1: bool) -> dict:
    for item in data.get("outputs") or ():
        package = item.get("package", {}) if v1 and isinstance(item, dict) else item
        if isinstance(package, dict) and package.get("name") == name:
            return item
    return data


def _json(document: list) -> str:
    """One node a line (readable and diffable, as `_output.json_text` does for documents)."""
    import json

    return "[\n  " + ",\n  ".join(map(json.dumps, document)) + "\n]" if document else "[]"


def _yaml(document: list) -> str:
    import yaml

    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False) if document else ""
