"""Where a CLI command spends its time: pyinstrument (sampling, low overhead) on the real
command, summed per function, as shares of the whole run.

Two views: our own functions (orchestrator/) by cumulative time, which says which step of
the flow is slow, and every function by own time, which says what inside it is slow.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from measure import run_child


@dataclass(frozen=True)
class HotSpot:
    function: str  # "render_workspace (orchestrator/recipes/render.py:192)"
    share: float  # of the command's whole duration, 0..1


@dataclass(frozen=True)
class Profile:
    command: str
    seconds: float
    ours: tuple[HotSpot, ...]  # orchestrator functions by cumulative time
    own: tuple[HotSpot, ...]  # all functions by own (self) time


def profile_command(args: list[str], top: int = 12, label: str = "") -> Profile:
    """Run `orchestrate ARGS` under pyinstrument and summarise where its time went."""
    return profile_program(["-m", "orchestrator.cli", *args], top, label or " ".join(args))


def profile_program(program: list[str], top: int, label: str) -> Profile:
    """`program` is what follows `pyinstrument`: `-m module args` or `script.py args`."""
    pyinstrument = str(Path(sys.executable).with_name("pyinstrument"))
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp:
        session = Path(tmp) / "run.pyisession"
        run_child([pyinstrument, "-r", "session", "-o", str(session), *program])
        return summarise(label, session, top)


def summarise(command: str, session_file: Path, top: int) -> Profile:
    from pyinstrument.session import Session

    root = Session.load(session_file).root_frame()
    cumulative: dict[str, float] = defaultdict(float)
    own: dict[str, float] = defaultdict(float)
    _walk(root, cumulative, own)
    total = root.time or 1.0
    ours = sorted(((k, v) for k, v in cumulative.items() if "orchestrator/" in k),
                  key=lambda kv: -kv[1])
    mine = [HotSpot(k, v / total) for k, v in ours if v < 0.97 * total][:top]
    everyone = [HotSpot(k, v / total) for k, v in sorted(own.items(), key=lambda kv: -kv[1])]
    return Profile(command, root.time, tuple(mine), tuple(everyone[:top]))


def _walk(frame, cumulative: dict, own: dict) -> None:
    """Sum each function's time once per stack (recursion is not counted twice)."""
    todo = [(frame, frozenset(), "")]
    while todo:
        node, above, parent = todo.pop()
        if node.is_synthetic:  # pyinstrument's "[self]" leaf: the parent's own time
            own[parent] += node.time
            continue
        key = _name(node)
        if key not in above:
            cumulative[key] += node.time
        own[key] += node.time - sum(c.time for c in node.children)
        todo.extend((c, above | {key}, key) for c in node.children)


def _name(frame) -> str:
    path = (frame.file_path or "").split("site-packages/")[-1].split("tools/")[-1]
    path = path.split("lib/python3.11/")[-1]
    return f"{frame.function} ({path}:{frame.line_no})"
