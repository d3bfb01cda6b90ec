"""A rendered tree (plain dicts and lists) → the typed parts of a Recipe: outputs, requirements,
sources. Pure; a problem is raised as `Invalid(path, message)` and located by the caller.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from orchestrator.recipes.model import Output, Requirement, Source

_NAME = re.compile(r"\s*(?:[^\s:]+::)?([A-Za-z0-9_][A-Za-z0-9_.\-]*)")
REQUIREMENT_SECTIONS = ("build", "host", "run")


class Invalid(Exception):
    """A value of the wrong shape at `path` in the rendered tree."""

    def __init__(self, path: tuple, message: str, hint: str = ""):
        super().__init__(message)
        self.path, self.message, self.hint = path, message, hint


def package_name(spec: str) -> str | None:
    """The package name of a match spec: `numpy >=1`, `numpy=1.2`, `numpy[version='>=1']`."""
    match = _NAME.match(spec)
    return match[1] if match else None


def mapping(tree: dict, key: str, path: tuple) -> dict:
    value = tree.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid((*path, key), f"{_where(path, key)} must be a mapping, not {_kind(value)}")
    return value


def text(tree: dict, key: str, path: tuple, default: str | None = None) -> str | None:
    value = tree.get(key, default)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | dict | list):
        raise Invalid((*path, key), f"{_where(path, key)} must be text, not {_kind(value)}")
    return str(value)


def strings(value: Any, path: tuple) -> list[str]:
    """A list of text items (None items, left by selectors, are dropped)."""
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    for index, item in enumerate(value):
        if item is not None and not isinstance(item, str | int | float):
            where = "/".join(map(str, (*path, index)))
            raise Invalid((*path, index), f"{where} must be text, not {_kind(item)}")
    return [str(item).strip() for item in value if item is not None]


def build_number(build: dict, path: tuple, default: int = 0) -> int:
    value = build.get("number", default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid((*path, "number"), f"{_where(path, 'number')} must be an integer, "
                      f"not {value!r}") from None


def noarch(build: dict, path: tuple) -> str | None:
    if build.get("noarch_python") is True:
        return "python"
    value = text(build, "noarch", path)
    if value not in (None, "python", "generic"):
        raise Invalid((*path, "noarch"), f"{_where(path, 'noarch')} must be python or generic, "
                      f"not {value!r}")
    return value


def requirements(value: Any, path: tuple, sections=REQUIREMENT_SECTIONS) -> list[Requirement]:
    """Requirements of a `requirements:` mapping; a bare list means run requirements."""
    if isinstance(value, list):
        value = {"run": value}
    if value is None:
        return []
    if not isinstance(value, dict):
        raise Invalid(path, f"{'/'.join(map(str, path))} must be a mapping, not {_kind(value)}")
    return [req for s in sections for req in section(value.get(s), (*path, s), s)]


def section(value: Any, path: tuple, name: str) -> list[Requirement]:
    out = []
    for index, spec in enumerate(strings(value, path)):
        package = package_name(spec)
        if not package:
            raise Invalid((*path, index), f"requirement {spec!r} has no package name")
        out.append(Requirement(package, spec, name))
    return out


def run_exports(value: Any, path: tuple) -> tuple[str, ...]:
    """`run_exports:` as a list, or a mapping of strong/weak/... lists, flattened."""
    if isinstance(value, dict):
        return tuple(s for k in sorted(value) for s in strings(value[k], (*path, k)))
    return tuple(strings(value, path))


def unique(reqs: list[Requirement]) -> tuple[Requirement, ...]:
    return tuple(dict.fromkeys(reqs))


# conda-build's check_bad_chrs: what a package name or version may not contain
_BAD_NAME = set("=@#$%^&*:;\"'\\|<>?/ !")
_BAD_VERSION = set("=@#$%^&*:;\"'\\|<>?/ -")


def check_name_and_version(name: str, version: str, path: tuple, head: tuple) -> None:
    """Names and versions by conda's rules (checked at plan time, not when the build fails)."""
    bad = sorted(set(name) & _BAD_NAME)
    if bad or name != name.strip() or not name:
        raise Invalid((*head, "name"), f"package name {name!r} contains {_chars(bad)}",
                      "names are lowercase letters, digits and - _ .")
    bad = sorted(set(version) & _BAD_VERSION)
    if bad:
        raise Invalid((*head, "version"), f"version {version!r} contains {_chars(bad)}",
                      "versions are like 1.2.3, 2024.1, 1.0rc1 (no spaces or dashes)")


def _chars(bad: list[str]) -> str:
    return ", ".join("a space" if c == " " else repr(c) for c in bad) or "nothing"


