"""Minimal textual edits of a recipe: its version, a source's sha256, its build number.

Pure functions from text to text that change only the characters of a value, so comments,
selectors, Jinja and formatting of every other line stay byte for byte (a YAML round-trip
would re-indent and re-quote; a recipe with Jinja is not YAML before rendering anyway).
Forms understood: meta.yaml `{% set version = "1.0" %}` or a literal `version: 1.0`,
recipe.yaml `context: version: "1.0"` or a literal `version:`; `{% set build = N %}`,
`context: build_number: N` or literal `number: N`.
"""

from __future__ import annotations

import re

from orchestrator.errors import OrchestratorError


class EditError(OrchestratorError):
    """The recipe holds no value of the form the edit knows (the file is left unchanged)."""


_SET = r"(\{%-?\s*set\s+NAME\s*=\s*)([\"']?)VALUE\2(\s*-?%\})"
_KEY = r"(?m)^(\s*NAME:[ \t]*)([\"']?)VALUE\2([ \t]*(?:#.*)?)$"


def _pattern(form: str, name: str, value: str) -> str:
    return form.replace("NAME", name).replace("VALUE", value)


def set_version(text: str, old: str, new: str) -> str:
    """`old` → `new` where the version is set: a Jinja `set`, else `context:` or literal key."""
    value = re.escape(old)
    for pattern in (_pattern(_SET, "version", value),
                    _pattern(_KEY, "version", value)):
        edited, count = re.subn(pattern, lambda m: f"{m[1]}{m[2]}{new}{m[2]}{m[3]}", text)
        if count:
            return edited
    raise EditError(f"no `version` set to {old!r} found (hint: set it in one place)")


def reset_build_number(text: str) -> str:
    """Every build number written as a number becomes 0 (templated ones follow their `set`)."""
    for name in ("build", "build_number", "number", "buildnumber"):
        text = re.sub(_pattern(_SET, name, r"\d+"), r"\g<1>\g<2>0\g<2>\g<3>", text)
    for name in ("build_number", "number"):
        text = re.sub(_pattern(_KEY, name, r"\d+"), r"\g<1>\g<2>0\g<2>\g<3>", text)
    return text


def replace_sha256(text: str, old: str, new: str) -> str:
    edited, count = re.subn(re.escape(old), new, text, flags=re.I)
    if not count:
        raise EditError(f"the sha256 {old} is not written in the recipe")
    return edited


def replace_literal(text: str, old: str, new: str) -> str:
    """A literal part of a URL (PyPI's hashed directory of a file) replaced where written."""
    if old not in text:
        raise EditError(f"{old!r} is not written in the recipe")
    return text.replace(old, new)
