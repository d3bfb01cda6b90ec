"""A BuildJob (one target to build, from the plan) and its work on this machine: request →
invocation → proc → collect → publish.

`run_build(context, job)` is the `run_job` the scheduler is given for real builds. It follows
the cache's write pattern: check for a finished record, take the target+hash lock, check
again (another `orchestrate build` may have just built it), build in a fresh work and output
dir under cache/builds/<slug>/<hash>/ (removed on failure or cancellation), publish, record.
It never raises for a failed build: the result says `failed` with the log's tail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator import cache, proc
from orchestrator.errors import BuildError, OrchestratorError
from orchestrator.publish import publish_atomically
from orchestrator.recipes.model import label_of
from orchestrator.scheduler import CancelFlag, JobResult
from orchestrator.workspace import Channel, Workspace

LOCK_POLL = 0.5


@dataclass(frozen=True)
class BuildJob:
    """One target (node id) to build at the hash the plan gave it: data an executor runs."""

    target: str
    hash: str
    outputs: tuple[Any, ...] = ()  # plan.PlannedOutput records
    deps: tuple[str, ...] = ()  # workspace dependencies built in this same run
    weight: float = 1.0  # predicted duration in seconds (recorded), or 1 when unknown
    reasons: tuple[str, ...] = ()


def jobs_from_plan(plan: Any, durations: Mapping[str, float] | None = None) -> tuple[BuildJob, ...]:
    """One job per target the plan builds, in plan order, waiting only on deps also built."""
    durations = durations or {}
    building = set(plan.order)
    return tuple(
        BuildJob(
            target=node.target, hash=node.hash, outputs=tuple(node.outputs),
            deps=tuple(d for d in node.deps if d in building),
            weight=durations.get(node.target, 1.0), reasons=tuple(node.reasons),
        )
        for node in (plan.nodes[t] for t in plan.order)
    )


@dataclass(frozen=True)
class BuildContext:
    """What every job of one run shares."""

    workspace: Workspace
    recipes: Mapping[str, Any]  # target → rendered Recipe
    channel_dir: Path
    run_id: str
    started: str = ""  # cache.now() when the run started: only builds since then are reused


@dataclass(frozen=True)
class JobPaths:
    root: Path  # cache/builds/<slug>/<hash>
    work: Path
    output: Path
    log: Path

    @classmethod
    def of(cls, cache_dir: Path, job: BuildJob) -> JobPaths:
        root = cache.build_dir(cache_dir, job.target, job.hash)
        return cls(root, root / "work", root / "output", root / cache.LOG)

    def reset(self) -> None:
        self.remove_partial()
        self.log.unlink(missing_ok=True)
        self.work.mkdir(parents=True)
        self.output.mkdir(parents=True)

    def remove_partial(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.output, ignore_errors=True)


def run_build(context: BuildContext, job: BuildJob, cancel: CancelFlag) -> JobResult:
    """Build, publish and record one job; the result says what happened (never raises).
    `cancel` is the executor's flag for the run (a threading.Event here, a Dask Event's proxy
    on a worker)."""
    cache_dir = context.workspace.cache_dir
    lock = cache.build_lock(cache_dir, job.target, job.hash)
    if not _acquire(lock, cancel):
        return JobResult(job.target, "cancelled", reason="cancelled while waiting for a lock")
    try:
        return _reused(context, job) or _build(context, job, JobPaths.of(cache_dir, job), cancel)
    finally:
        lock.release()


def _acquire(lock, cancel: CancelFlag) -> bool:
    """Wait for the lock, giving up when the run is cancelled."""
    from filelock import Timeout

    while not cancel.is_set():
        try:
            lock.acquire(timeout=LOCK_POLL)
            return True
        except Timeout:
            continue
    return False


def _reused(context: BuildContext, job: BuildJob) -> JobResult | None:
    """A success when another run built and published this target+hash since this one began
    (two `orchestrate build` at once); an older build is rebuilt, as the plan (or --full) says."""
    record = cache.read_record(context.workspace.cache_dir, job.target, job.hash)
    if record is None or record.result != "success" or not record.artifacts:
        return None
    if record.timestamp < context.started:
        return None
    if not all((context.channel_dir / a).is_file() for a in record.artifacts):
        return None
    log = str(cache.log_path(context.workspace.cache_dir, job.target, job.hash))
    return JobResult(job.target, "success", 0.0, "already built by another run",
                     record.artifacts, log)


def _build(context: BuildContext, job: BuildJob, paths: JobPaths, cancel: CancelFlag
           ) -> JobResult:
    started = time.monotonic()
    settings = None
    try:
        try:
            paths.reset()
            _write_header(paths.log, job)
            from orchestrator import containers

            settings = containers.settings_for(context.workspace, job.target)
            artifacts = _build_and_publish(context, job, paths, settings, cancel)
        except OSError as exc:  # a full disk, a permission: this build fails, the run goes on
            raise BuildError(f"{exc.filename or job.target}: {exc.strerror or exc}") from exc
    except (proc.ProcessFailed, OrchestratorError) as exc:
        if isinstance(exc, proc.ProcessCancelled) or cancel.is_set():
            _after_stop(paths, settings, context.run_id)
            return JobResult(job.target, "cancelled", time.monotonic() - started, "cancelled",
                             log=str(paths.log))
        if isinstance(exc, proc.ProcessTimedOut):
            _after_stop(paths, settings, context.run_id)
        return _failed(context, job, paths, exc, time.monotonic() - started)
    duration = time.monotonic() - started
    _record(context, job, "success", duration, artifacts)
    paths.remove_partial()  # the packages are in the channel; the log and record stay
    return JobResult(job.target, "success", duration, "", artifacts, str(paths.log))


def _build_and_publish(context: BuildContext, job: BuildJob, paths: JobPaths,
                       settings: Any, cancel: CancelFlag) -> tuple[str, ...]:
    from orchestrator import containers
    from orchestrator.builders import builder_for

    workspace = context.workspace
    target = workspace.target_settings(label_of(job.target))
    request = build_request(context, job, paths)
    builder = builder_for(target.builder, request.recipe.format)
    builder.prepare(request)
    invocation = builder.invocation(request)
    if settings is not None:
        invocation = containers.wrap(invocation, settings, context.run_id)
    proc.run(invocation.argv, log=paths.log, timeout=target.timeout,
             cancel=cancel, env=invocation.environment(os.environ), cwd=invocation.cwd)
    packages = builder.collect(request)
    check_linking(context, packages, paths.log)
    return publish_atomically(context.channel_dir, packages, workspace.platform)


def check_linking(context: BuildContext, packages: list[Path], log: Path) -> None:
    """Overlinking fails the build (one line per problem); overdepending goes to the log."""
    from orchestrator import linkcheck

    allowed = context.workspace.config.build.system_libs
    problems = linkcheck.check_built(packages, context.channel_dir, allowed)
    with open(log, "a", encoding="utf-8") as out:
        out.writelines(f"warning: {p.line()}\n" for p in problems if p.kind == "overdepending")
    errors = [p.line() for p in problems if p.kind == "overlinking"]
    if errors:
        raise BuildError("\n".join(errors))


def build_request(context: BuildContext, job: BuildJob, paths: JobPaths):
    """The builder's request: build strings from the plan, the target channel first."""
    from orchestrator.builders import BuildRequest

    workspace = context.workspace
    return BuildRequest(
        recipe=context.recipes[job.target],
        workspace_root=workspace.root,
        build_strings={o.name: o.build for o in job.outputs},
        channels=(Channel.local(context.channel_dir), *workspace.extra_channels),
        output_dir=paths.output,
        work_dir=paths.work,
        source_cache=workspace.cache_dir / "sources",
        platform=workspace.platform,
        variant=build_variant(workspace, context.recipes[job.target]),
        log=paths.log,
        conda_build=workspace.target_settings(label_of(job.target)).conda_build,
    )


