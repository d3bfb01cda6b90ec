"""A rendered conda-build recipe (`Recipe.data` of a meta.yaml) → a rattler-build v1 recipe.

Pure: dicts in, dicts out. Every key the translation knows is mapped; any other key is a
BuildError naming the key and the recipe file, never silently dropped (a dropped `skip` or
`ignore_run_exports` would produce a different package than conda-build would).
A recipe with `outputs:` becomes a v1 multi-output recipe when each output is unambiguous: it
has its own `script` (a .sh/.bat file of the recipe or inline commands), or none and only
carries requirements (a metapackage). Whatever would need conda-build's implicit top-level
build (a top-level script, requirements or test, an output's `files`) is refused.
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
_SCRIPT_FILE = re.compile(r"^[\w./-]+\.(sh|bat)$")


class Translation:
    """The context of one translation: where the recipe is, for messages and paths."""

    def __init__(self, recipe_file: str, recipe_dir: str, where: str = ""):
        self.recipe_file = recipe_file
        self.recipe_dir = recipe_dir  # absolute, POSIX
        self.where = where  # the part being translated, e.g. "outputs[1]"; "" for the top

    def within(self, where: str) -> Translation:
        return Translation(self.recipe_file, self.recipe_dir, where)

    def unsupported(self, key: str, why: str = "") -> BuildError:
        key = f"{self.where}.{key}" if self.where else key
        return BuildError(
            f"{self.recipe_file}: `{key}`{why} is not supported by the meta.yaml → recipe.yaml "
            "translation of the rattler-build builder (hint: write this recipe as recipe.yaml "
            "or use the conda-build builder)"
        )

    def absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.recipe_dir, path))

    def check_keys(self, section: str, value: Mapping[str, Any], known: tuple[str, ...],
                   why: str = "") -> None:
        for key in value:
            if key not in known:
                raise self.unsupported(f"{section}.{key}" if section else key, why)


def translate(data: Mapping[str, Any], *, recipe_file: str, recipe_dir: str,
              build_string: str | None = None,
              build_strings: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The v1 recipe for a rendered meta.yaml tree, with build strings forced if given.

    `build_strings` maps output (package) names to build strings; `build_string` alone is for
    a recipe with one package (or one output)."""
    t = Translation(recipe_file, recipe_dir)
    if data.get("outputs"):
        return _multi_output(t, data, build_string, build_strings)
    if build_strings is not None and build_string is None:
        build_string = _string_of(t, str((data.get("package") or {}).get("name", "")),
                                  build_strings)
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


def _multi_output(t: Translation, data: Mapping[str, Any], build_string: str | None,
                  build_strings: Mapping[str, str] | None) -> dict[str, Any]:
    """A v1 multi-output recipe: `recipe`, the shared sections, then one entry per output."""
    top, number = _shared_head(t, data)
    live = _live_outputs(t, data["outputs"])
    _check_no_top_level_build(t, top["name"], live)
    strings = _strings_of(t, [str(o["name"]) for _, o in live], build_string, build_strings)
    v1: dict[str, Any] = {"recipe": top, "build": {"number": number}}
    for key in ("source", "about", "extra"):
        if data.get(key) not in (None, {}, []):
            _merge(v1, _SECTIONS[key](t, data[key]))
    v1["outputs"] = [_output(t.within(f"outputs[{i}]"), out, top["version"], number, strings)
                     for i, out in live]
    return v1


def _shared_head(t: Translation, data: Mapping[str, Any]) -> tuple[dict[str, str], int]:
    """The recipe's package (name, version) and build number, checked for what v1 can share."""
    for key in data:
        if key not in _SHARED:
            raise t.unsupported(key, " beside `outputs`")
    if not data.get("package"):
        raise BuildError(f"{t.recipe_file}: no `package` section")
    build = dict(data.get("build") or {})
    t.check_keys("build", build, ("number", "string", "skip"), " beside `outputs`")
    return _package(t, data["package"])["package"], _build(t, build)["build"]["number"]


