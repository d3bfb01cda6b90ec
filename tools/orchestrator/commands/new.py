"""`orchestrate new pypi NAME [--version V]`: a recipe for a PyPI package under
`recipes/python-<name>/`, written by grayskull and normalised to the workspace's conventions
(see new_recipe.py). A name the workspace already has is updated instead (`orchestrate update`).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from orchestrator.commands._output import write
from orchestrator.errors import OrchestratorError
from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    pypi = kinds.add_parser("pypi", help="a Python package from PyPI (grayskull)")
    pypi.add_argument("name", help="the PyPI project name")
    pypi.add_argument("--version", help="this version instead of the newest")


def run(args: argparse.Namespace) -> int:
    from orchestrator import new_recipe

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    directory = new_recipe.directory_for(args.name)
    existing = _existing(workspace, args.name, directory)
    if existing:
        return _update_existing(workspace, existing, args.version)
    text = _generated(workspace, args.name, args.version)
    target = workspace.root / directory / "meta.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    write(f"created {directory}/meta.yaml (//{directory})")
    return 0


def _all_recipes(workspace) -> list:
    from orchestrator.commands._rendered import selected_recipes
    from orchestrator.errors import PatternError

    try:
        return selected_recipes(workspace, ["//..."])[0]
    except PatternError:  # a workspace without recipes yet
        return []


def _existing(workspace, name: str, directory: str) -> str | None:
    """The target already packaging `name`: its usual directory, or any recipe producing it."""
    from orchestrator.new_recipe import normalized_name

    if (workspace.root / directory).is_dir():
        return f"//{directory}"
    wanted = normalized_name(name)
    return next((r.target for r in _all_recipes(workspace) for o in r.outputs
                 if normalized_name(o.name) == wanted), None)


def _update_existing(workspace, target: str, version: str | None) -> int:
    from orchestrator.commands._rendered import selected_recipes
    from orchestrator.commands.update import update_one

    write(f"{target} exists: updating it")
    recipes, _ = selected_recipes(workspace, [target])
    update_one(workspace, recipes[0], version, dry_run=False)
    return 0


def _generated(workspace, name: str, version: str | None) -> str:
    from orchestrator import new_recipe, proc, updates

    settings = updates.settings_from(workspace.config.updates)
    scratch = workspace.cache_dir / "new"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as temp:
        output = Path(temp)
        argv = new_recipe.grayskull_argv(name, version, output, settings.pypi_url)
        try:
            proc.run(argv, log=output / "grayskull.log", timeout=600, cwd=output)
        except proc.ProcessFailed as exc:
            raise NewRecipeError(f"grayskull failed for {name}: {exc}") from None
        generated = new_recipe.generated_meta_yaml(output)
        if generated is None:
            raise NewRecipeError(f"grayskull wrote no recipe for {name}")
        text = generated.read_text(encoding="utf-8")
    return new_recipe.normalised(text, _conventions(workspace, name, settings))


def _conventions(workspace, name: str, settings):
    from orchestrator.new_recipe import Conventions

    recipes = _all_recipes(workspace)
    producers = frozenset(o.name for r in recipes for o in r.outputs)
    info = _pypi_info(name, settings)
    license = info.get("license_expression") or info.get("license") or ""
    home = (info.get("project_urls") or {}).get("Homepage") or info.get("home_page") or ""
    return Conventions(producers, home or f"https://pypi.org/project/{name}/",
                       license if len(license) < 80 else "")


def _pypi_info(name: str, settings) -> dict:
    from orchestrator.updates import UpstreamError
    from orchestrator.updates.http import get_json

    try:
        document = get_json(f"{settings.pypi_url}/pypi/{name}/json", settings.timeout)
    except UpstreamError:
        return {}
    return document.get("info") or {} if isinstance(document, dict) else {}


class NewRecipeError(OrchestratorError):
    """grayskull could not write the recipe."""
