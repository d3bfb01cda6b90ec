"""The records recipes pass through: RawRecipe (read, unrendered) → Recipe (rendered, typed).

These are the contract between recipe rendering and everything after it (graph, hashing,
plan, builders). They are immutable and hold no absolute paths: every path is relative to
the workspace root, in POSIX form, so nothing machine-specific leaks into hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SECTIONS = ("build", "host", "run", "test")
RecipeFormat = Literal["meta.yaml", "recipe.yaml"]


@dataclass(frozen=True)
class RawRecipe:
    target: str  # "//recipes/python-six", "//internal/own-util"
    path: str  # recipe file, workspace-relative: "internal/own-util/conda/meta.yaml"
    format: RecipeFormat
    text: str

    @property
    def directory(self) -> str:
        return self.path.rsplit("/", 1)[0]


@dataclass(frozen=True)
class Requirement:
    name: str  # package name: "python-dateutil"
    spec: str  # as written after rendering: "python-dateutil >=2.8"
    section: str  # one of SECTIONS
    line: int = field(default=0, compare=False)  # in the recipe file; 0 when unknown


@dataclass(frozen=True)
class Output:
    name: str
    version: str
    build_number: int = 0
    noarch: str | None = None  # "python", "generic" or None
    requirements: tuple[Requirement, ...] = ()
    run_exports: tuple[str, ...] = ()

    def requirements_in(self, *sections: str) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.section in sections)


@dataclass(frozen=True)
class Source:
    kind: Literal["url", "path", "git"]
    url: str | None = None  # url sources and git sources
    sha256: str | None = None
    path: str | None = None  # path sources: workspace-relative directory or file
    git_rev: str | None = None  # git sources: the rev as written (tag, branch or commit)
    patches: tuple[str, ...] = ()  # workspace-relative
    target_directory: str | None = None


@dataclass(frozen=True)
class Recipe:
    """A recipe rendered for one platform and variant."""

    target: str
    path: str  # recipe file, workspace-relative
    format: RecipeFormat
    outputs: tuple[Output, ...]
    sources: tuple[Source, ...] = ()
    files: tuple[str, ...] = ()  # every file in the recipe directory, workspace-relative, sorted
    skipped: bool = False  # `build: skip: true` on this platform: requirements are empty
    variant: tuple[tuple[str, str], ...] = ()  # variant keys the recipe uses, sorted
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # the top-level requirements of a multi-output meta.yaml: conda-build installs them for the
    # top-level build but gives them only to the output named like the package
    top_requirements: tuple[Requirement, ...] = ()
    # `data` is the whole rendered recipe (selectors applied, templates resolved), the
    # input to hashing and to translation for builders. Treat it as read-only.

    @property
    def directory(self) -> str:
        return self.path.rsplit("/", 1)[0]

    @property
    def package_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    def requirements(self) -> tuple[Requirement, ...]:
        """Requirements of all outputs, de-duplicated, in a stable order."""
        seen: dict[tuple[str, str, str], Requirement] = {}
        for req in self.top_requirements:
            seen.setdefault((req.section, req.name, req.spec), req)
        for output in self.outputs:
            for req in output.requirements:
                seen.setdefault((req.section, req.name, req.spec), req)
        return tuple(seen.values())


# ---------------------------------------------------------------- node ids


def variant_text(value: Any) -> str:
    """A variant value as shown in a node id: booleans as TOML writes them."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def node_ids(recipes: list[Recipe]) -> list[str]:
    """The graph node id of each recipe: its label when it is its target's only variant, else
    `label[key=value,...]` over the keys whose values differ between that target's variants
    (`//recipes/numpy[python=3.12]`). The one place node ids are decided."""
    by_target: dict[str, list[Recipe]] = {}
    for recipe in recipes:
        by_target.setdefault(recipe.target, []).append(recipe)
    differing = {t: _differing_keys(rs) for t, rs in by_target.items() if len(rs) > 1}
    return [_node_id(r, differing.get(r.target)) for r in recipes]


def _differing_keys(recipes: list[Recipe]) -> list[str]:
    values: dict[str, set] = {}
    for recipe in recipes:
        for key, value in recipe.variant:
            values.setdefault(key, set()).add(variant_text(value))
    counts = {k: sum(1 for r in recipes if k in dict(r.variant)) for k in values}
    return sorted(k for k, v in values.items() if len(v) > 1 or counts[k] < len(recipes))


def _node_id(recipe: Recipe, keys: list[str] | None) -> str:
    if keys is None:
        return recipe.target
    variant = dict(recipe.variant)
    shown = ",".join(f"{k}={variant_text(variant[k])}" for k in keys if k in variant)
    return f"{recipe.target}[{shown}]"


def label_of(node: str) -> str:
    """The target label of a node id (`//recipes/numpy[python=3.12]` → `//recipes/numpy`)."""
    return node[: node.index("[")] if node.endswith("]") and "[" in node else node