def build_variant(workspace: Workspace, recipe) -> dict[str, str]:
    """The variant a build gets: the workspace's single values, then the recipe's own variant
    (the keys it uses, one value each); target_platform is the builder's --target-platform."""
    scalars = {k: v for k, v in workspace.config.variant.items() if not isinstance(v, tuple)}
    values = scalars | dict(recipe.variant)
    return {k: str(v) for k, v in values.items() if k != "target_platform"}


def _write_header(log: Path, job: BuildJob) -> None:
    reasons = "; ".join(job.reasons) or "requested"
    log.write_text(f"# orchestrate build {job.target} (hash {job.hash}): {reasons}\n")


def _after_stop(paths: JobPaths, settings: Any, run_id: str) -> None:
    """After a kill: the partial outputs go, and so does this target's container (killing the
    client of `docker run` does not stop it); the run's other builds go on."""
    paths.remove_partial()
    if settings is not None:
        from orchestrator import containers

        containers.remove_run(run_id, settings.runtime, target=settings.target)


def _failed(context: BuildContext, job: BuildJob, paths: JobPaths, exc: Exception,
            duration: float) -> JobResult:
    if not isinstance(exc, proc.ProcessFailed):  # our own error: into the log, for the record
        with contextlib.suppress(OSError), open(paths.log, "a", encoding="utf-8") as log:
            log.write("\n".join(["error:", *exc.lines()]) + "\n")
    paths.remove_partial()
    _record(context, job, "failed", duration, ())
    return JobResult(job.target, "failed", duration, _one_line(exc), log=str(paths.log),
                     tail=proc.log_tail(paths.log))


def _one_line(exc: Exception) -> str:
    """The reason shown in summaries: the build command itself is in the log, not here."""
    if isinstance(exc, proc.ProcessFailed):
        return f"build command {exc.why}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _record(context: BuildContext, job: BuildJob, result: str, duration: float,
            artifacts: tuple[str, ...]) -> None:
    record = cache.BuildRecord(job.target, job.hash, result, round(duration, 3), artifacts,
                               cache.now())
    cache.write_record(context.workspace.cache_dir, record)
