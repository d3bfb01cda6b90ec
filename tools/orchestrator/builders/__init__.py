"""Builders: a BuildRequest becomes a command (Invocation) and, once run, checked package files.

Every builder follows the `Builder` Protocol and is listed in `BUILDERS` by the name
WORKSPACE.toml uses in `[build] builder`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from orchestrator.builders.conda_build import CondaBuild
from orchestrator.builders.rattler_build import RattlerBuild
from orchestrator.builders.request import BuildRequest, Invocation


class Builder(Protocol):
    name: str

    def prepare(self, request: BuildRequest) -> None:
        """Write what the command needs into `request.work_dir` (translated recipe, config)."""

    def invocation(self, request: BuildRequest) -> Invocation:
        """The build command for `request`, as data (pure: call `prepare` first)."""

    def collect(self, request: BuildRequest) -> list[Path]:
        """The packages produced in `request.output_dir`; BuildError if any differs from plan."""


BUILDERS: dict[str, type[Builder]] = {"rattler-build": RattlerBuild, "conda-build": CondaBuild}


def builder_for(name: str, recipe_format: str) -> Builder:
    """The builder of one recipe: with `conda-build`, recipe.yaml recipes (which conda-build
    cannot read) go to rattler-build, into the same graph and channel."""
    if name == "conda-build" and recipe_format != "meta.yaml":
        return RattlerBuild()
    return BUILDERS[name]()

__all__ = ["BUILDERS", "BuildRequest", "Builder", "CondaBuild", "Invocation", "RattlerBuild",
           "builder_for"]
