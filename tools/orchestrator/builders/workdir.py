"""What every builder puts in a job's work dir: a copy of the recipe's directory."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestrator.builders.request import BuildRequest
from orchestrator.errors import BuildError


def copy_recipe_dir(request: BuildRequest, destination: Path) -> None:
    """The recipe's directory (patches, test files, build scripts) beside the written recipe."""
    try:
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(request.recipe_dir, destination, symlinks=True)
    except OSError as exc:
        raise BuildError(
            f"{request.recipe.path}: cannot copy the recipe directory: {exc}") from None
