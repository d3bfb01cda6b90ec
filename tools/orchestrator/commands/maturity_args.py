"""What promote, prune and restore share: where they act (the served root, or a server)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", metavar="URL",
                        help="act on a running server (token from [channels] token_env "
                             "or --token-env); default: the served root on this machine")
    parser.add_argument("--token-env", metavar="NAME", help="environment variable of the token")
    parser.add_argument("--root", type=Path, help="served directory (default [serve] root)")


def act(args: argparse.Namespace, channel: str, action: str, body: dict, local) -> dict:
    """`local(config)` on this machine, or the same request to `--server`."""
    from orchestrator.serve import client
    from orchestrator.serve.config import server_config
    from orchestrator.serve.uploads import UploadRefused
    from orchestrator.workspace import load_workspace

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    if args.server:
        token = client.token_from_env(args.token_env or workspace.config.channels.token_env)
        return client.call(args.server, channel, action, body, token)
    try:
        return local(server_config(workspace, args.root))
    except UploadRefused as exc:
        from orchestrator.errors import OrchestratorError

        raise OrchestratorError(f"{action} {channel}: {exc}") from None
