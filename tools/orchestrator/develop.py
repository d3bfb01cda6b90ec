"""A developer's environment for one project: its build, host, run and test requirements
solved (py-rattler) from the workspace's channels and installed into a prefix, then the
project itself installed editable (`pip install -e --no-deps`), with an activation script.

Re-running solves again with what is installed as locked packages (so only what changed moves)
and installs over the same prefix: the environment is updated, not rebuilt.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import OrchestratorError
from orchestrator.recipes.model import Recipe

SECTIONS = ("build", "host", "run", "test")
ACTIVATE = "activate.sh"


class DevelopError(OrchestratorError):
    """The environment cannot be solved or installed."""


@dataclass(frozen=True)
class Environment:
    prefix: Path
    packages: tuple[str, ...]  # name-version-build of every installed package
    activate: Path


def requirement_specs(recipe: Recipe) -> list[str]:
    """Every requirement of the project's outputs, the project's own packages left out."""
    own = {o.name for o in recipe.outputs}
    specs = {r.spec for o in recipe.outputs for r in o.requirements_in(*SECTIONS)
             if r.name not in own}
    return sorted(specs)


def channel_urls(workspace) -> list[str]:
    return [c.url for c in (workspace.target_channel, *workspace.extra_channels)]


def solve_and_install(channels: list[str], specs: list[str], prefix: Path, platform: str,
                      cache: Path) -> tuple[str, ...]:
    from rattler import PrefixRecord, install, solve
    from rattler.exceptions import SolverError

    installed = [PrefixRecord.from_path(p) for p in sorted((prefix / "conda-meta").glob("*.json"))]

    async def go():
        records = await solve(channels, specs, platforms=[platform, "noarch"],
                              locked_packages=installed)
        await install(records, prefix, cache_dir=cache, installed_packages=installed,
                      show_progress=False)
        return tuple(sorted(f"{r.name.normalized}-{r.version}-{r.build}" for r in records))

    try:
        return asyncio.run(go())
    except SolverError as exc:
        raise DevelopError(f"cannot solve {' '.join(specs)}: {str(exc).splitlines()[0]}") from None


def write_activation(prefix: Path) -> Path:
    from rattler.shell import ActivationVariables, Shell, activate

    result = activate(prefix, ActivationVariables(None, ()), Shell.bash)
    script = prefix / ACTIVATE
    script.write_text(result.script, encoding="utf-8")
    return script


def pip_editable_argv(prefix: Path, project: Path) -> list[str]:
    return [str(prefix / "bin" / "python"), "-m", "pip", "install", "--no-deps",
            "--no-build-isolation", "-e", str(project)]
