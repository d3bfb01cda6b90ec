"""The pages: the list of channels, a channel's packages, and the last nightly build.

A channel page is static HTML whose JavaScript (static/channel.js) reads the channel's
repodata.json files, relative to the page, so it works the same under `/t/<token>/`. The
nightly page is rendered on the server from the build records in the workspace cache
(cache.py): the latest record of each target within a day of the newest one is "the last
nightly", each build is a bar from its start (end minus duration) to its end, and builds are
laid out on the fewest rows (slots) on which none overlap. Templates autoescape: log tails
and target names are data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from starlette.responses import HTMLResponse

from orchestrator.serve.config import ServerConfig

HERE = Path(__file__).resolve().parent
LAST_RUN_WINDOW = 86400.0  # seconds before the newest record that still count as its run
TAIL_LINES = 15


@dataclass(frozen=True)
class Bar:
    """One build on the timeline."""

    target: str
    result: str
    start: float
    end: float
    slot: int
    tail: tuple[str, ...]

    @property
    def duration(self) -> float:
        return self.end - self.start


@cache
def _environment():
    from jinja2 import FileSystemLoader, select_autoescape
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    # Sandboxed like every template here: the pages show repodata and build records, which
    # carry text from recipes.
    return ImmutableSandboxedEnvironment(loader=FileSystemLoader(HERE / "templates"),
                                         autoescape=select_autoescape(default=True))


def render(template: str, **context) -> HTMLResponse:
    return HTMLResponse(_environment().get_template(template).render(**context))


def index_page(config: ServerConfig) -> HTMLResponse:
    return render("index.html", channels=config.all_channels, public=config.public)


def channel_page(config: ServerConfig, channel: str) -> HTMLResponse:
    script = (HERE / "templates" / "channel.js").read_text(encoding="utf-8")
    return render("channel.html", channel=channel, subdirs=json.dumps(config.subdirs),
                  script=script)


def nightly_page(config: ServerConfig) -> HTMLResponse:
    bars = last_run(config.cache_dir) if config.cache_dir else []
    start = min((b.start for b in bars), default=0.0)
    span = max((b.end for b in bars), default=1.0) - start or 1.0
    return render("nightly.html", bars=bars, start=start, span=span,
                  slots=max((b.slot for b in bars), default=-1) + 1,
                  when=datetime.fromtimestamp(start).isoformat(timespec="seconds") if bars else "")


def last_run(cache_dir: Path) -> list[Bar]:
    """The bars of the last run, laid out in slots."""
    from orchestrator import cache as build_cache

    latest: dict[str, object] = {}
    for file in sorted(cache_dir.glob(f"builds/*/*/{build_cache.RECORD}")):
        record = build_cache._read_record_file(file)
        if record and (record.target not in latest or latest[record.target].timestamp
                       < record.timestamp):
            latest[record.target] = record
    if not latest:
        return []
    newest = max(_seconds(r.timestamp) for r in latest.values())
    chosen = [r for r in latest.values() if _seconds(r.timestamp) >= newest - LAST_RUN_WINDOW]
    return assign_slots([(r, _tail(build_cache.log_path(cache_dir, r.target, r.hash)))
                         for r in chosen])


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def _tail(log: Path) -> tuple[str, ...]:
    try:
        return tuple(log.read_text(encoding="utf-8", errors="replace").splitlines()[-TAIL_LINES:])
    except OSError:
        return ()


def assign_slots(records) -> list[Bar]:
    """Each build on the first row free at its start (greedy interval partitioning)."""
    rows: list[float] = []  # when each row becomes free
    bars = []
    for record, tail in sorted(records, key=lambda rt: _seconds(rt[0].timestamp)
                               - rt[0].duration):
        end = _seconds(record.timestamp)
        start = end - record.duration
        slot = next((i for i, free in enumerate(rows) if free <= start + 1e-3), len(rows))
        if slot == len(rows):
            rows.append(end)
        rows[slot] = end
        bars.append(Bar(record.target, record.result, start, end, slot, tail))
    return bars
