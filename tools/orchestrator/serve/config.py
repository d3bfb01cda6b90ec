"""What one server serves, as a frozen record made from the workspace's `[serve]` section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerConfig:
    root: Path  # the directory of channels and the token database
    channels: tuple[str, ...]
    archive: str
    archived: tuple[str, ...]
    public: tuple[str, ...]
    size_limit: int  # bytes per upload
    platform: str  # the workspace's platform: with noarch, the subdirs served
    cache_dir: Path | None = None  # the workspace's cache: build records for the nightly page

    @property
    def subdirs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(("noarch", self.platform)))

    @property
    def all_channels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.channels, self.archive)))


def server_config(workspace, root: Path | None = None) -> ServerConfig:
    """The `[serve]` section of a workspace; `root` (a flag) replaces its root."""
    section = workspace.config.serve
    served = root or Path(section.root)
    return ServerConfig(
        root=(served if served.is_absolute() else workspace.root / served).resolve(),
        channels=section.channels, archive=section.archive, archived=section.archived,
        public=section.public, size_limit=int(section.size_limit_mb * 1024 * 1024),
        platform=workspace.platform, cache_dir=workspace.cache_dir,
    )


def ensure_channels(config: ServerConfig) -> None:
    """Every served channel exists with a repodata.json per subdir before the first request."""
    from orchestrator.publish import ensure_channel

    for channel in config.all_channels:
        ensure_channel(config.root / channel, config.platform)
