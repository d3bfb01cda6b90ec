"""Edges between graph nodes (one node per target and variant), by variant and version (pure).

A requirement on a package some target of the workspace produces goes to that target's
variants that agree with the dependent on the variant keys both use and whose version of the
package satisfies the requirement's spec (py-rattler's MatchSpec / VersionSpec: `python
3.10.*` does not link to a recipe producing 3.14). When no variant satisfies it, the package
comes from the channels like a third-party one, and the graph says so once (`Unsatisfied`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from orchestrator.recipes.model import SECTIONS, Recipe, Requirement, label_of, variant_text

_SECTION_RANK = {s: i for i, s in enumerate(SECTIONS)}


@dataclass(frozen=True)
class Offer:
    """One node's output of a package: what a requirement on it can link to."""

    node: str
    version: str
    variant: tuple[tuple[str, str], ...]  # as text, to compare with a dependent's
    skipped: bool


@dataclass(frozen=True)
class Unsatisfied:
    """A requirement a workspace target produces but none of its variants satisfies."""

    node: str  # the dependent
    path: str  # its recipe file
    requirement: Requirement
    producer: str  # the target label producing the package
    offered: tuple[str, ...]  # "1.26 [python=3.12]", what the producer's variants have

    def need_text(self) -> str:
        """What is needed and not offered, naming the dependent by label (the same text for
        each of its variants, so that it can be said once)."""
        req = self.requirement
        return (f"{label_of(self.node)} needs {req.section}: {req.spec}, which no variant of "
                f"{self.producer} satisfies (it has {', '.join(self.offered)})")

    def message(self) -> str:
        where = f"{self.path}:{self.requirement.line}" if self.requirement.line else self.path
        return f"{where}: {self.need_text()}: taken from the channels"


def needed(recipe: Recipe) -> tuple[Requirement, ...]:
    """Requirements on other recipes or third parties: none for a skipped recipe, none on itself."""
    if recipe.skipped:
        return ()
    own = set(recipe.package_names)
    reqs = (r for r in recipe.requirements() if r.name not in own)
    return tuple(sorted(reqs, key=lambda r: (_SECTION_RANK.get(r.section, 99), r.name, r.spec)))


def variant_edges(nodes: Mapping[str, Recipe], producers: Mapping[str, str]):
    """(edges: (dependent, dependency) → requirements, external: package → dependents,
    unsatisfied: list of Unsatisfied)."""
    offers = _offers(nodes)
    edges: dict[tuple[str, str], list[Requirement]] = defaultdict(list)
    external: dict[str, set[str]] = defaultdict(set)
    unsatisfied = []
    choose = _chooser(offers, producers)
    for node, recipe in nodes.items():
        texts = _texts(recipe.variant)
        for req in needed(recipe):
            chosen = choose(req, texts)
            for dependency in chosen or ():
                edges[node, dependency].append(req)
            if not chosen:
                external[req.name].add(node)
            if chosen == []:
                unsatisfied.append(Unsatisfied(node, recipe.path, req, producers[req.name],
                                               _offered(offers[req.name])))
    return (
        {key: tuple(reqs) for key, reqs in edges.items()},
        {name: tuple(sorted(found)) for name, found in sorted(external.items())},
        unsatisfied,
    )


def _offers(nodes: Mapping[str, Recipe]) -> dict[str, list[Offer]]:
    offers: dict[str, list[Offer]] = defaultdict(list)
    for node, recipe in nodes.items():
        variant = _texts(recipe.variant)
        for output in recipe.outputs:
            offers[output.name].append(Offer(node, output.version, variant, recipe.skipped))
    return offers


def _texts(variant) -> tuple[tuple[str, str], ...]:
    return tuple((k, variant_text(v)) for k, v in variant)


def _chooser(offers: Mapping[str, list[Offer]], producers: Mapping[str, str]):
    """(requirement, variant texts) → `_chosen` of it, None for a package no recipe produces;
    worked out once per distinct name, spec and variant (5,000 recipes hold ~40,000
    requirements, a few thousand distinct)."""
    known: dict[tuple, list[str]] = {}

    def choose(req: Requirement, texts: tuple) -> list[str] | None:
        if req.name not in producers:
            return None
        key = (req.name, req.spec, texts)
        if key not in known:
            known[key] = _chosen(offers[req.name], dict(texts), req)
        return known[key]

    return choose


def _chosen(offers: list[Offer], mine: dict[str, str], req: Requirement) -> list[str]:
    """The producer's nodes `req` links to; live ones before skipped ones (a skipped variant is
    linked only when it is all there is, as a skipped target always was)."""
    fitting = [o for o in offers if _agrees(o.variant, mine) and satisfies(req, o.version)]
    live = [o.node for o in fitting if not o.skipped]
    return sorted(set(live or (o.node for o in fitting)))


def _agrees(variant: tuple[tuple[str, str], ...], mine: dict[str, str]) -> bool:
    return all(mine.get(key, value) == value for key, value in variant)


def _offered(offers: list[Offer]) -> tuple[str, ...]:
    return tuple(sorted({o.version + (f" [{o.node.rsplit('[', 1)[1]}" if o.node.endswith("]")
                                      else "") for o in offers}))


def satisfies(req: Requirement, version: str) -> bool:
    """Whether `version` satisfies the version part of `req`'s spec (a spec that py-rattler
    cannot read, or a version it cannot, is not held against the link)."""
    if req.spec.strip() == req.name:
        return True
    return _satisfies(req.spec, version)


@lru_cache(maxsize=65536)
def _satisfies(spec: str, version: str) -> bool:
    from rattler import Version

    wanted = _version_spec(spec)
    if wanted is None:
        return True
    try:
        return wanted.matches(Version(version))
    except Exception:  # noqa: BLE001 - py-rattler raises its own types for a bad version
        return True


@lru_cache(maxsize=16384)
def _version_spec(spec: str):
    from rattler import MatchSpec, VersionSpec

    try:
        version = MatchSpec(spec).version
        return VersionSpec(str(version)) if version else None
    except Exception:  # noqa: BLE001 - an unreadable spec: no version constraint known
        return None
