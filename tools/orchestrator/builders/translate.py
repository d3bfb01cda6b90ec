"""A rendered conda-build recipe (`Recipe.data` of a meta.yaml) → a rattler-build v1 recipe.

Pure: dicts in, dicts out. Every key the translation knows is mapped; any other key is a
BuildError naming the key and the recipe file, never silently dropped (a dropped `skip`,
`ignore_run_exports` or `outputs` would produce a different package than conda-build would).
Path sources and patches become absolute paths, because the v1 recipe is written elsewhere
(the job's work dir) than the meta.yaml it comes from.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.errors import BuildError

# A conda spec `name 1.2` (version without an operator) means `1.2.*`; v1 specs must say so.
_BARE_VERSION = re.compile(r"^(\S+)\s+(\d[\w.]*)$")
_PIP = re.compile(r"^pip(\s|$)")


class Translation:
    """The context of one translation: where the recipe is, for messages and paths."""

    def __init__(self, recipe_file: str, recipe_dir: str):
        self.recipe_file = recipe_file
        self.recipe_dir = recipe_dir  # absolute, POSIX

    def unsupported(self, key: str) -> BuildError:
        return BuildError(
            f"{self.recipe_file}: `{key}` is not supported by the meta.yaml → recipe.yaml "
            "translation of the rattler-build builder (hint: write this recipe as recipe.yaml "
            "or use the conda-build builder)"
        )

    def absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.recipe_dir, path))

    def check_keys(self, section: str, value: Mapping[str, Any], known: tuple[str, ...]) -> None:
        for key in value:
            if key not in known:
                raise self.unsupported(f"{section}.{key}" if section else key)


def translate(data: Mapping[str, Any], *, recipe_file: str, recipe_dir: str,
              build_string: str | None = None) -> dict[str, Any]:
    """The v1 recipe for a rendered meta.yaml tree, with the build string forced if given."""
    t = Translation(recipe_file, recipe_dir)
    t.check_keys("", data, tuple(_SECTIONS))
    v1: dict[str, Any] = {}
    for key, convert in _SECTIONS.items():
        if data.get(key) not in (None, {}, []):
            _merge(v1, convert(t, data[key]))
    if "package" not in v1:
        raise BuildError(f"{recipe_file}: no `package` section")
    v1.setdefault("build", {})
    if build_string is not None:
        v1["build"]["string"] = build_string
    return v1


def _package(t: Translation, package: Mapping[str, Any]) -> dict[str, Any]:
    t.check_keys("package", package, ("name", "version"))
    return {"package": {"name": str(package["name"]), "version": str(package["version"])}}


def _source(t: Translation, source: Any) -> dict[str, Any]:
    sources = source if isinstance(source, list) else [source]
    return {"source": [_one_source(t, s) for s in sources]}


def _one_source(t: Translation, source: Mapping[str, Any]) -> dict[str, Any]:
    t.check_keys("source", source,
                 ("url", "sha256", "md5", "path", "git_url", "git_rev", "patches", "folder",
                  "fn"))
    out: dict[str, Any] = {}
    if "url" in source:
        out["url"] = source["url"]
        out.update({k: source[k] for k in ("sha256", "md5") if k in source})
        if "fn" in source:
            out["file_name"] = source["fn"]
    elif "path" in source:
        out["path"] = t.absolute(str(source["path"]))
    elif "git_url" in source:
        out["git"] = source["git_url"]
        if "git_rev" in source:
            out["rev"] = str(source["git_rev"])
    else:
        raise BuildError(f"{t.recipe_file}: a source needs `url`, `path` or `git_url`")
    if source.get("patches"):
        out["patches"] = [t.absolute(str(p)) for p in source["patches"]]
    if "folder" in source:
        out["target_directory"] = source["folder"]
    return out


def _build(t: Translation, build: Mapping[str, Any]) -> dict[str, Any]:
    t.check_keys("build", build, ("number", "noarch", "script", "entry_points", "run_exports",
                                  "string", "skip"))
    if str(build.get("skip", False)).lower() in ("true", "yes", "1"):
        raise BuildError(f"{t.recipe_file}: the recipe is skipped on this platform "
                         "(`build: skip`); there is nothing to build")
    out: dict[str, Any] = {"number": int(build.get("number", 0))}
    for key in ("noarch", "script", "string"):
        if build.get(key) not in (None, "", []):
            out[key] = build[key]
    if build.get("entry_points"):
        out["python"] = {"entry_points": list(build["entry_points"])}
    result: dict[str, Any] = {"build": out}
    if build.get("run_exports"):
        result["requirements"] = {"run_exports": _run_exports(t, build["run_exports"])}
    return result


def _run_exports(t: Translation, run_exports: Any) -> Any:
    if isinstance(run_exports, list):
        return [spec(s) for s in run_exports]
    t.check_keys("build.run_exports", run_exports,
                 ("weak", "strong", "noarch", "weak_constrains", "strong_constrains"))
    return {k: [spec(s) for s in v] for k, v in run_exports.items()}


def _requirements(t: Translation, requirements: Mapping[str, Any]) -> dict[str, Any]:
    t.check_keys("requirements", requirements, ("build", "host", "run", "run_constrained"))
    names = {"build": "build", "host": "host", "run": "run", "run_constrained": "run_constraints"}
    return {"requirements": {names[k]: [spec(s) for s in v]
                             for k, v in requirements.items() if v}}


def _test(t: Translation, test: Mapping[str, Any]) -> dict[str, Any]:
    t.check_keys("test", test, ("imports", "commands", "requires", "source_files", "files"))
    requires = [spec(s) for s in test.get("requires") or []]
    tests: list[dict[str, Any]] = []
    if test.get("imports"):
        pip_check = any(_PIP.match(r) for r in requires)
        tests.append({"python": {"imports": list(test["imports"]), "pip_check": pip_check}})
    if test.get("commands"):
        tests.append(_script_test(test, requires))
    return {"tests": tests} if tests else {}


def _script_test(test: Mapping[str, Any], requires: list[str]) -> dict[str, Any]:
    script: dict[str, Any] = {"script": list(test["commands"])}
    if requires:
        script["requirements"] = {"run": requires}
    files = {k: list(test[m]) for k, m in (("source", "source_files"), ("recipe", "files"))
             if test.get(m)}
    if files:
        script["files"] = files
    return script


_ABOUT = {"home": "homepage", "dev_url": "repository", "doc_url": "documentation",
          "license": "license", "license_file": "license_file", "license_family": "license_family",
          "summary": "summary", "description": "description"}


def _about(t: Translation, about: Mapping[str, Any]) -> dict[str, Any]:
    t.check_keys("about", about, tuple(_ABOUT))
    return {"about": {_ABOUT[k]: v for k, v in about.items() if v not in (None, "")}}


def _extra(t: Translation, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {"extra": dict(extra)}


def _merge(v1: dict[str, Any], part: dict[str, Any]) -> None:
    """Sections may add to one v1 section (`build: run_exports` goes to `requirements`)."""
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(v1.get(key), dict):
            v1[key].update(value)
        else:
            v1[key] = value


def spec(text: Any) -> str:
    """A conda match spec as v1 wants it: `python 3.11` → `python 3.11.*`."""
    text = " ".join(str(text).split())
    bare = _BARE_VERSION.match(text)
    if bare and not bare.group(2).endswith("*"):
        return f"{bare.group(1)} {bare.group(2)}.*"
    return text


_SECTIONS: dict[str, Callable[[Translation, Any], dict[str, Any]]] = {
    "package": _package,
    "source": _source,
    "build": _build,
    "requirements": _requirements,
    "test": _test,
    "about": _about,
    "extra": _extra,
}
