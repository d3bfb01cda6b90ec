"""What a builder is asked (`BuildRequest`) and what it answers (`Invocation`): plain records.

A builder never runs anything: it describes the command as an `Invocation` (argv, env, cwd and
the paths it reads and writes), so that the containers module can wrap it in `docker run` and
proc.py can run it, and afterwards `collect`s and checks the packages it produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import BuildError
from orchestrator.recipes.model import Output, Recipe
from orchestrator.workspace import Channel


@dataclass(frozen=True)
class BuildRequest:
    recipe: Recipe
    workspace_root: Path
    build_strings: Mapping[str, str]  # output (package) name → build string the plan expects
    channels: tuple[Channel, ...]  # target channel first
    output_dir: Path
    work_dir: Path  # the builder's own scratch space for this job (translated recipe, config)
    source_cache: Path
    platform: str = "linux-64"
    variant: Mapping[str, str] = field(default_factory=dict)
    log: Path | None = None
    test: str = "native"  # "native" runs the recipe's tests, "skip" does not
    conda_build: str = "conda-build"  # the conda-build command ([build] conda_build)

    def subdir_of(self, output: Output) -> str:
        return "noarch" if output.noarch else self.platform

    def build_string_of(self, output: Output) -> str:
        if output.name not in self.build_strings:
            raise BuildError(f"{self.recipe.path}: the plan has no build string for output "
                             f"`{output.name}` (planned: {', '.join(sorted(self.build_strings))})")
        return self.build_strings[output.name]

    @property
    def recipe_dir(self) -> Path:
        return self.workspace_root / self.recipe.directory


@dataclass(frozen=True)
class Invocation:
    """A command described as data: run it as is, or wrap it (containers.wrap).

    `env` is only what the builder sets (all a container is given of it, by name); which of
    the caller's own variables the command also sees when it runs on this machine is
    `passed` (names; None: all of them but those starting with a `withheld` prefix)."""

    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    reads: tuple[Path, ...] = ()  # mounted read-only in a container
    writes: tuple[Path, ...] = ()  # mounted read-write in a container
    passed: tuple[str, ...] | None = ()
    withheld: tuple[str, ...] = ()  # prefixes, compared upper-case

    def environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The command's whole environment on this machine, given the caller's `environ`."""
        if self.passed is None:
            given = {k: v for k, v in environ.items() if not k.upper().startswith(self.withheld)}
        else:
            given = {k: environ[k] for k in self.passed if k in environ}
        return {**given, **self.env}
