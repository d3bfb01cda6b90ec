"""WORKSPACE.toml → Workspace: the validated configuration and the root it lives in."""

from __future__ import annotations

import posixpath
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestrator.errors import WorkspaceError

WORKSPACE_FILE = "WORKSPACE.toml"
KNOWN_PLATFORMS = (
    "linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64", "win-64", "noarch",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


VariantValue = str | bool | int | float


class WorkspaceSection(_Strict):
    name: str
    roots: tuple[str, ...] = ("recipes", "internal")
    platform: str = "linux-64"
    variant_config: tuple[str, ...] = ()  # variant files, workspace-relative, merged in order

    @field_validator("roots")
    @classmethod
    def _roots_inside_the_workspace(cls, roots: tuple[str, ...]) -> tuple[str, ...]:
        normal = tuple(posixpath.normpath(r.replace("\\", "/")) for r in roots)
        for root in normal:
            if root == "." or root.startswith(("/", "../")) or root == "..":
                raise ValueError(
                    f"{root!r} is not a directory inside the workspace "
                    "(list the directories holding recipes, e.g. \"recipes\")"
                )
        return normal

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in KNOWN_PLATFORMS:
            raise ValueError(f"unknown platform {value!r}; one of {', '.join(KNOWN_PLATFORMS)}")
        return value


class ChannelsSection(_Strict):
    target: str = Field(default="cache/channel", min_length=1)
    extra: tuple[str, ...] = ()
    token_env: str = ""  # the environment variable holding the token of an http(s) target


class BuildOverride(_Strict):
    """Per-target settings, e.g. a recipe that needs another image."""

    image: str | None = None
    container: Literal["none", "docker", "podman"] | None = None
    timeout: float | None = Field(default=None, gt=0)
    network: bool | None = None


NO_OVERRIDE = BuildOverride()


class BuildSection(_Strict):
    builder: Literal["rattler-build", "conda-build"] = "rattler-build"
    container: Literal["none", "docker", "podman"] = "none"
    image: str = ""
    mounts: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    network: bool = True
    timeout: float = Field(default=3600.0, gt=0)
    jobs: int = Field(default=0, ge=0)
    overrides: dict[str, BuildOverride] = {}
    conda_build: str = "conda-build"  # the conda-build command (its python runs the builds)
    system_libs: tuple[str, ...] | None = None  # allowed libraries; None: manylinux2014's

    @field_validator("overrides")
    @classmethod
    def _override_keys_are_labels(cls, overrides: dict) -> dict:
        """`recipes/x`, `//recipes/x/` and `//recipes/x` all name the target `//recipes/x`."""
        return {"//" + key.strip("/"): value for key, value in overrides.items()}


class ServeSection(_Strict):
    """`orchestrate serve`: the channels one server holds (see docs/serving.md)."""

    root: str = "cache/serve"  # the directory of channels (and the token database)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    channels: tuple[str, ...] = ("testing", "staging", "stable")
    archive: str = "archive"  # where packages of `archived` channels are hard-linked
    archived: tuple[str, ...] = ("stable",)
    public: tuple[str, ...] = ()  # channels anyone may read without a token
    size_limit_mb: float = Field(default=1024.0, gt=0)


class UpdatesSection(_Strict):
    """Where `orchestrate updates` asks (tests point these at a local server)."""

    pypi_url: str = "https://pypi.org"
    github_api_url: str = "https://api.github.com"
    timeout: float = Field(default=15.0, gt=0)
    jobs: int = Field(default=8, ge=1)
    prereleases: bool = False


class LintSection(_Strict):
    """`orchestrate lint`: rules switched on or off, and severities changed, by rule id."""

    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    severity: dict[str, Literal["error", "warning"]] = {}


class WorkspaceConfig(_Strict):
    workspace: WorkspaceSection
    variant: dict[str, VariantValue | tuple[VariantValue, ...]] = {"python": "3.11"}
    channels: ChannelsSection = ChannelsSection()
    build: BuildSection = BuildSection()
    serve: ServeSection = ServeSection()
    updates: UpdatesSection = UpdatesSection()
    lint: LintSection = LintSection()


class Workspace(BaseModel):
    """A workspace: its root directory and its configuration."""

    model_config = ConfigDict(frozen=True)

    root: Path
    config: WorkspaceConfig

    @property
    def name(self) -> str:
        return self.config.workspace.name

    @property
    def platform(self) -> str:
        return self.config.workspace.platform

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def target_channel(self) -> Channel:
        return Channel.of(self.config.channels.target, self.root)

    @property
    def extra_channels(self) -> list[Channel]:
        return [Channel.of(c, self.root) for c in self.config.channels.extra]

    def target_settings(self, label: str) -> TargetSettings:
        """How the target `label` builds: `[build]` with its override applied. The one place
        this is decided: hashing, containers and builds all read it (a node id's label is
        `recipes.model.label_of(node)`)."""
        build = self.config.build
        return target_settings(build, build.overrides.get(label) or NO_OVERRIDE)


@dataclass(frozen=True)
class TargetSettings:
    """One target's build settings (see `Workspace.target_settings`)."""

    builder: str
    container: str  # the runtime: "none", "docker" or "podman"
    image: str  # "" when the target builds on the host
    network: bool
    timeout: float
    env: tuple[str, ...]  # names of the host's variables passed into a container
    conda_build: str


def target_settings(build: BuildSection, override: BuildOverride) -> TargetSettings:
    """`build` with `override`'s values where it has them (pure)."""
    container = override.container or build.container
    return TargetSettings(
        builder=build.builder,
        container=container,
        image=(override.image or build.image) if container != "none" else "",
        network=build.network if override.network is None else override.network,
        timeout=build.timeout if override.timeout is None else override.timeout,
        env=build.env,
        conda_build=build.conda_build,
    )


@dataclass(frozen=True)
class Channel:
    """A channel: its URL and, for a local one, its directory. `Channel.of` is the one place
    a channel's text becomes a URL or a path (percent-decoding included)."""

    url: str  # a local channel's is its file:// URL
    path: Path | None = None  # the directory of a local channel; None for a remote one

    @classmethod
    def of(cls, text: str, root: Path | None = None) -> Channel:
        """`cache/channel` (relative to `root`), `/srv/ch`, `file:///srv/my%20ch`, `https://…`."""
        if "://" not in text:
            path = Path(text)
            return cls.local(path if path.is_absolute() or root is None else root / path)
        parsed = urlparse(text)
        if parsed.scheme != "file":
            return cls(text)
        return cls.local(Path(unquote(parsed.path)))

    @classmethod
    def local(cls, path: Path) -> Channel:
        path = path.absolute()
        return cls(path.as_uri(), path)

    def __str__(self) -> str:
        """How a user names it: a local channel's directory, a remote one's URL."""
        return self.url if self.path is None else str(self.path)


def parse_workspace_config(data: dict, file: str) -> WorkspaceConfig:
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as exc:
        raise WorkspaceError(f"{file}: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    return f"{key}: {err['msg']}"


def read_workspace(root: Path) -> Workspace:
    file = root / WORKSPACE_FILE
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{file}: invalid TOML: {exc}") from None
    return Workspace(root=root.resolve(), config=parse_workspace_config(data, str(file)))


def missing_roots(workspace: Workspace) -> list[str]:
    """The roots WORKSPACE.toml lists explicitly that are not directories: a typo there would
    otherwise read as "nothing to build" (issue 9). The default roots may be absent."""
    section = workspace.config.workspace
    if "roots" not in section.model_fields_set:
        return []
    return [r for r in section.roots if not (workspace.root / r).is_dir()]


def find_workspace_root(start: Path) -> Path:
    """Walk up from `start` to the first directory holding WORKSPACE.toml (like Bazel)."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / WORKSPACE_FILE).is_file():
            return directory
    raise WorkspaceError(
        f"no {WORKSPACE_FILE} in {start} or any parent directory "
        "(hint: run inside a workspace or pass -C DIR)"
    )


def load_workspace(directory: Path | None = None, explicit: bool = False) -> Workspace:
    """The workspace at `directory` (with -C) or found above the current directory."""
    start = directory or Path.cwd()
    root = start.resolve() if explicit else find_workspace_root(start)
    return read_workspace(root)