def _check_no_top_level_build(t: Translation, name: str,
                              live: list[tuple[int, Mapping[str, Any]]]) -> None:
    """conda-build gives a script-less output named like the package the files of its implicit
    top-level build (build.sh): that is no metapackage, and nothing v1 can say."""
    for i, out in live:
        if out["name"] == name and out.get("script") in (None, "", []):
            raise t.within(f"outputs[{i}]").unsupported(
                "script", " missing on the output named like the top-level package")


def _live_outputs(t: Translation, outputs: Any) -> list[tuple[int, Mapping[str, Any]]]:
    """The outputs not skipped on this platform (the renderer leaves them out of the Recipe)."""
    if not isinstance(outputs, list) or not all(isinstance(o, Mapping) for o in outputs):
        raise BuildError(f"{t.recipe_file}: `outputs` must be a list of mappings")
    for i, out in enumerate(outputs):
        if not out.get("name"):
            raise BuildError(f"{t.recipe_file}: `outputs[{i}].name` is missing")
    live = [(i, o) for i, o in enumerate(outputs) if not _skipped(o.get("build") or {})]
    if not live:
        raise BuildError(f"{t.recipe_file}: every output is skipped on this platform "
                         "(`build: skip`); there is nothing to build")
    return live


def _output(t: Translation, out: Mapping[str, Any], version: str, number: int,
            strings: Mapping[str, str]) -> dict[str, Any]:
    t.check_keys("", out, ("name", "version", "script", "build", "requirements", "test",
                           "about"))
    name = str(out["name"])
    build = {"number": number, **(out.get("build") or {})}
    if "script" in build:
        raise t.unsupported("build.script", " (give the output its own `script`)")
    v1: dict[str, Any] = {"package": {"name": name, "version": str(out.get("version", version))}}
    _merge(v1, _build(t, build))
    if out.get("script") not in (None, "", []):
        v1["build"]["script"] = _output_script(t, out["script"])
    if name in strings:
        v1["build"]["string"] = strings[name]
    for key, convert in (("requirements", _output_requirements), ("test", _test),
                         ("about", _about)):
        if out.get(key) not in (None, {}, []):
            _merge(v1, convert(t, out[key]))
    return v1


def _output_script(t: Translation, script: Any) -> Any:
    """A file of the recipe (conda-build's meaning of `script:`) or a list of commands."""
    if isinstance(script, list):
        return [str(line) for line in script]
    if _SCRIPT_FILE.match(str(script)):
        return {"file": str(script)}
    if "\n" in str(script):
        return str(script)
    raise t.unsupported("script", f" `{script}` (only a .sh or .bat file, or commands)")


def _output_requirements(t: Translation, requirements: Any) -> dict[str, Any]:
    """An output's requirements; a plain list is its run requirements, as in conda-build."""
    if isinstance(requirements, list):
        requirements = {"run": requirements}
    return _requirements(t, requirements)


def _strings_of(t: Translation, names: list[str], build_string: str | None,
                build_strings: Mapping[str, str] | None) -> dict[str, str]:
    """Output name → build string to force, from the plan's mapping or a lone build string."""
    if build_strings is not None:
        return {name: _string_of(t, name, build_strings) for name in names}
    if build_string is None:
        return {}
    if len(names) != 1:
        raise BuildError(f"{t.recipe_file}: one build string for {len(names)} outputs "
                         f"({', '.join(names)}); each output needs its own")
    return {names[0]: build_string}


def _string_of(t: Translation, name: str, build_strings: Mapping[str, str]) -> str:
    if name not in build_strings:
        raise BuildError(f"{t.recipe_file}: output `{name}` has no build string in the plan "
                         f"(planned: {', '.join(sorted(build_strings))})")
    return build_strings[name]


def _skipped(build: Mapping[str, Any]) -> bool:
    return str(build.get("skip", False)).lower() in ("true", "yes", "1")


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
    if _skipped(build):
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
# What a multi-output recipe may have beside `outputs`: shared by every output in v1 as well.
_SHARED = ("package", "source", "build", "about", "extra", "outputs")
