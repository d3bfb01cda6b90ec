"""`orchestrate serve`: the channel service on uvicorn (see docs/serving.md).

One log line per request (tokens hidden); SIGTERM and Ctrl-C stop it cleanly (uvicorn
finishes the requests in flight). TLS with --ssl-certfile/--ssl-keyfile, or behind a proxy.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, help="directory of channels (default [serve] root)")
    parser.add_argument("--host", help="address to listen on (default [serve] host)")
    parser.add_argument("--port", type=int, help="port (default [serve] port; 0: any free)")
    parser.add_argument("--ssl-certfile", help="serve https with this certificate (PEM)")
    parser.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    parser.add_argument("--proxy-headers", action="store_true",
                        help="trust X-Forwarded-For/Proto from --forwarded-allow-ips")
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from orchestrator.serve.app import create_app
    from orchestrator.serve.config import ensure_channels, server_config

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    config = server_config(workspace, args.root)
    ensure_channels(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    section = workspace.config.serve
    uvicorn.run(create_app(config), host=args.host or section.host,
                port=section.port if args.port is None else args.port,
                access_log=False,  # the app logs each request itself, with tokens hidden
                ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile,
                proxy_headers=args.proxy_headers, forwarded_allow_ips=args.forwarded_allow_ips,
                log_level="info")
    return 0
