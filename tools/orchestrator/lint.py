"""The organization's rules for recipes (`orchestrate lint`), as data: one `Rule` per id with its
message, fix hint, default severity and the check that finds where it fails.

A check is a pure function of a `Subject` (the rendered recipe and its text) returning the
1-based lines where the rule fails (0 when no line fits), or (line, detail) pairs where the
finding needs to say more than the rule's message. `[lint]` in WORKSPACE.toml switches rules on
(`enable`, for rules off by default) or off (`disable`) and changes `severity`.
The linking rules (`linked-libraries`, `overdepending`, `built-package`) look at built
packages (`Subject.built`, linkcheck.py's answers), so they run only with `lint --built DIR`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.errors import WorkspaceError
from orchestrator.linkcheck import LinkProblem
from orchestrator.recipes.model import Recipe
from orchestrator.recipes.selectors import platform_names

INTERNAL_PREFIXES = ("own-", "own_")
PYTHON_PREFIX = "python-"
BUILD_TOOLS = frozenset({"cmake", "ninja", "meson", "make", "pkg-config", "autoconf",
                         "automake", "libtool", "m4", "bison", "flex", "maturin", "swig"})


@dataclass(frozen=True)
class Built:
    """What `lint --built` found of a recipe's packages: the link problems of the newest
    package of each output, and the outputs with no package at all."""

    problems: tuple[LinkProblem, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subject:
    recipe: Recipe
    lines: tuple[str, ...]  # the recipe file's text, line by line
    platform: str
    built: Built | None = None  # None: no built packages were asked for


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # "error" | "warning"
    message: str
    hint: str
    check: Callable[[Subject], list[int] | list[tuple[int, str]]]
    default: bool = True  # on unless disabled
    needs_built: bool = False  # looks at built packages: only with `lint --built`


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    severity: str
    message: str
    hint: str

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.rule} {self.message} (hint: {self.hint})"


def line_of(subject: Subject, pattern: str) -> int:
    """The first line matching `pattern` (a regex), or 0."""
    found = re.compile(pattern)
    return next((n for n, text in enumerate(subject.lines, 1) if found.search(text)), 0)


def _about(subject: Subject) -> dict:
    """The recipe's about; rattler-build's Stage1 of a multi-output recipe keeps it per output."""
    data = subject.recipe.data
    outputs = data.get("outputs") if isinstance(data.get("outputs"), list) else []
    for about in (data.get("about"), *(o.get("about") for o in outputs if isinstance(o, dict))):
        if isinstance(about, dict):
            return about
    return {}


def missing_about(subject: Subject) -> list[int]:
    about = _about(subject)
    has_home = any(about.get(k) for k in ("home", "homepage", "repository"))
    internal = subject.recipe.target.startswith("//internal/")  # its home is this repository
    if (has_home or internal) and about.get("summary"):
        return []
    return [line_of(subject, r"^about:") or line_of(subject, r"^package:")]


def missing_license(subject: Subject) -> list[int]:
    if _about(subject).get("license"):
        return []
    return [line_of(subject, r"^about:") or line_of(subject, r"^package:")]


def url_without_sha256(subject: Subject) -> list[int]:
    missing = [s.url for s in subject.recipe.sources if s.kind == "url" and not s.sha256]
    return [line_of(subject, r"^\s*-?\s*url:") for _ in missing[:1]]


def missing_test(subject: Subject) -> list[int]:
    data = subject.recipe.data
    tests = [data.get("test"), data.get("tests")]
    tests += [o.get(k) for o in data.get("outputs") or () if isinstance(o, dict)
              for k in ("test", "tests")]
    return [] if any(tests) else [line_of(subject, r"^package:")]


def internal_name(subject: Subject) -> list[int]:
    if not subject.recipe.target.startswith("//internal/"):
        return []
    bad = [o.name for o in subject.recipe.outputs if not o.name.startswith(INTERNAL_PREFIXES)]
    return [line_of(subject, r"^\s*name:") for _ in bad[:1]]


def is_python_package(recipe: Recipe) -> bool:
    reqs = {r.name for o in recipe.outputs for r in o.requirements_in("host")}
    return any(o.noarch == "python" for o in recipe.outputs) or {"python", "pip"} <= reqs


def python_directory(subject: Subject) -> list[int]:
    recipe = subject.recipe
    if not recipe.target.startswith("//recipes/") or not is_python_package(recipe) or any(
            o.name == "python" for o in recipe.outputs):  # the interpreter itself
        return []
    name = recipe.target.rsplit("/", 1)[-1]
    return [] if name.startswith(PYTHON_PREFIX) else [line_of(subject, r"^\s*name:")]


def unpinned_build_tools(subject: Subject) -> list[int]:
    reqs = [r for o in subject.recipe.outputs for r in o.requirements_in("build")
            if r.name in BUILD_TOOLS and r.spec.strip() == r.name]
    return sorted({line_of(subject, rf"^\s*-\s*{re.escape(r.name)}\s*(#.*)?$") for r in reqs})


_SELECTOR = re.compile(r"#\s*\[([^\[\]]+)\]")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLATFORM_WORDS = frozenset(platform_names("linux-64")) - {
    "target_platform", "build_platform", "host_platform", "subdir", "nomkl", "debug"}


def dead_selectors(subject: Subject) -> list[int]:
    """Lines selected only for other platforms: the organization never builds them."""
    names = platform_names(subject.platform)
    dead = []
    for number, line in enumerate(subject.lines, 1):
        match = _SELECTOR.search(line)
        words = set(_WORD.findall(match.group(1))) - {"and", "or", "not"} if match else set()
        if words and words <= _PLATFORM_WORDS and not _true(match.group(1), names):
            dead.append(number)
    return dead


def _true(expr: str, names: dict) -> bool:
    from orchestrator.recipes.selectors import evaluate

    try:
        return evaluate(expr, names)[0]
    except (ValueError, LookupError):
        return True  # not ours to judge: rendering reports bad selectors


def _run_line(subject: Subject) -> int:
    return (line_of(subject, r"^\s*run:") or line_of(subject, r"^\s*requirements:")
            or line_of(subject, r"^package:"))


def _link_problems(subject: Subject, kind: str) -> list[LinkProblem]:
    return [p for p in (subject.built.problems if subject.built else ()) if p.kind == kind]


def overlinked(subject: Subject) -> list[tuple[int, str]]:
    return [(_run_line(subject), f"{p.file} needs {p.library}")
            for p in _link_problems(subject, "overlinking")]


def overdepending(subject: Subject) -> list[tuple[int, str]]:
    return [(_run_line(subject), f"{p.file}: {p.library}")
            for p in _link_problems(subject, "overdepending")]


def not_built(subject: Subject) -> list[tuple[int, str]]:
    missing = subject.built.missing if subject.built else ()
    return [(line_of(subject, r"^\s*name:\s*" + re.escape(name)) or line_of(subject, "^package:"),
             name) for name in missing]


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("about-fields", "error", "about needs a summary (and home, for third-party recipes)",
         "add about: home: and summary:", missing_about),
    Rule("about-license", "error", "about has no license",
         "add about: license: with an SPDX identifier", missing_license),
    Rule("source-sha256", "error", "a url source has no sha256",
         "add sha256: (orchestrate update TARGET --to VERSION writes it)", url_without_sha256),
    Rule("test-section", "error", "the recipe has no tests",
         "add test: imports: (meta.yaml) or tests: (recipe.yaml)", missing_test),
    Rule("internal-name", "error", "internal packages are named own-<name> or own_<name>",
         "rename the package with the own- prefix", internal_name),
    Rule("python-directory", "warning", "Python package recipes live in recipes/python-<name>",
         "move the directory to recipes/python-<name>", python_directory),
    Rule("pinned-build-tools", "warning", "a build tool is not pinned",
         "give it a version constraint, e.g. cmake >=3.28", unpinned_build_tools),
    Rule("dead-selector", "warning", "a selector for a platform the organization never builds",
         "remove the line, or the selector", dead_selectors),
    Rule("linked-libraries", "error", "a built package links a library that no run "
         "requirement provides and [build] system_libs does not allow",
         "add the library's package to the requirements (its run_exports pin it at run time)",
         overlinked, needs_built=True),
    Rule("overdepending", "warning", "a run requirement ships shared libraries none of which "
         "the package links", "drop the requirement unless it is needed for other reasons",
         overdepending, default=False, needs_built=True),  # noisy, as conda-build's is
    Rule("built-package", "warning", "lint --built found no package of this output",
         "build it first (orchestrate build TARGET), or point --built at its channel",
         not_built, needs_built=True),
)}


def active_rules(settings, built: bool = False) -> dict[str, Rule]:
    """RULES after `[lint]`: enable, disable, severity (unknown ids are errors); the rules on
    built packages only when `built`."""
    for key in (*settings.enable, *settings.disable, *settings.severity):
        if key not in RULES:
            raise WorkspaceError(f"WORKSPACE.toml: lint: unknown rule {key!r}; one of "
                                 + ", ".join(RULES))
    from dataclasses import replace

    on = {i: r for i, r in RULES.items() if i not in settings.disable
          and (r.default or i in settings.enable) and (built or not r.needs_built)}
    return {i: replace(r, severity=settings.severity.get(i, r.severity)) for i, r in on.items()}


def lint_subject(subject: Subject, rules: dict[str, Rule]) -> list[Finding]:
    return [_finding(subject, rule, hit) for rule in rules.values() for hit in rule.check(subject)]


def _finding(subject: Subject, rule: Rule, hit: int | tuple[int, str]) -> Finding:
    line, detail = hit if isinstance(hit, tuple) else (hit, "")
    message = f"{rule.message}: {detail}" if detail else rule.message
    return Finding(subject.recipe.path, line, rule.id, rule.severity, message, rule.hint)
