"""`orchestrate build`: plan, build what changed in parallel, publish, and report.

On a terminal a live view shows the running builds, the counts and the time left; elsewhere
(CI logs) one line per event. A failure prints its log's tail and path as it happens; the run
ends with a summary table, optional JSON and JUnit reports, and exit 1 when a build failed
(130 on Ctrl-C, after the running builds were stopped and their partial outputs removed).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import threading
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from orchestrator import cache, report
from orchestrator.commands._plan_options import add_plan_options, plan_request, workspace_of
from orchestrator.errors import BuildError, BuildFailed, ChannelError, OrchestratorError
from orchestrator.scheduler import Event, Outcome, run_jobs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_options(parser)
    parser.add_argument("-j", "--jobs", type=_positive, default=0,
                        help="builds at once (default: [build] jobs, else the number of cores)")
    parser.add_argument("-k", "--keep-going", action="store_true",
                        help="after a failure, go on with targets that do not depend on it")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan (what `orchestrate plan` shows), build nothing")
    parser.add_argument("--report", type=Path, metavar="PATH.json", help="write a JSON report")
    parser.add_argument("--junit", type=Path, metavar="PATH.xml", help="write a JUnit report")
    parser.add_argument("--only", action="store_true",
                        help="build exactly the selected targets: a workspace dependency no "
                             "channel has is an error (one GitLab job per target)")
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="where builds run (default local; see docs/distributed.md)")
    parser.add_argument("--scheduler-address", metavar="ADDR",
                        help="with --executor dask: the Dask scheduler (default: a LocalCluster "
                             "of -j workers on 127.0.0.1)")
    parser.add_argument("--publish", metavar="URL",
                        help="upload each finished package to this served channel "
                             "(token from [channels] token_env; see docs/serving.md)")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of builds")
    return int(text)


def run(args: argparse.Namespace) -> int:
    if args.dry_run and (args.report or args.junit):
        raise OrchestratorError("--dry-run builds nothing, so --report and --junit would report "
                                "nothing (hint: `orchestrate plan --format json` is the plan)")
    workspace = workspace_of(args)
    from orchestrator.commands.plan import warn
    from orchestrator.planning import compute_plan
    from orchestrator.publish import local_channel, reindex_if_stale
    from orchestrator.serve.remote import planning_workspace, remote_target

    args.remote = remote_target(workspace, getattr(args, "publish", None))
    moved = [] if args.remote else reindex_if_stale(local_channel(workspace), workspace.platform)
    planned = planning_workspace(workspace, args.remote) if args.remote else workspace
    if args.dry_run:
        return _dry_run(planned, plan_request(args), args.only, [str(m) for m in moved])
    graph, plan = compute_plan(planned, plan_request(args), with_data=True)  # builders need data
    if args.only:
        check_nothing_pulled_in(plan)
    warn([*graph.notes.warnings, *plan.notices, *(str(m) for m in moved)])
    console = _console()
    if not plan.order:
        console.print(f"nothing to build: {len(plan.nodes)} targets up to date")
        _write_reports(args, workspace, plan, None)
        return 0
    outcome = _build(args, workspace, graph, plan, console)
    reports = _write_reports(args, workspace, plan, outcome)
    _print_summary(console, reports, outcome)
    if outcome.interrupted:
        raise KeyboardInterrupt
    failed = outcome.count("failed")
    if failed:
        raise BuildFailed(f"{failed} of {len(outcome.results)} builds failed")
    return 0


def _dry_run(workspace, request, only: bool, notices: list[str]) -> int:
    """Exactly what `orchestrate plan` shows, the same way (the graph snapshot when warm; the
    rest answered when a recipe fails, then its error)."""
    from orchestrator.commands._output import write
    from orchestrator.commands._recipe_errors import reporting
    from orchestrator.commands.plan import plan_text, warn
    from orchestrator.planning import load_graph, plan_graph

    loaded = load_graph(workspace)
    with reporting(loaded):
        plan = plan_graph(loaded, request)
        if only:
            check_nothing_pulled_in(plan)
        warn([*plan.notices, *notices])
        write(plan_text(plan))
    return 0


def _build(args, workspace, graph, plan, console) -> Outcome:
    from orchestrator.buildjob import BuildContext, jobs_from_plan, run_build
    from orchestrator.executors import EXECUTORS
    from orchestrator.publish import ensure_channel, local_channel
    from orchestrator.serve.remote import Uploader, building_workspace

    remote = getattr(args, "remote", None)
    workspace = building_workspace(workspace, remote) if remote else workspace
    cache_dir = workspace.cache_dir
    channel_dir = local_channel(workspace)
    _prepare_containers(workspace, plan.order)
    ensure_channel(channel_dir, workspace.platform)
    jobs = jobs_from_plan(plan, cache.recorded_durations(cache_dir, list(plan.order)))
    context = BuildContext(
        workspace=workspace,
        recipes={t: graph.recipe(t) for t in plan.order},
        channel_dir=channel_dir, run_id=_run_id(), started=cache.now(),
    )
    cancel = threading.Event()
    slots = args.jobs or workspace.config.build.jobs or os.cpu_count() or 1
    options = {"address": args.scheduler_address} if args.executor == "dask" else {}
    executor = EXECUTORS[args.executor](slots, **options)
    slots = executor.slots
    view = LiveView(console, jobs, slots) if console.is_terminal else PlainView(console, jobs)
    on_event = Uploader(remote, view.on_event) if remote else view.on_event
    try:
        with view, _terminate_as_interrupt():
            outcome = run_jobs(jobs, partial(run_build, context), executor,
                               keep_going=args.keep_going, cancel=cancel,
                               on_event=on_event)
        if remote:
            on_event.check()
        return outcome
    except KeyboardInterrupt:  # outside the scheduler's wait: stop the builds all the same
        cancel.set()
        raise
    finally:
        executor.shutdown()


def check_nothing_pulled_in(plan) -> None:
    """With --only, a dependency the plan pulled in (`PlanNode.required_by`) is an error
    naming who needs it, instead of a build."""
    for target in plan.order:
        node = plan.nodes[target]
        if node.required_by:
            needed_by = ", ".join(f"required by {r}" for r in node.required_by)
            raise ChannelError(plan.channel, (
                f"{target} (hash {node.hash[:10]}) is not published but {needed_by} (--only "
                "builds only the selected targets: build or fetch its packages first)"))


def _prepare_containers(workspace, targets) -> None:
    """Stop before building on a missing container setting (an image: bad input) or an engine
    that does not answer, and remove the containers a dead run left behind (killed with -9, a
    reboot) in each runtime used."""
    from orchestrator import containers

    settings = [containers.settings_for(workspace, target) for target in targets]
    for runtime in sorted({s.runtime for s in settings if s is not None}):
        if not containers.runtime_available(runtime):
            raise BuildError(f"the container engine '{runtime}' does not answer (`{runtime} "
                             "info` fails): start it, or build without containers "
                             "([build] container = \"none\")")
        containers.remove_stale(runtime)


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM (a cancelled CI job) stops the builds like Ctrl-C instead of orphaning them."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_id() -> str:
    return f"{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"


def _console():
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=max(console.width, 160), soft_wrap=True)
    return console


def _write_reports(args, workspace, plan, outcome) -> list[report.TargetReport]:
    def log_of(target: str, hash: str) -> str:
        return str(cache.log_path(workspace.cache_dir, target, hash))

    reports = report.entries(plan, outcome, log_of)
    if args.report:
        about = {"platform": plan.platform, "channel": str(workspace.target_channel),
                 "interrupted": bool(outcome and outcome.interrupted)}
        report.write_text(args.report, report.json_report(reports, **about))
    if args.junit:
        report.write_text(args.junit, report.junit_xml(reports, timestamp=cache.now()))
    return reports


def _print_summary(console, reports, outcome: Outcome) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="build summary", title_justify="left")
    for column in ("target", "result", "duration", "reason"):
        table.add_column(column, no_wrap=column != "reason")
    for entry in reports:
        if entry.result != "up-to-date":
            table.add_row(Text(entry.target), _styled(entry.result), _seconds(entry.duration),
                          Text(entry.detail))  # node ids hold `[...]`: not markup
    console.print(table)
    console.print(_counts_line(outcome.results, len(reports)), markup=False)


STYLES = {"success": "green", "failed": "bold red", "blocked": "yellow", "cancelled": "magenta",
          "skipped": "dim"}


def _styled(result: str) -> str:
    return f"[{STYLES.get(result, 'default')}]{result}[/]"


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 120 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def _counts_line(results, total: int) -> str:
    counts = {s: sum(1 for r in results if r.status == s) for s in STYLES}
    done = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return f"{done}; {total - len(results)} up to date"


def _failure_text(event: Event) -> list[str]:
    result = event.result
    lines = [f"FAILED {event.target}: {result.reason}"]
    if result.tail:
        lines += [f"  | {line}" for line in result.tail]
    if result.log:
        lines.append(f"  log: {result.log}")
    return lines


class PlainView:
    """One line per event, for logs that are not a terminal (CI)."""

    def __init__(self, console, jobs):
        self.console, self.total, self.finished = console, len(jobs), 0

    def __enter__(self):
        self.console.print(f"building {self.total} targets", markup=False)
        return self

    def __exit__(self, *exc_info):
        return False

    def on_event(self, event: Event) -> None:
        if event.kind != "started":
            self.finished += 1
        self.console.print(f"[{self.finished}/{self.total}] {self._text(event)}", markup=False)
        if event.kind == "failed":
            self.console.print("\n".join(_failure_text(event)), markup=False)

    @staticmethod
    def _text(event: Event) -> str:
        result = event.result
        if event.kind == "started":
            return f"started  {event.target}"
        if event.kind == "finished":
            return f"built    {event.target} ({_seconds(result.duration)})"
        return f"{event.kind:<8} {event.target} ({result.reason})"


class LiveView:
    """A rich live view: running builds with elapsed time, counts and estimated time left."""

    def __init__(self, console, jobs, slots: int):
        from rich.live import Live

        self.console, self.slots = console, slots
        self.weights = {j.target: j.weight for j in jobs}
        self.known = any(j.weight != 1.0 for j in jobs)
        self.running: dict[str, float] = {}
        self.finished: set[str] = set()
        self.counts = {"done": 0, "failed": 0, "blocked": 0, "other": 0}
        self.live = Live(get_renderable=self._render, console=console, refresh_per_second=4,
                         transient=True)

    def __enter__(self):
        self.live.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self.live.__exit__(*exc_info)

    def on_event(self, event: Event) -> None:
        if event.kind == "started":
            self.running[event.target] = event.time
            return
        self.running.pop(event.target, None)
        self.finished.add(event.target)
        key = {"finished": "done", "failed": "failed", "blocked": "blocked"}.get(event.kind)
        self.counts[key or "other"] += 1
        if event.kind == "failed":
            self.console.print("\n".join(_failure_text(event)), markup=False)
        elif event.kind == "finished":
            from rich.markup import escape

            self.console.print(f"[green]built[/] {escape(event.target)} "
                               f"({_seconds(event.result.duration)})")

    def _render(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        now = time.monotonic()
        table = Table.grid(padding=(0, 2))
        for target, started in sorted(self.running.items(), key=lambda item: item[1]):
            table.add_row("[cyan]building[/]", Text(target), _seconds(now - started))
        return Group(table, Text(self._status_line(now)))

    def _status_line(self, now: float) -> str:
        c = self.counts
        remaining = len(self.weights) - len(self.finished) - len(self.running)
        line = (f"{c['done']} done, {c['failed']} failed, {c['blocked']} blocked, "
                f"{len(self.running)} running, {remaining} waiting")
        if self.known:
            line += f", about {_seconds(self._seconds_left(now))} left"
        return line

    def _seconds_left(self, now: float) -> float:
        """Recorded durations of what is left, spread over the slots (a rough estimate)."""
        waiting = sum(w for t, w in self.weights.items()
                      if t not in self.running and t not in self.finished)
        running = sum(max(self.weights[t] - (now - s), 0.0) for t, s in self.running.items())
        return (waiting + running) / self.slots
