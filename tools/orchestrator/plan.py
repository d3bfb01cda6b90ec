"""Graph + hashes + changed files + published packages → Plan: what to build, why, in which order.

A target is up to date when every output (name, version, build string) is in one of the
channels, in its subdir or in noarch. A target to build pulls in every workspace dependency
(any section: building and testing it needs them all) that no channel has yet. Pure: the
I/O that gathers the inputs is `planning.plan_graph`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from orchestrator.channels import ChannelIndex
from orchestrator.edges import Unsatisfied, satisfies
from orchestrator.errors import RecipeError
from orchestrator.graph import TargetGraph, build_order, direct_deps, rdeps, select
from orchestrator.hashing import HASHED_SECTIONS, build_string
from orchestrator.recipes.model import Recipe

Action = Literal["build", "up-to-date", "skipped"]
MAX_FILE_REASONS = 5  # changed files named per target before "and N more"


@dataclass(frozen=True)
class PlanRequest:
    """What a user asks a plan for: the options every planning command takes (registered once,
    `commands/_plan_options.py`)."""

    patterns: tuple[str, ...] = ("//...",)
    changed_since: str | None = None  # only targets whose inputs changed since this git ref
    dependents: bool = False  # and every target depending on the selected ones, transitively
    full: bool = False  # build every selected target, even if published
    offline: bool = False  # no network: unreadable channels are empty, git revs as written


class PlannedOutput(NamedTuple):  # NamedTuples: made 5,000 times a plan, in a third of the time
    name: str
    version: str
    build: str
    subdir: str
    filename: str


class PlanNode(NamedTuple):
    target: str
    hash: str
    action: Action
    reasons: tuple[str, ...]
    outputs: tuple[PlannedOutput, ...]
    deps: tuple[str, ...]  # workspace dependencies, any section, sorted
    required_by: tuple[str, ...] = ()  # the targets to build that pulled it in, sorted


@dataclass(frozen=True)
class Plan:
    platform: str
    channel: str  # the target channel
    nodes: Mapping[str, PlanNode]  # in build order (dependencies first)
    order: tuple[str, ...]  # the targets to build, dependencies first
    notices: tuple[str, ...] = ()  # things the user should hear once (e.g. "not a git repo")

    def count(self, action: Action) -> int:
        return sum(1 for node in self.nodes.values() if node.action == action)


# ---------------------------------------------------------------- outputs


def planned_outputs(recipe: Recipe, target_hash: str, platform: str) -> tuple[PlannedOutput, ...]:
    """The package files a build of `recipe` at `target_hash` produces."""
    return tuple([_planned(o.name, o.version, o.build_number, o.noarch, target_hash, platform)
                  for o in recipe.outputs])


def _planned(name, version, number, noarch, target_hash, platform) -> PlannedOutput:
    build = build_string(target_hash, number)
    subdir = "noarch" if noarch else platform
    return PlannedOutput(name, version, build, subdir, f"{name}-{version}-{build}.conda")


# ---------------------------------------------------------------- selection


def select_targets(
    tg: TargetGraph,
    patterns: Sequence[str],
    changed: Mapping[str, object] | None = None,
    dependents: bool = False,
) -> list[str]:
    """Targets matching `patterns`; with `changed` only those whose inputs changed; with
    `dependents` also everything depending on those, transitively."""
    selected = set(select(tg, patterns or ["//..."]))
    base = selected if changed is None else set(changed)
    if dependents:
        base |= set(rdeps(tg, base))
    return sorted(base if changed is None else base & selected)


# ---------------------------------------------------------------- actions and reasons


def make_plan(
    tg: TargetGraph,
    selected: Iterable[str],
    hashes: Mapping[str, str],
    channels: Sequence[ChannelIndex],
    *,
    platform: str,
    changed: Mapping[str, Sequence[str]] | None = None,
    full: bool = False,
    notices: Sequence[str] = (),
) -> Plan:
    """The plan for `selected`; `channels` start with the target channel."""
    facts = _Facts(tg, hashes, channels, platform, changed or {})
    nodes = {t: facts.selected_node(t, full) for t in selected}
    _pull_in_missing(facts, nodes)
    in_order = build_order(tg, nodes)
    todo = tuple(t for t in in_order if nodes[t].action == "build")
    return Plan(facts.platform, facts.channel, {t: nodes[t] for t in in_order}, todo,
                tuple(notices))


class _Facts:
    """What the plan asks of each target, computed once."""

    def __init__(self, tg, hashes, channels, platform, changed):
        self.tg, self.hashes, self.channels = tg, hashes, tuple(channels)
        self.platform, self.changed = platform, changed
        self.channel = self.channels[0].url if self.channels else ""
        self._outputs: dict[str, tuple[PlannedOutput, ...]] = {}
        self._published: dict[str, bool] = {}
        self._keys = _published_keys(self.channels, {platform, "noarch"})

    def outputs(self, target: str) -> tuple[PlannedOutput, ...]:
        found = self._outputs.get(target)
        if found is None:
            recipe = self.tg.recipe(target)
            found = self._outputs[target] = planned_outputs(recipe, self.hashes[target],
                                                            self.platform)
        return found

    def published(self, target: str) -> bool:
        found = self._published.get(target)
        if found is None:
            found = self._published[target] = self._all_published(self.outputs(target))
        return found

    def _all_published(self, outputs: tuple[PlannedOutput, ...]) -> bool:
        keys, noarch = self._keys, self._keys["noarch"]
        for o in outputs:
            key = (o.name, o.version, o.build)
            if key not in keys[o.subdir] and key not in noarch:
                return False
        return True

    def skipped(self, target: str) -> bool:
        return self.tg.recipe(target).skipped

    def node(self, target: str, action: Action, reasons: Iterable[str],
             required_by: tuple[str, ...] = ()) -> PlanNode:
        return PlanNode(target, self.hashes[target], action, tuple(reasons),
                        self.outputs(target), self.tg.dependencies(target), required_by)

    def selected_node(self, target: str, full: bool) -> PlanNode:
        if self.skipped(target):
            return self.node(target, "skipped", [f"skipped on {self.platform}"])
        if self.published(target) and not full:
            return self.node(target, "up-to-date", [])
        return self.node(target, "build", self.build_reasons(target, full))

    def build_reasons(self, target: str, full: bool) -> list[str]:
        reasons = [] if self.published(target) else [f"not in channel {self.channel}"]
        if full and not reasons:
            reasons.append("full build requested")
        reasons.extend(self.file_reasons(target))
        reasons.extend(f"dependency {d} changed" for d in self.changed_deps(target))
        return reasons

    def file_reasons(self, target: str) -> list[str]:
        files = self.changed.get(target, ())
        reasons = [f"input changed: {f}" for f in files[:MAX_FILE_REASONS]]
        if len(files) > MAX_FILE_REASONS:
            reasons.append(f"and {len(files) - MAX_FILE_REASONS} more changed input(s)")
        return reasons

    def changed_deps(self, target: str) -> list[str]:
        """Build/host dependencies whose inputs changed or that no channel has at their hash."""
        hashed = direct_deps(self.tg, target, HASHED_SECTIONS)
        return [d for d in hashed if self.changed.get(d) or
                (not self.skipped(d) and not self.published(d))]


def _published_keys(channels: Sequence[ChannelIndex], subdirs: set[str]) -> dict[str, set]:
    """subdir → every (name, version, build) any channel has there: `is_published` for all
    channels at once, asked 5,000 times."""
    return {s: set().union(*(c.packages.get(s, ()) for c in channels)) for s in subdirs}


def _pull_in_missing(facts: _Facts, nodes: dict[str, PlanNode]) -> None:
    """Add every unpublished dependency of a target to build, transitively."""
    stack = sorted((t for t, n in nodes.items() if n.action == "build"), reverse=True)
    required_by: dict[str, list[str]] = defaultdict(list)
    while stack:
        target = stack.pop()
        for dep in facts.tg.graph.successors(target):
            if dep in nodes and dep not in required_by:
                continue
            if dep not in nodes and facts.published(dep):
                continue
            required_by[dep].append(target)
            if dep not in nodes:
                stack.append(dep)
            nodes[dep] = _pulled_node(facts, dep, required_by[dep])


def _pulled_node(facts: _Facts, target: str, requirers: list[str]) -> PlanNode:
    required_by = tuple(sorted(requirers))
    required = [f"required by {r}" for r in required_by]
    if facts.skipped(target):
        reasons = [f"skipped on {facts.platform}", *required]
        return facts.node(target, "skipped", reasons, required_by)
    return facts.node(target, "build", [*facts.build_reasons(target, False), *required],
                      required_by)


# ---------------------------------------------------------------- requirements from channels


def unsupplied(tg: TargetGraph, plan: Plan, channels: Sequence[ChannelIndex]) -> list[RecipeError]:
    """Requirements of targets to build that a workspace recipe produces, but in no variant
    that satisfies them (the graph took them from the channels), and that no channel has
    either: the build could not get them, so the plan stops here."""
    building = set(plan.order)
    errors = (_unsupplied_error(u) for u in tg.notes.unsatisfied
              if u.node in building and not _in_channels(channels, plan.platform, u))
    return list({str(e): e for e in errors}.values())  # once for all variants of a dependent


def _in_channels(channels: Sequence[ChannelIndex], platform: str, need: Unsatisfied) -> bool:
    req = need.requirement
    return any(name == req.name and satisfies(req, version)
               for channel in channels for subdir in (platform, "noarch")
               for name, version, _ in channel.packages.get(subdir, ()))


def _unsupplied_error(need: Unsatisfied) -> RecipeError:
    return RecipeError(
        need.path, f"{need.need_text()} and no channel has", need.requirement.line or None,
        hint="change the requirement, add the variant to [variant], or list a channel that "
        "has it in [channels] extra")
