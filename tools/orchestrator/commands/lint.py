"""`orchestrate lint [TARGETS] [--format text|json] [--built DIR]`: the organization's rules
(lint.py) on every selected recipe. One line per finding, `file:line: id message (hint: ...)`;
exit 1 when an error-level rule fails, 0 when only warnings (or nothing) remain.

`--built DIR` (a channel directory, or a directory of package files) adds the linking rules:
the newest package of each selected output in DIR is checked by linkcheck.py, with the
packages of DIR as the providers of its run requirements and `[build] system_libs` allowed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestrator.commands._output import add_format, write, write_json
from orchestrator.errors import OrchestratorError, RecipeErrors
from orchestrator.workspace import load_workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("targets", nargs="*", default=["//..."], help="patterns (default //...)")
    parser.add_argument("--built", metavar="DIR", help="also check built packages in DIR")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from orchestrator.commands._rendered import selected_recipes
    from orchestrator.lint import Subject, active_rules, lint_subject

    workspace = load_workspace(args.directory, explicit=args.directory is not None)
    rules = active_rules(workspace.config.lint, built=bool(args.built))
    built_dir = _built_dir(args.built)
    recipes, errors = selected_recipes(workspace, args.targets, every_variant=True)
    built = (_built(recipes, built_dir, workspace.config.build.system_libs) if built_dir
             else [None] * len(recipes))
    lines = {path: tuple((workspace.root / path).read_text(encoding="utf-8").splitlines())
             for path in {r.path for r in recipes}}  # the variants of a recipe share its file
    findings = []
    for recipe, packages in zip(recipes, built, strict=True):
        subject = Subject(recipe, lines[recipe.path], workspace.platform, packages)
        findings += lint_subject(subject, rules)
    _report(list(dict.fromkeys(findings)), args.format)  # what every variant shows, once
    if errors:
        sys.stdout.flush()
        raise RecipeErrors(list(errors))
    return 1 if any(f.severity == "error" for f in findings) else 0


def _built_dir(value: str | None) -> Path | None:
    if value is None:
        return None
    if not Path(value).is_dir():
        raise LintError(f"lint --built {value}: not a directory (a channel, or package files)")
    return Path(value)


def _built(recipes, directory: Path, system_libs) -> list:
    """Per recipe, a lint.Built: the link problems of its outputs' newest packages in
    `directory` (a skipped recipe has none to look at). Each package is read once, however
    many variants name its output."""
    from orchestrator import linkcheck
    from orchestrator.lint import Built

    outputs = [[] if r.skipped else [o.name for o in r.outputs] for r in recipes]
    newest = linkcheck.newest_packages(directory, {n for names in outputs for n in names})
    allowed = linkcheck.allowed_libraries(system_libs)
    providers = linkcheck.directory_providers(directory, list(newest.values()))
    problems = {name: linkcheck.check_package(package, providers, allowed)
                for name, package in newest.items()}
    return [Built(tuple(p for n in names if n in problems for p in problems[n]),
                  tuple(n for n in names if n not in newest)) for names in outputs]


def _report(findings, format_: str) -> None:
    if format_ == "json":
        write_json([f.__dict__ for f in findings])
        return
    for finding in findings:
        write(finding.text())


class LintError(OrchestratorError):
    """A lint option that cannot be honoured."""
