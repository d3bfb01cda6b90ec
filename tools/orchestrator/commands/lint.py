"""`orchestrate lint [TARGETS] [--format text|json] [--built DIR]`: the organization's rules
(lint.py) on every selected recipe. One line per finding, `file:line: id message (hint: ...)`;
exit 1 when an error-level rule fails, 0 when only warnings (or nothing) remain.

`--built DIR` is the place for the linking rules on built packages (`linked-libraries`): it
belongs to linkcheck.py's `check_package(package_path, ...)`, which is not in this tree yet;
until it is, `--built` is refused rather than pretending to check.
"""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands._load import add_format, write, write_json
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
    rules = active_rules(workspace.config.lint)
    if args.built:
        raise LintError("lint --built needs linkcheck.py (the linking rules), not yet here")
    recipes, errors = selected_recipes(workspace, args.targets, every_variant=True)
    findings = []
    for recipe in recipes:
        text = (workspace.root / recipe.path).read_text(encoding="utf-8")
        subject = Subject(recipe, tuple(text.splitlines()), workspace.platform)
        findings += lint_subject(subject, rules)
    _report(list(dict.fromkeys(findings)), args.format)  # what every variant shows, once
    if errors:
        sys.stdout.flush()
        raise RecipeErrors(list(errors))
    return 1 if any(f.severity == "error" for f in findings) else 0


def _report(findings, format_: str) -> None:
    if format_ == "json":
        write_json([f.__dict__ for f in findings])
        return
    for finding in findings:
        write(finding.text())


class LintError(OrchestratorError):
    """A lint option that cannot be honoured."""
