"""`orchestrate server status|stop`: the servers answering this workspace's questions.

`plan`, `why`, `graph` and `query` are answered by a server per workspace (server.py), started
on demand; `status` shows each (its process, commands answered, memory), `stop` stops them
(the next question starts one again). ORCHESTRATE_SERVER=0 answers without one.
"""

from __future__ import annotations

import argparse

from orchestrator import server_client
from orchestrator.commands._output import write
from orchestrator.commands._plan_options import workspace_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("status", "stop"))


def run(args: argparse.Namespace) -> int:
    root = str(workspace_of(args).root)
    answers = [(sock, server_client.request(sock, {args.action: True}))
               for sock in server_client.servers_of(root)]
    running = [(sock, answer) for sock, answer in answers if answer is not None]
    if not running:
        write(f"no server for {root}")
    for sock, answer in running:
        write(_stopped(sock) if args.action == "stop" else _status(answer))
    return 0


def _stopped(sock) -> str:
    return f"stopped the server at {sock}"


def _status(answer: dict) -> str:
    return (f"server {answer['pid']} for {answer['root']}: {answer['answered']} answered, "
            f"up {answer['up_seconds']:g}s, idle {answer['idle_seconds']:g}s, "
            f"memory {answer.get('VmRSS', '?')} (peak {answer.get('VmHWM', '?')})")
