"""Helpers (no tests) of the example-organization tests: a copy of acme, channels, environments.

- `copy_example_org(dest)` copies acme's tracked files (WORKSPACE.toml, recipes/, internal/) from
  this repository into `dest` and commits them in a new git repository: the tests never read or
  write the repository's own cache/ and never depend on what is built here.
- `channel_filenames(channel)` lists the packages a channel's repodata.json files publish.
- `create_env(channel, specs, prefix, cache)` solves with py-rattler against that one local
  channel and installs into `prefix` (the product itself never creates environments).
- `orchestrate(root, *args)` runs the real CLI in its own process; `run_in(prefix, ...)` runs a
  program of an environment; `assert_compiled_packages_run(prefix, cwd)` imports acme's
  compiled packages (`COMPILED`) and calls them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import commit_all, git

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PARTS = ("WORKSPACE.toml", "recipes", "internal")


def example_files() -> list[str]:
    """acme's files as git tracks them here (no caches, no build leftovers), sorted."""
    return sorted(git(ROOT, "ls-files", "-z", "--", *EXAMPLE_PARTS).split("\0")[:-1])


def copy_example_org(dest: Path) -> Path:
    """acme in `dest`, committed in a new git repository; returns `dest`."""
    for rel in example_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    (dest / ".gitignore").write_text("cache/\n", encoding="utf-8")
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, "acme, copied from the orchestrate repository")
    return dest


def channel_filenames(channel: Path) -> set[str]:
    """`subdir/filename` of every package listed in the channel's repodata.json files."""
    listed = set()
    for repodata in sorted(channel.glob("*/repodata.json")):
        data = json.loads(repodata.read_text(encoding="utf-8"))
        for key in ("packages", "packages.conda"):
            listed |= {f"{repodata.parent.name}/{name}" for name in data.get(key, {})}
    return listed


def create_env(channel: Path, specs: list[str], prefix: Path, cache: Path) -> list[str]:
    """Solve `specs` against the local channel only and install them into `prefix`."""
    from rattler import install, solve

    async def go():
        records = await solve([channel.as_uri()], specs, platforms=["linux-64", "noarch"])
        await install(records, prefix, cache_dir=cache, show_progress=False)
        return sorted(f"{r.name.normalized}-{r.version}-{r.build}" for r in records)

    return asyncio.run(go())


def orchestrate(root: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """The real CLI in its own process; returns the result and its seconds.

    rattler-build's package cache is the test's own (RATTLER_CACHE_DIR), not this machine's
    ~/.cache/rattler: nothing built or downloaded before this test is reused.
    """
    env = {**os.environ, "RATTLER_CACHE_DIR": str(root.parent / "rattler-cache")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "orchestrator", "-C", str(root), *args],
                          capture_output=True, text=True, timeout=1700, env=env)
    return done, time.monotonic() - started


def run_in(prefix: Path, *argv: str, cwd: Path) -> str:
    done = subprocess.run([str(prefix / "bin" / argv[0]), *argv[1:]], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


COMPILED = ["own-native-py", "markupsafe"]
COMPILED_CHECK = ("import own_native_py, markupsafe, markupsafe._speedups; "
                  "print(own_native_py.version(), own_native_py.checksum('acme'), "
                  "markupsafe.escape('<b>'))")


def assert_compiled_packages_run(prefix: Path, cwd: Path) -> None:
    """acme's C extension calls its C library, markupsafe's C speedups load."""
    assert run_in(prefix, "python", "-c", COMPILED_CHECK, cwd=cwd).split() == [
        "1.0.0", "6385038299", "&lt;b&gt;"]
    assert (prefix / "lib/libown_native.so.1").is_file()  # installed through run_exports
