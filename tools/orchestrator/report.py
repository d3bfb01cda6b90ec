"""What a build run reports afterwards: one entry per target, as JSON and as JUnit XML.

`entries(plan, outcome, log_of)` joins the plan (hash, action, reasons) with the scheduler's
results; `json_report` and `junit_xml` turn the entries into text (pure); `write_text` writes
it atomically. JUnit follows what GitLab reads: testsuites/testsuite/testcase with failure or
skipped, and the log path in system-out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from orchestrator.cache import write_text_atomically
from orchestrator.errors import OrchestratorError

RESULTS = ("success", "failed", "blocked", "cancelled", "skipped", "up-to-date")
NOT_RUN = ("blocked", "cancelled", "skipped", "up-to-date")


@dataclass(frozen=True)
class TargetReport:
    target: str
    hash: str
    result: str  # one of RESULTS
    duration: float = 0.0
    reasons: tuple[str, ...] = ()  # why the plan built it (or did not)
    detail: str = ""  # why it failed, was blocked, skipped or cancelled
    artifacts: tuple[str, ...] = ()
    log: str = ""
    tail: tuple[str, ...] = ()


def entries(plan: Any, outcome: Any, log_of: Callable[[str, str], str]) -> list[TargetReport]:
    """One entry per target of the plan, in plan order: results where it ran, else its action."""
    results = {r.target: r for r in (outcome.results if outcome else ())}
    return [_entry(node, results.get(target), log_of) for target, node in plan.nodes.items()]


def _entry(node: Any, result: Any, log_of: Callable[[str, str], str]) -> TargetReport:
    if result is None:
        status = "skipped" if node.action == "skipped" else "up-to-date"
        return TargetReport(node.target, node.hash, status, reasons=tuple(node.reasons))
    return TargetReport(
        node.target, node.hash, result.status, round(result.duration, 3), tuple(node.reasons),
        result.reason, tuple(result.artifacts), result.log or log_of(node.target, node.hash),
        tuple(result.tail),
    )


def counts(reports: Iterable[TargetReport]) -> dict[str, int]:
    reports = list(reports)
    return {name: sum(1 for r in reports if r.result == name) for name in RESULTS}


def json_report(reports: list[TargetReport], **about: Any) -> str:
    import json

    document = {
        **about,
        "summary": counts(reports),
        "targets": [_json_entry(r) for r in reports],
    }
    return json.dumps(document, indent=2) + "\n"


def _json_entry(report: TargetReport) -> dict[str, Any]:
    data = asdict(report)
    data.pop("tail")
    return data


def junit_xml(reports: list[TargetReport], name: str = "orchestrate build",
              timestamp: str = "") -> str:
    """JUnit XML: one testcase per target; failures carry the log tail, the rest are skipped."""
    total = counts(reports)
    seconds = f"{sum(r.duration for r in reports):.3f}"
    attributes = {"name": name, "tests": str(len(reports)), "failures": str(total["failed"]),
                  "errors": "0", "skipped": str(sum(total[s] for s in NOT_RUN)), "time": seconds}
    suites = ElementTree.Element("testsuites", attributes)
    suite = ElementTree.SubElement(suites, "testsuite", attributes)
    if timestamp:
        suite.set("timestamp", timestamp)
    for report in reports:
        _testcase(suite, report)
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(suite: ElementTree.Element, report: TargetReport) -> None:
    case = ElementTree.SubElement(suite, "testcase", {
        "classname": "orchestrate.build", "name": report.target, "time": f"{report.duration:.3f}",
    })
    if report.result == "failed":
        failure = ElementTree.SubElement(
            case, "failure", {"message": report.detail or "build failed", "type": "BuildFailed"})
        failure.text = "\n".join(report.tail)
    elif report.result in NOT_RUN:
        message = report.detail or report.result
        ElementTree.SubElement(case, "skipped", {"message": message})
    if report.log:
        ElementTree.SubElement(case, "system-out").text = f"log: {report.log}"


def write_text(path: Path, text: str) -> None:
    """Write a report atomically; a path that cannot be written is bad input, named."""
    path = path.absolute()
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise OrchestratorError(f"{path}: cannot write report: {exc.strerror}") from None
