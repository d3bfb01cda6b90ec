"""Upstream versions of recipes: which checker understands a recipe, and what it says is newest.

A checker (PyPI, an HTTP directory listing, GitHub releases) sits behind the `Checker`
Protocol and in the `CHECKERS` dict; the first whose `project()` recognises a recipe asks its
upstream. `check_all` runs them in a bounded thread pool: a failing checker becomes one line in
its result, never an exception, and a recipe no checker understands is reported as such.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from orchestrator.errors import OrchestratorError


class UpstreamError(OrchestratorError):
    """An upstream that could not be asked or did not answer sensibly (one line: why)."""


@dataclass(frozen=True)
class Settings:
    pypi_url: str
    github_api_url: str
    timeout: float
    jobs: int
    prereleases: bool


@dataclass(frozen=True)
class Query:
    """What a checker may look at: the recipe's rendered url sources and `extra: upstream:`."""

    target: str
    path: str
    version: str
    urls: tuple[str, ...] = ()
    upstream: tuple[tuple[str, str], ...] = ()  # (checker name, project) from extra.upstream


@dataclass(frozen=True)
class Release:
    version: str
    changelog: str = ""
    files: tuple[tuple[str, str, str], ...] = ()  # (file name, url, sha256 or "")


@dataclass(frozen=True)
class Result:
    target: str
    path: str
    current: str
    checker: str = ""  # "" when no checker understands the recipe
    project: str = ""
    latest: Release | None = None
    error: str = ""
    newer: bool = field(default=False)

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if not self.checker:
            return "unknown"
        return "outdated" if self.newer else "current"


class Checker(Protocol):
    name: str

    def project(self, query: Query) -> str | None:
        """The upstream project this recipe comes from, or None when not this checker's."""

    def latest(self, project: str, query: Query, settings: Settings) -> Release:
        """The newest release (no pre-releases unless settings ask); raises UpstreamError."""


def settings_from(config) -> Settings:
    """`[updates]` of WORKSPACE.toml; ORCHESTRATE_PYPI_URL / ORCHESTRATE_GITHUB_API_URL win."""
    return Settings(
        pypi_url=os.environ.get("ORCHESTRATE_PYPI_URL", config.pypi_url).rstrip("/"),
        github_api_url=os.environ.get("ORCHESTRATE_GITHUB_API_URL", config.github_api_url)
        .rstrip("/"),
        timeout=config.timeout, jobs=config.jobs, prereleases=config.prereleases,
    )


def checkers() -> dict[str, Checker]:
    from orchestrator.updates.github import GitHubReleases
    from orchestrator.updates.listing import DirectoryListing
    from orchestrator.updates.pypi import PyPI

    return {c.name: c for c in (PyPI(), GitHubReleases(), DirectoryListing())}


def check(query: Query, settings: Settings, registry: dict[str, Checker]) -> Result:
    from orchestrator.updates.versions import is_newer

    base = Result(query.target, query.path, query.version)
    for checker in registry.values():
        project = checker.project(query)
        if project is None:
            continue
        found = Result(query.target, query.path, query.version, checker.name, project)
        try:
            release = checker.latest(project, query, settings)
        except UpstreamError as exc:
            return _replace(found, error=str(exc))
        return _replace(found, latest=release, newer=is_newer(release.version, query.version))
    return base


def _replace(result: Result, **changes) -> Result:
    from dataclasses import replace

    return replace(result, **changes)


def check_all(queries: Iterable[Query], settings: Settings,
              advance: Callable[[Result], None] = lambda r: None) -> list[Result]:
    """Every query checked, `settings.jobs` at a time; results in the queries' order."""
    registry = checkers()
    queries = list(queries)
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        futures = [pool.submit(check, q, settings, registry) for q in queries]
        results = []
        for future in futures:
            results.append(future.result())
            advance(results[-1])
    return results
