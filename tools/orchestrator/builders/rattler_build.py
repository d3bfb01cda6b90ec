"""The rattler-build builder: a v1 recipe in the job's work dir, built by the stand-alone runner.

- A `recipe.yaml` recipe is copied as is, except that each output's `build: string:` is set to
  the build string the plan expects and relative path sources point back into the workspace.
- A `meta.yaml` recipe is translated from its rendered tree (`Recipe.data`) by translate.py.
The command is `python rattler_build_runner.py --recipe ...`: the runner imports only the stdlib
and rattler_build, so the same argv runs on the host and in a container.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from orchestrator.builders.collect import check_built, expected_packages, read_built
from orchestrator.builders.request import BuildRequest, Invocation
from orchestrator.builders.scrub import scrub_built
from orchestrator.builders.translate import translate
from orchestrator.builders.workdir import copy_recipe_dir
from orchestrator.errors import BuildError

RUNNER = Path(__file__).with_name("rattler_build_runner.py")
RECIPE_DIR = "recipe"
# The only variables of orchestrate's own environment a build sees (issue 9): what finding
# programs, temporary space, the locale, certificates, proxies and rattler's caches need. No
# other variable reaches the build, so a CI job's token cannot end up in a package; a recipe
# cannot read one either, since `env.get` in recipe.yaml is refused when it renders.
PASSED_ENV = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR",
              "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy",
              "https_proxy", "no_proxy", "RATTLER_CACHE_DIR", "XDG_CACHE_HOME")


BUILD_ENV = {"PYTHONUNBUFFERED": "1"}  # what the builder sets; the rest is PASSED_ENV

_CONTEXT_REF = re.compile(r"\$\{\{\s*(\w+)\s*\}\}")


class RattlerBuild:
    name = "rattler-build"

    def prepare(self, request: BuildRequest) -> None:
        recipe = with_cached_sources(v1_recipe(request), cached_sources(request.source_cache))
        target = recipe_path(request)
        copy_recipe_dir(request, target.parent)
        _write_yaml(target, recipe)

    def invocation(self, request: BuildRequest) -> Invocation:
        return Invocation(
            argv=runner_argv(request),
            env=BUILD_ENV,
            cwd=request.work_dir,
            reads=(request.workspace_root, RUNNER.parent),
            writes=(request.output_dir, request.work_dir, request.source_cache),
            passed=PASSED_ENV,
        )

    def collect(self, request: BuildRequest) -> list[Path]:
        built = read_built(request.output_dir)
        packages = check_built(request.recipe.path, expected_packages(request), built)
        scrub_built(request, packages)
        return packages


def recipe_path(request: BuildRequest) -> Path:
    return request.work_dir / RECIPE_DIR / "recipe.yaml"


def runner_argv(request: BuildRequest) -> tuple[str, ...]:
    argv = [sys.executable, str(RUNNER), "--recipe", str(recipe_path(request)),
            "--output-dir", str(request.output_dir), "--source-cache", str(request.source_cache),
            "--target-platform", request.platform, "--test", request.test]
    for channel in request.channels:
        argv += ["--channel", channel.url]
    for key, values in sorted(build_variant(request).items()):
        argv += [arg for value in values for arg in ("--variant", f"{key}={value}")]
    return tuple(argv)


def build_variant(request: BuildRequest) -> dict[str, tuple]:
    """The variant to build: the workspace's values, and for a recipe.yaml exactly the values of
    the variant the plan rendered (so rattler-build renders that one combination again)."""
    variant = {k: tuple(v) if isinstance(v, tuple | list) else (v,)
               for k, v in request.variant.items()}
    if request.recipe.format == "recipe.yaml":
        variant |= {k: (_text(v),) for k, v in request.recipe.variant}
    return variant


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def v1_recipe(request: BuildRequest) -> dict[str, Any]:
    """The v1 recipe to build: the recipe.yaml as written, or the meta.yaml translated."""
    if request.recipe.format == "meta.yaml":
        return translated_recipe(request)
    return force_build_strings(_read_yaml(request), request, request.recipe_dir.as_posix())


def translated_recipe(request: BuildRequest) -> dict[str, Any]:
    """The meta.yaml's rendered tree as a v1 recipe (pure), every output with its planned
    build string."""
    return translate(request.recipe.data, recipe_file=request.recipe.path,
                     recipe_dir=request.recipe_dir.as_posix(),
                     build_strings=dict(request.build_strings))


def force_build_strings(recipe: dict[str, Any], request: BuildRequest,
                        recipe_dir: str) -> dict[str, Any]:
    """Set `build: string:` of every output; make relative path sources absolute."""
    context = recipe.get("context") or {}
    outputs = recipe.get("outputs")
    for part in outputs if outputs else [recipe]:
        name = _resolve(context, str(part.get("package", {}).get("name", "")))
        if name not in request.build_strings:
            raise BuildError(f"{request.recipe.path}: output `{name}` has no build string in "
                             f"the plan (planned: {', '.join(sorted(request.build_strings))})")
        part.setdefault("build", {})["string"] = request.build_strings[name]
        _absolute_path_sources(part, recipe_dir)
    _absolute_path_sources(recipe, recipe_dir)
    return recipe


def cached_sources(source_cache: Path) -> dict[str, Path]:
    """Downloads already in the source cache (`orchestrate fetch`): sha256 → file."""
    if not source_cache.is_dir():
        return {}
    return {entry.parent.name: entry for entry in sorted(source_cache.glob("*/*"))
            if entry.is_file() and len(entry.parent.name) == 64}


def with_cached_sources(recipe: dict[str, Any], cached: dict[str, Path]) -> dict[str, Any]:
    """url sources found in the cache get it as their first mirror (builds work offline)."""
    for part in [recipe, *(recipe.get("outputs") or [])]:
        source = part.get("source")
        for entry in source if isinstance(source, list) else [source] if source else []:
            sha256 = str(entry.get("sha256", "")).lower() if isinstance(entry, dict) else ""
            if "url" in entry and sha256 in cached:
                urls = entry["url"] if isinstance(entry["url"], list) else [entry["url"]]
                entry["url"] = [cached[sha256].as_uri(), *urls]
    return recipe


def _resolve(context: dict[str, Any], text: str) -> str:
    """A name using `${{ var }}` of the recipe's context, e.g. `${{ name }}-lib`."""
    return _CONTEXT_REF.sub(lambda m: str(context.get(m.group(1), m.group(0))), text)


def _absolute_path_sources(part: dict[str, Any], recipe_dir: str) -> None:
    source = part.get("source")
    for entry in source if isinstance(source, list) else [source] if source else []:
        if isinstance(entry, dict) and "path" in entry and "${{" not in str(entry["path"]):
            entry["path"] = os.path.normpath(os.path.join(recipe_dir, str(entry["path"])))


def _read_yaml(request: BuildRequest) -> dict[str, Any]:
    from ruamel.yaml import YAML, YAMLError

    file = request.workspace_root / request.recipe.path
    try:
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        return yaml.load(file.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise BuildError(f"{request.recipe.path}: cannot read: {exc}") from None


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.width = 4096
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