def output(name: str, version: str, build: dict, reqs: list, path: tuple) -> Output:
    return Output(
        name=name, version=version, build_number=build_number(build, (*path, "build")),
        noarch=noarch(build, (*path, "build")), requirements=unique(reqs),
        run_exports=run_exports(build.get("run_exports"), (*path, "build", "run_exports")),
    )


def workspace_path(recipe_dir: str, path: str, where: tuple) -> str:
    """`..` in internal/x/conda → internal/x; a path leaving the workspace is Invalid."""
    joined = posixpath.normpath(posixpath.join(recipe_dir, path))
    if posixpath.isabs(path) or joined == ".." or joined.startswith("../"):
        raise Invalid(where, f"source path {path!r} is outside the workspace")
    return joined


def sources(value: Any, recipe_dir: str, path: tuple, v1: bool) -> tuple[Source, ...]:
    items = value if isinstance(value, list) else [value] if value else []
    return tuple(_source(item, recipe_dir, (*path, i) if isinstance(value, list) else path, v1)
                 for i, item in enumerate(items) if item is not None)


def _source(item: Any, recipe_dir: str, path: tuple, v1: bool) -> Source:
    if not isinstance(item, dict):
        raise Invalid(path, f"source must be a mapping, not {_kind(item)}")
    patches = tuple(workspace_path(recipe_dir, p, (*path, "patches"))
                    for p in strings(item.get("patches"), (*path, "patches")))
    target = text(item, "target_directory" if v1 else "folder", path)
    git = text(item, "git" if v1 else "git_url", path)
    if git:
        rev = (text(item, "tag", path) or text(item, "branch", path) or text(item, "rev", path)
               ) if v1 else (text(item, "git_rev", path) or text(item, "git_tag", path))
        return Source("git", url=git, git_rev=rev, patches=patches, target_directory=target)
    urls = strings(item.get("url"), (*path, "url"))
    if urls:
        return Source("url", url=urls[0], sha256=text(item, "sha256", path), patches=patches,
                      target_directory=target)
    local = text(item, "path", path)
    if local:
        return Source("path", path=workspace_path(recipe_dir, local, (*path, "path")),
                      patches=patches, target_directory=target)
    raise Invalid(path, "a source needs url, path or " + ("git" if v1 else "git_url"))


def _where(path: tuple, key: str) -> str:
    return "/".join(map(str, (*path, key)))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean"}.get(type(value),
                                                                      type(value).__name__)


_KEY_LINE = re.compile(r"(\s*)(?:-\s+)?([\w.-]+):(?:\s|$)")
_ITEM_LINE = re.compile(r"(\s*)-\s+['\"]?([^'\"#\n]+)")
_TEST_KEYS = {"test", "tests"}


def requirement_lines(text: str) -> dict[tuple[str, str], int]:
    """(section, package name) → the line of its first list item in `text` (the rendered text,
    whose lines are the recipe file's): requirements learn where they were written with one
    scan of the lines, not a second YAML parse."""
    found: dict[tuple[str, str], int] = {}
    stack: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), 1):
        key = _KEY_LINE.match(line)
        if key:
            indent = len(key[1]) + (line.lstrip().startswith("-") and 2)
            stack = [s for s in stack if s[0] < indent] + [(indent, key[2])]
            continue
        item = _ITEM_LINE.match(line)
        if item:
            stack = [s for s in stack if s[0] <= len(item[1])]
            section = _section_of([k for _, k in stack if k not in ("then", "else")])
            name = package_name(item[2])
            if section and name:
                found.setdefault((section, name), number)
    return found


def _section_of(keys: list[str]) -> str | None:
    parent = keys[-1] if keys else None
    if _TEST_KEYS & set(keys) and parent in ("requires", "build", "run"):
        return "test"
    return parent if parent in REQUIREMENT_SECTIONS else None


def with_lines(outputs: tuple[Output, ...], text: str) -> tuple[Output, ...]:
    """`outputs` whose requirements carry the line they were written on."""
    from dataclasses import replace

    lines = requirement_lines(text)
    return tuple(replace(o, requirements=_located(o.requirements, lines)) for o in outputs)


def requirements_with_lines(reqs: tuple[Requirement, ...], text: str) -> tuple[Requirement, ...]:
    """`reqs` carrying the line they were written on (a multi-output recipe's top level)."""
    return _located(reqs, requirement_lines(text))


def _located(reqs: tuple[Requirement, ...], lines: dict[tuple[str, str], int]) -> tuple:
    return tuple(Requirement(r.name, r.spec, r.section, lines.get((r.section, r.name), 0))
                 for r in reqs)  # not dataclasses.replace: a tenth of the cost, as entries.py
