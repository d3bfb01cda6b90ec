"""Build reports: plan + scheduler results → JSON and JUnit XML, parsed back like GitLab does."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest
from orchestrator.errors import OrchestratorError
from orchestrator.report import entries, json_report, junit_xml, write_text
from orchestrator.scheduler import JobResult, Outcome


@dataclass(frozen=True)
class Node:
    target: str
    hash: str
    action: str
    reasons: tuple = ()


@dataclass(frozen=True)
class Plan:
    nodes: dict


PLAN = Plan({n.target: n for n in [
    Node("//recipes/a", "ha", "build", ("source changed",)),
    Node("//recipes/b", "hb", "build", ("depends on //recipes/a",)),
    Node("//recipes/c", "hc", "build", ("not in the channel",)),
    Node("//recipes/d", "hd", "up-to-date"),
]})
OUTCOME = Outcome((
    JobResult("//recipes/a", "failed", 2.5, "command `x` exited with return code 1",
              tail=("compiling", "error: <boom> & more")),
    JobResult("//recipes/b", "blocked", reason="blocked by //recipes/a"),
    JobResult("//recipes/c", "success", 1.25, artifacts=("noarch/c-1.0-hc_0.conda",)),
))


def reports():
    return entries(PLAN, OUTCOME, lambda target, hash: f"cache/builds/{target[10:]}/{hash}/log")


def test_entries_join_plan_and_results():
    got = {r.target: (r.result, r.detail, r.log) for r in reports()}
    assert got == {
        "//recipes/a": ("failed", "command `x` exited with return code 1", "cache/builds/a/ha/log"),
        "//recipes/b": ("blocked", "blocked by //recipes/a", "cache/builds/b/hb/log"),
        "//recipes/c": ("success", "", "cache/builds/c/hc/log"),
        "//recipes/d": ("up-to-date", "", ""),
    }


def test_json_report_lists_every_target():
    document = json.loads(json_report(reports(), platform="linux-64", interrupted=False))
    assert document["summary"]["failed"] == 1 and document["summary"]["up-to-date"] == 1
    by_target = {t["target"]: t for t in document["targets"]}
    assert by_target["//recipes/c"]["artifacts"] == ["noarch/c-1.0-hc_0.conda"]
    assert by_target["//recipes/a"]["reasons"] == ["source changed"]
    assert set(by_target["//recipes/a"]) == {"target", "hash", "result", "duration", "reasons",
                                             "detail", "artifacts", "log"}


def test_junit_has_the_shape_gitlab_reads():
    root = ElementTree.fromstring(junit_xml(reports()).encode())
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "2")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["//recipes/a", "//recipes/b", "//recipes/c", "//recipes/d"]
    failure = cases["//recipes/a"].find("failure")
    assert failure.get("message").startswith("command `x`")
    assert failure.text == "compiling\nerror: <boom> & more"
    assert cases["//recipes/b"].find("skipped").get("message") == "blocked by //recipes/a"
    assert list(cases["//recipes/c"]) == [cases["//recipes/c"].find("system-out")]
    assert cases["//recipes/c"].get("time") == "1.250"
    for case in cases.values():
        assert case.get("classname") and case.get("name") and case.get("time")


def test_report_to_an_unwritable_path_is_bad_input(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OrchestratorError, match="cannot write report"):
        write_text(blocker / "report.json", "{}")


def test_reports_are_readable_by_others_like_any_file(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "out" / "report.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "out" / "report.json").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.json"]


def test_the_build_summary_names_each_variant_as_written():
    import io

    from orchestrator.commands.build import _print_summary
    from orchestrator.report import TargetReport
    from rich.console import Console

    node = "//recipes/numpy[python=3.12]"
    reports = [TargetReport(node, "h1", "blocked", detail="blocked by //recipes/x[python=3.12]")]
    out = io.StringIO()
    _print_summary(Console(file=out, width=200), reports,
                   Outcome((JobResult(node, "blocked", reason="x"),)))
    # rich would take `[python=3.12]` for markup and print //recipes/numpy
    assert node in out.getvalue() and "//recipes/x[python=3.12]" in out.getvalue()
