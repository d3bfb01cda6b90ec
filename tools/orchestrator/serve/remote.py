"""Building into a served channel: `build --publish URL` or an http(s) `[channels] target`.

Builds still publish into a local staging channel (cache/upload-channel) that the builders
read, and each finished package is then uploaded. "Is it published?" reads the remote
repodata with the token (channels.py sends it as a Bearer header); the builders get the
remote channel as a `/t/<token>/` URL, so a job finds what earlier jobs uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import BuildFailed, ChannelError, OrchestratorError, WorkspaceError
from orchestrator.serve import client
from orchestrator.workspace import Channel

STAGING = "upload-channel"


@dataclass(frozen=True)
class RemoteTarget:
    url: str  # the channel, e.g. https://conda.example.org/testing
    token: str | None
    staging: Path  # the local channel builds are published to before upload

    def token_url(self) -> str:
        """The channel URL with the token in its path, for builders (conda, rattler)."""
        if not self.token:
            return self.url
        base, channel = client.split_channel_url(self.url)
        return f"{base}/t/{self.token}/{channel}"


def remote_target(workspace, publish: str | None) -> RemoteTarget | None:
    """The remote channel to upload to, or None when builds go to a local directory."""
    channel = Channel.of(publish) if publish else workspace.target_channel
    if channel.path is not None:
        if publish:
            raise OrchestratorError(f"--publish {publish}: not an http(s) channel URL")
        return None
    url = channel.url
    client.split_channel_url(url)  # raises on a URL without a channel name
    name = workspace.config.channels.token_env
    token = client.token_from_env(name)
    if token is None:  # uploads always need one: say so before building anything
        from orchestrator.workspace import WORKSPACE_FILE

        missing = f"${name} is empty" if name else "no [channels] token_env"
        raise WorkspaceError(
            f"{workspace.root / WORKSPACE_FILE}: channels.target: {url}: {missing} (hint: "
            "set token_env = \"NAME\" and export NAME=<an upload token of that channel>)")
    return RemoteTarget(url.rstrip("/"), token, workspace.cache_dir / STAGING)


def planning_workspace(workspace, remote: RemoteTarget):
    """The workspace whose target channel is the remote one (for "published?")."""
    from orchestrator.channels import set_channel_token

    set_channel_token(remote.url, remote.token)
    return _with_channels(workspace, target=remote.url)


def building_workspace(workspace, remote: RemoteTarget):
    """The workspace the builders see: the remote channel (with its token) among the extras."""
    extra = (*workspace.config.channels.extra, remote.token_url())
    return _with_channels(workspace, target=str(remote.staging), extra=extra)


def _with_channels(workspace, **changes):
    channels = workspace.config.channels.model_copy(update=changes)
    config = workspace.config.model_copy(update={"channels": channels})
    return workspace.model_copy(update={"config": config})


class Uploader:
    """Uploads the packages of each finished build; failures are kept and raised at the end."""

    def __init__(self, remote: RemoteTarget, on_event):
        self.remote, self.on_event, self.failures = remote, on_event, []

    def __call__(self, event) -> None:
        self.on_event(event)
        if event.kind == "finished" and event.result is not None:
            for artifact in event.result.artifacts:
                self._upload(self.remote.staging / artifact)

    def _upload(self, package: Path) -> None:
        try:
            client.upload_package(self.remote.url, package, self.remote.token)
        except ChannelError as exc:
            self.failures.append(f"{package.name}: {exc.what}")

    def check(self) -> None:
        if self.failures:
            raise BuildFailed(f"{len(self.failures)} upload(s) to {self.remote.url} failed: "
                              + "; ".join(self.failures))
