"""Shared fixtures: real workspaces in real git repositories, the CLI run in-process, recipes.

- `make_workspace(files, git_repo=True, name="ws")` writes `files` (path → text) in a new dir,
  adds a minimal WORKSPACE.toml unless given, and commits everything in a real git repository.
- `run_cli(args, cwd=None)` runs `orchestrator.cli.main(args)` and returns (code, out, err).
- `make_recipe(target, *outputs, ...)` builds a rendered `Recipe` record for pure unit tests;
  `output(name, "host: pip", "run: python >=3.8", version=...)` builds one of its outputs.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest
from orchestrator.recipes.model import Output, Recipe, Requirement

# `orchestrate plan|why|graph|query` run as a process would start a server per workspace that
# outlives the test (until idle): tests that want one (test_server.py) ask for it.
os.environ["ORCHESTRATE_SERVER"] = "0"

DEFAULT_WORKSPACE_TOML = '[workspace]\nname = "test-org"\n'
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *args: str) -> str:
    """Run git in `root` with a fixed identity; returns stdout."""
    env = {**os.environ, **_GIT_ENV, "HOME": str(root)}
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def about_of(package: Path, scratch: Path) -> dict:
    """A package's info/about.json, extracted under `scratch` (py-rattler)."""
    import json

    from rattler.package_streaming import extract

    extract(package, scratch / package.name)
    return json.loads((scratch / package.name / "info/about.json").read_text())


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def commit_all(root: Path, message: str = "change") -> str:
    """Commit everything in `root`; returns the new commit id."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def make_workspace(tmp_path):
    """make_workspace(files, git_repo=True, name="ws") -> Path of a new workspace."""

    def make(files: dict[str, str], git_repo: bool = True, name: str = "ws") -> Path:
        root = tmp_path / name
        root.mkdir()
        write_files(root, {"WORKSPACE.toml": DEFAULT_WORKSPACE_TOML, **files})
        if git_repo:
            git(root, "init", "-q", "-b", "main")
            commit_all(root, "initial")
        return root

    return make


class CliResult(NamedTuple):
    code: int
    out: str
    err: str


def invoke_cli(args: list[str], cwd: Path | None = None) -> CliResult:
    from orchestrator.cli import main

    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        os.chdir(previous)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def run_cli():
    """run_cli(args, cwd=None) -> CliResult(code, out, err), running the CLI in-process."""
    return invoke_cli


def output(name: str, *requirements: str, version: str = "1.0", **fields) -> Output:
    """`output("a", "host: pip", "run: b >=1")`: each requirement is `section: spec`."""
    reqs = []
    for text in requirements:
        section, spec = (part.strip() for part in text.split(":", 1))
        reqs.append(Requirement(spec.split()[0], spec, section))
    return Output(name, version, requirements=tuple(reqs), **fields)


def recipe(target: str, *outputs: Output | str, **fields) -> Recipe:
    """A rendered recipe for `target`; a str output is a package without requirements."""
    outs = tuple(output(o) if isinstance(o, str) else o for o in outputs)
    path = f"{target[2:]}/meta.yaml"
    return Recipe(target=target, path=path, format="meta.yaml", outputs=outs, **fields)


@pytest.fixture
def make_recipe():
    """make_recipe(target, *outputs, **fields) -> Recipe (see `recipe` and `output`)."""
    return recipe


@pytest.fixture
def make_output():
    return output


@pytest.fixture
def serve_files():
    """`serve_files({"/path": b"bytes"})` → (base URL, list of requested paths): a real HTTP
    server on 127.0.0.1 for the test's duration; unknown paths are 404."""
    import http.server
    import threading

    servers = []

    def start(files: dict[str, bytes]) -> tuple[str, list[str]]:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                hits.append(self.path)
                if self.path not in files:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(files[self.path])))
                self.end_headers()
                self.wfile.write(files[self.path])

            def log_message(self, *args):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_port}", hits

    yield start
    for httpd in servers:
        httpd.shutdown()


def process_alive(pid: int) -> bool:
    """Alive and not a zombie (PID 1 here may not reap orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def run_shell_job(command: str, log: Path, cancel) -> tuple[str, str]:
    """A scheduler job's real work in tests: `sh -c command` through proc.py → (status, reason)."""
    from orchestrator import proc

    try:
        proc.run(["sh", "-c", command], log=log, cancel=cancel, grace=1)
    except proc.ProcessCancelled:
        return "cancelled", "cancelled"
    except proc.ProcessFailed as exc:
        return "failed", str(exc)
    return "success", ""


REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


def conda_build_env_dir() -> Path | None:
    """The conda-build environment (`make conda-build`), or None when it is not there."""
    env = Path(os.environ.get("ORCHESTRATE_CONDA_BUILD_ENV", REPO_ROOT / ".venv-conda-build"))
    return env if (env / "bin" / "conda-build").exists() else None


@pytest.fixture(scope="session")
def conda_build_env() -> Path:
    """The conda-build environment's directory; skips without it, fails instead when
    ORCHESTRATE_REQUIRE_CONDA_BUILD=1 (as .ci/run sets)."""
    env = conda_build_env_dir()
    if env is None:
        message = "no conda-build environment (make conda-build)"
        if os.environ.get("ORCHESTRATE_REQUIRE_CONDA_BUILD") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return env


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """../shared/corpus (50 conda-forge feedstocks and conda-forge's pinning file)."""
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is absent")
    return corpus
