"""Incremental precision: after a single-file edit, do exactly the right targets change hash?

For each of `edits` seeded random files of a generated workspace, the file is changed, `plan
--format json` is run through the real CLI and every target's hash compared with the hashes
before the edit; then the file is restored. The true set comes from the generator alone: the
edited file's target and every target reaching it through build/host requirements.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from generate import Workspace, true_affected
from measure import run_child


@dataclass(frozen=True)
class EditResult:
    file: str
    target: str
    expected: int  # targets that should change hash
    changed: int  # targets whose hash changed
    false_positives: tuple[str, ...]
    misses: tuple[str, ...]


@dataclass(frozen=True)
class Precision:
    edits: tuple[EditResult, ...]
    deterministic: bool  # hashes after restoring every file equal the hashes before

    @property
    def false_positives(self) -> int:
        return sum(len(e.false_positives) for e in self.edits)

    @property
    def misses(self) -> int:
        return sum(len(e.misses) for e in self.edits)


def orchestrate() -> str:
    return str(Path(sys.executable).with_name("orchestrate"))


def plan_argv(root: Path, *extra: str) -> list[str]:
    return [orchestrate(), "-C", str(root), "plan", "//...", "--format", "json", *extra]


def plan_hashes(root: Path) -> dict[str, str]:
    """target → hash, from the real CLI's `plan --format json`."""
    return hashes_of(json.loads(run_child(plan_argv(root), keep_output=True).out))


def hashes_of(document: dict) -> dict[str, str]:
    nodes = document["nodes"]
    items = nodes.values() if isinstance(nodes, dict) else nodes
    return {node["target"]: node["hash"] for node in items}


def edited(path: str, text: str, k: int) -> str:
    """`text` changed the way a person would change a file of this kind (always a real change)."""
    if path.endswith("meta.yaml"):
        return text.replace("summary: Synthetic", f"summary: (edit {k}) Synthetic")
    if path.endswith(".py"):
        return text + f"\nEDITED_{k} = {k}\n"
    if path.endswith(".sh"):
        return text + f"echo edit {k}\n"
    return text + f"\n# edit {k}\n"


def measure_precision(ws: Workspace, edits: int = 50, seed: int = 0) -> Precision:
    rng = random.Random(seed)
    owner = {f: t for t, files in ws.files.items() for f in files}
    choices = rng.sample(sorted(owner), min(edits, len(owner)))
    before = plan_hashes(ws.root)
    results = [_one_edit(ws, before, path, owner[path], k) for k, path in enumerate(choices)]
    return Precision(tuple(results), plan_hashes(ws.root) == before)


def _one_edit(ws: Workspace, before: dict[str, str], path: str, target: str, k: int) -> EditResult:
    file = ws.root / path
    original = file.read_text(encoding="utf-8")
    file.write_text(edited(path, original, k), encoding="utf-8")
    try:
        after = plan_hashes(ws.root)
    finally:
        file.write_text(original, encoding="utf-8")
    changed = {t for t, h in after.items() if before.get(t) != h}
    truth = true_affected(ws.packages, target)
    return EditResult(path, target, len(truth), len(changed),
                      tuple(sorted(changed - truth)), tuple(sorted(truth - changed)))
