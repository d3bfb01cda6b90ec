"""`orchestrate token create|list|revoke`: the served root's access tokens (serve/tokens.py)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, help="served directory (default [serve] root)")
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="a new token, printed once")
    create.add_argument("--channel", required=True)
    create.add_argument("--scope", choices=("read", "upload", "promote"), required=True)
    create.add_argument("--expires", type=float, metavar="DAYS", help="valid for DAYS days")
    create.add_argument("--note", default="", help="who or what it is for")
    sub.add_parser("list", help="every token (without secrets)")
    revoke = sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id")


def run(args: argparse.Namespace) -> int:
    from orchestrator.serve import tokens
    from orchestrator.serve.config import server_config

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    root = server_config(workspace, args.root).root
    if args.action == "create":
        print(tokens.create_token(root, args.channel, args.scope, args.expires, args.note))
    elif args.action == "revoke":
        tokens.revoke_token(root, args.id)
        print(f"revoked {args.id}")
    else:
        for line in token_lines(tokens.list_tokens(root), time.time()):
            print(line)
    return 0


def token_lines(infos, now: float) -> list[str]:
    def day(seconds):
        return time.strftime("%Y-%m-%d", time.gmtime(seconds)) if seconds else "never"

    return [f"{t.id}  {t.channel:<12} {t.scope:<8} {t.state(now):<8} created {day(t.created)}  "
            f"expires {day(t.expires)}  {t.note}" for t in infos]
