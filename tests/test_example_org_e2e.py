"""acme end to end: `orchestrate build //...` from nothing, then acme's app from that channel alone.

Given a copy of the example organization committed in a new git repository (nothing built, no
source downloaded, an empty package cache: sources come from PyPI, as on a fresh machine), when
I run the real CLI as a process with `-j 2`, then every planned package is published in
`<copy>/cache/channel`, and an environment py-rattler creates from that channel only runs acme's
own packages and the `own-app` console script. A second `orchestrate build //...` builds nothing.
"""

from __future__ import annotations

import pytest
from example_org import (
    COMPILED,
    assert_compiled_packages_run,
    channel_filenames,
    copy_example_org,
    create_env,
    orchestrate,
    run_in,
)
from orchestrator.plan import PlanRequest
from orchestrator.planning import compute_plan
from orchestrator.workspace import load_workspace

pytestmark = pytest.mark.slow

RELEASES = "Acme Tool 1.2.3 bücher.example\nAcme Tool 1.10.0 example.org\nOther 0.1 example.com\n"


def test_acme_builds_from_nothing_installs_runs_and_then_is_up_to_date(tmp_path):
    root = copy_example_org(tmp_path / "acme")
    _, plan = compute_plan(load_workspace(root, explicit=True), PlanRequest())
    planned = {f"{o.subdir}/{o.filename}" for n in plan.nodes.values() for o in n.outputs}
    assert len(plan.order) == len(plan.nodes) == 22

    first, first_seconds = orchestrate(root, "build", "//...", "-j", "2")
    assert first.returncode == 0, f"{first.stdout[-4000:]}\n{first.stderr[-4000:]}"
    channel = root / "cache" / "channel"
    assert planned <= channel_filenames(channel)
    assert all((channel / p).is_file() for p in planned)

    prefix = tmp_path / "env"
    installed = create_env(channel, ["own-app", *COMPILED], prefix, tmp_path / "pkgs")
    expected = {o.filename.removesuffix(".conda") for n in plan.nodes.values()
                for o in n.outputs}
    assert set(installed) <= expected  # everything comes from this run's builds
    names = {p.rsplit("-", 2)[0] for p in installed}
    assert {"own-app", "own-data", "own-util", "click", "idna", "packaging", "python"} <= names
    assert_compiled_packages_run(prefix, tmp_path)

    check = ("import own_app, own_util, own_data; "
             "print(own_app.__version__, own_util.slugify('Hello, World!'), "
             "own_data.parse_release('Acme Tool 1.2.3 bücher.example').host, "
             "own_app.__file__.startswith(__import__('sys').prefix))")
    assert run_in(prefix, "python", "-c", check, cwd=tmp_path).split() == [
        "2.0.1", "hello-world", "xn--bcher-kva.example", "True"]
    help_text = run_in(prefix, "own-app", "--help", cwd=tmp_path)
    assert "Usage: own-app [OPTIONS] RELEASES" in help_text
    assert "--page-size" in help_text
    (tmp_path / "releases.txt").write_text(RELEASES, encoding="utf-8")
    assert run_in(prefix, "own-app", "releases.txt", cwd=tmp_path).splitlines() == [
        "# page 1",
        "acme-tool-1.10.0 example.org (acme-tool)",
        "acme-tool-1.2.3 xn--bcher-kva.example (acme-tool)",
        "# page 2",
        "other-0.1 example.com (other)",
    ]

    published = {p: (channel / p).stat().st_mtime_ns for p in planned}
    again, again_seconds = orchestrate(root, "build", "//...")
    assert again.returncode == 0, again.stderr
    assert "nothing to build: 22 targets up to date" in again.stdout, again.stdout
    assert {p: (channel / p).stat().st_mtime_ns for p in planned} == published
    print(f"\nacme: first build {first_seconds:.1f}s (-j 2), second build {again_seconds:.1f}s")
