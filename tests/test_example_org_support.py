"""Helpers (no tests) of the example-organization tests: a minimal meta.yaml render, channels, envs.

`render_example_recipe` is deliberately small (selectors for linux, `{% set %}`, `{{ PYTHON }}`):
it covers what the example organization's recipes use, so these tests do not depend on the
rendering engineer's recipes/render.py; the orchestrator itself renders with that module.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from pathlib import Path

import jinja2
from orchestrator.recipes.model import Output, Recipe, Requirement
from ruamel.yaml import YAML

SELECTOR = re.compile(r"^(?P<line>.*?)\s*#\s*\[(?P<expr>[^\]]+)\]\s*$")
LINUX_NAMESPACE = {"linux": True, "linux64": True, "unix": True, "win": False, "osx": False,
                   "x86_64": True, "aarch64": False}


def apply_selectors(text: str) -> str:
    kept = []
    for line in text.splitlines():
        match = SELECTOR.match(line)
        if match is None:
            kept.append(line)
        elif eval(match["expr"], {"__builtins__": {}}, dict(LINUX_NAMESPACE)):  # noqa: S307
            kept.append(match["line"])
    return "\n".join(kept) + "\n"


def render_meta_yaml(text: str) -> dict:
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        apply_selectors(text))
    # Like conda-build's StringifyNumbersLoader: `version: 3.10` stays "3.10", never 3.1.
    return YAML(typ="base").load(template.render(PYTHON="$PYTHON"))


def _substitute(text: str, context: dict) -> str:
    return re.sub(r"\$\{\{\s*(\w+)\s*\}\}", lambda m: str(context[m.group(1)]), str(text))


def _requirements(section_map: dict, context: dict, test: dict) -> tuple[Requirement, ...]:
    reqs = []
    sections = {**section_map, "test": (test or {}).get("requires")}
    for section in ("build", "host", "run", "test"):
        for spec in sections.get(section) or []:
            spec = _substitute(spec, context)
            reqs.append(Requirement(spec.split()[0], spec, section))
    return tuple(reqs)


def _output(pkg: dict, build: dict, requirements: dict, context: dict,
            test: dict | None = None) -> Output:
    return Output(name=_substitute(pkg["name"], context),
                  version=_substitute(pkg["version"], context),
                  noarch=build.get("noarch"),
                  requirements=_requirements(requirements, context, test or {}))


def load_example_recipe(root: Path, path: str) -> Recipe:
    """The Recipe of one workspace recipe file, rendered for linux-64."""
    text = (root / path).read_text(encoding="utf-8")
    target = "//" + path.rsplit("/", 1)[0].removesuffix("/conda")
    if path.endswith("meta.yaml"):
        data = render_meta_yaml(text)
        outputs = (_output(data["package"], data.get("build", {}),
                           data.get("requirements", {}), {}, data.get("test")),)
        return Recipe(target, path, "meta.yaml", outputs, data=data)
    data = YAML(typ="safe").load(text)
    context = data.get("context", {})
    parts = data.get("outputs") or [data]
    outputs = tuple(_output(p["package"], p.get("build", {}) or data.get("build", {}),
                            p.get("requirements", {}), context) for p in parts)
    return Recipe(target, path, "recipe.yaml", outputs, data=data)


def build_string_for(root: Path, recipe: Recipe) -> dict[str, str]:
    digest = hashlib.sha256((root / recipe.path).read_bytes()).hexdigest()[:10]
    return {o.name: f"h{digest}_{o.build_number}" for o in recipe.outputs}


def publish(channel: Path, packages: list[Path]) -> None:
    """Copy packages into a local channel and index it with py-rattler."""
    from rattler.index import index_fs

    for package in packages:
        subdir = channel / package.parent.name
        subdir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(package, subdir / package.name)
    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel, force=True))


def create_env(channel: Path, specs: list[str], prefix: Path, cache: Path) -> list[str]:
    """Solve `specs` against the local channel only and install them into `prefix`."""
    from rattler import install, solve

    async def go():
        records = await solve([channel.as_uri()], specs, platforms=["linux-64", "noarch"])
        await install(records, prefix, cache_dir=cache, show_progress=False)
        return sorted(f"{r.name.normalized}-{r.version}-{r.build}" for r in records)

    return asyncio.run(go())
