"""`orchestrate develop //internal/x [--env DIR]`: an environment with the project's build,
host, run and test requirements from the workspace's channels and the project installed
editable (develop.py). Prints the line that activates it; running it again updates it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestrator.commands._output import write
from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="the project, e.g. //internal/own-util")
    parser.add_argument("--env", type=Path, metavar="DIR",
                        help="the environment (default cache/develop/<project>)")


def run(args: argparse.Namespace) -> int:
    from orchestrator import develop, proc
    from orchestrator.cache import target_slug
    from orchestrator.commands._rendered import selected_recipes

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    recipes, _ = selected_recipes(workspace, [args.target])
    recipe = recipes[0]
    prefix = (args.env or workspace.cache_dir / "develop" / target_slug(recipe.target)).resolve()
    specs = develop.requirement_specs(recipe)
    packages = develop.solve_and_install(develop.channel_urls(workspace), specs, prefix,
                                         workspace.platform, workspace.cache_dir / "pkgs")
    project = workspace.root / recipe.target.removeprefix("//")
    try:
        proc.run(develop.pip_editable_argv(prefix, project), log=prefix / "develop.log",
                 timeout=900)
    except proc.ProcessFailed as exc:
        raise develop.DevelopError(f"pip install -e {project}: {exc}") from None
    script = develop.write_activation(prefix)
    write(f"{recipe.target}: {len(packages)} packages in {prefix}, the project editable")
    write(f"activate with: source {script}")
    return 0
