"""`orchestrate updates`: newest upstream versions from a local PyPI (recorded responses), a
local stand-in for GitHub's releases API, a directory listing; one test asks real PyPI."""

from __future__ import annotations

import json

import pytest
from example_org import copy_example_org
from orchestrator.updates.versions import newest
from packaging.version import Version
from pypi_server import pypi_server, recorded

RECIPE = """\
package:
  name: {name}
  version: "{version}"
source:
  url: {url}
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
build:
  number: 0
"""


@pytest.fixture
def pypi(monkeypatch):
    with pypi_server() as server:
        monkeypatch.setenv("ORCHESTRATE_PYPI_URL", server.base)
        monkeypatch.setenv("ORCHESTRATE_GITHUB_API_URL", server.base)
        yield server


def updates_json(run_cli, root, *args) -> dict[str, dict]:
    result = run_cli(["-C", root, "updates", "--format", "json", *args])
    assert result.code == 0, result.err
    return {row["target"]: row for row in json.loads(result.out)}


def test_example_org_against_recorded_pypi(pypi, run_cli, tmp_path):
    root = copy_example_org(tmp_path / "acme")
    rows = updates_json(run_cli, root)
    documents = recorded()
    six = rows["//recipes/python-six"]
    assert six["latest"] == documents["six"]["info"]["version"]
    assert six["current"] == "1.16.0" and six["checker"] == "pypi"
    assert six["status"] == "outdated"
    assert rows["//internal/own-util"]["status"] == "unknown"
    assert rows["//recipes/python-flit-core"]["project"] == "flit_core"
    assert any(hit.startswith("/pypi/six/json") for hit in pypi.hits)


def test_text_output_names_latest_current_and_unknown(pypi, run_cli, tmp_path):
    root = copy_example_org(tmp_path / "acme")
    result = run_cli(["-C", root, "updates", "//recipes/python-six", "//internal/own-util"])
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    latest = recorded()["six"]["info"]["version"]
    assert lines[1].split()[:3] == ["//recipes/python-six", latest, "(1.16.0)"]
    assert "unknown (1.2.0)" in lines[0]


def test_prereleases_only_when_asked(pypi, run_cli, make_workspace):
    document = {"info": {"name": "thing"}, "urls": [], "releases": {
        "1.0": [{"packagetype": "sdist", "yanked": False}],
        "1.1": [{"packagetype": "sdist", "yanked": False}],
        "2.0rc1": [{"packagetype": "sdist", "yanked": False}],
        "3.0": [{"packagetype": "sdist", "yanked": True}]}}
    pypi.routes["/pypi/thing/json"] = json.dumps(document).encode()
    url = "https://pypi.org/packages/source/t/thing/thing-1.0.tar.gz"
    root = make_workspace({"recipes/thing/meta.yaml": RECIPE.format(
        name="thing", version="1.0", url=url)})
    assert updates_json(run_cli, root)["//recipes/thing"]["latest"] == "1.1"
    assert updates_json(run_cli, root, "--pre")["//recipes/thing"]["latest"] == "2.0rc1"


def test_github_releases_from_a_local_stand_in(pypi, run_cli, make_workspace):
    releases = [
        {"tag_name": "v2.1.0", "draft": True, "prerelease": False, "html_url": "d"},
        {"tag_name": "v2.0.0b1", "draft": False, "prerelease": True, "html_url": "p"},
        {"tag_name": "v1.9.0", "draft": False, "prerelease": False,
         "html_url": "https://github.com/acme/tool/releases/tag/v1.9.0"},
        {"tag_name": "v1.10.0", "draft": False, "prerelease": False, "html_url": "h"},
    ]
    pypi.routes["/repos/acme/tool/releases?per_page=100"] = json.dumps(releases).encode()
    url = "https://github.com/acme/tool/archive/v1.2.0.tar.gz"
    root = make_workspace({"recipes/tool/meta.yaml": RECIPE.format(
        name="tool", version="1.2.0", url=url)})
    row = updates_json(run_cli, root)["//recipes/tool"]
    assert (row["checker"], row["project"], row["latest"], row["changelog"]) == (
        "github", "acme/tool", "1.10.0", "h")


def test_directory_listing(pypi, run_cli, make_workspace):
    listing = ('<html><body><a href="../">../</a><a href="gmp-6.2.1.tar.xz">gmp-6.2.1.tar.xz</a>'
               '<a href="gmp-6.3.0.tar.xz">x</a><a href="gmp-6.3.0.tar.xz.sig">s</a>'
               '<a href="gmp-6.10.0.tar.xz">y</a><a href="other-9.0.tar.xz">z</a></body></html>')
    pypi.routes["/gnu/gmp/"] = listing.encode()
    url = f"{pypi.base}/gnu/gmp/gmp-6.2.1.tar.xz"
    root = make_workspace({"recipes/gmp/meta.yaml": RECIPE.format(
        name="gmp", version="6.2.1", url=url)})
    row = updates_json(run_cli, root)["//recipes/gmp"]
    assert (row["checker"], row["latest"], row["status"]) == ("listing", "6.10.0", "outdated")


def test_a_failing_checker_says_why_in_one_line(pypi, run_cli, make_workspace):
    url = "https://pypi.org/packages/source/n/nothing-here/nothing-here-1.0.tar.gz"
    upstream = "extra:\n  upstream:\n    pypi: also-missing\n"
    root = make_workspace({"recipes/nothing/meta.yaml": RECIPE.format(
        name="nothing-here", version="1.0", url=url) + upstream})
    result = run_cli(["-C", root, "updates"])
    assert result.code == 0, result.err
    assert result.out.count("\n") == 1
    assert "error (1.0): pypi:" in result.out and "/pypi/also-missing/json: HTTP 404" in result.out


@pytest.mark.parametrize(("versions", "pre", "expected"), [
    (["1.0", "1.10", "1.9"], False, "1.10"),
    (["1.0", "2.0.dev1", "2.0a1"], False, "1.0"),
    (["1.0", "2.0.dev1", "2.0a1"], True, "2.0a1"),
    (["not a version", "0.1"], False, "0.1"),
    (["2024.8.30", "2024.10.1.post1"], False, "2024.10.1.post1"),
])
def test_newest_orders_like_packaging(versions, pre, expected):
    assert newest(versions, pre) == expected


@pytest.mark.network
def test_real_pypi(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRATE_PYPI_URL", raising=False)
    root = copy_example_org(tmp_path / "acme")
    row = updates_json(run_cli, root, "//recipes/python-six")["//recipes/python-six"]
    assert row["status"] in ("outdated", "current") and Version(row["latest"]) >= Version("1.16")
