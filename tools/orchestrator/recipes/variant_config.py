"""Variant configuration as conda-build reads it: files merged in order (like `-m`), then the
inline `[variant]` values, then a recipe's own `conda_build_config.yaml`; `zip_keys` honoured;
a recipe multiplied only by the keys it uses (conda-build's text rules, `variants.py`).

Types follow conda-build: values read from files are text (it reads them with YAML's
BaseLoader), values written in WORKSPACE.toml keep their TOML type; selectors and templates
see them converted the way `get_selectors` does (`selectors.namespace_value`).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from orchestrator.errors import RecipeError
from orchestrator.recipes.selectors import apply_selectors, selector_namespace
from orchestrator.recipes.yaml_load import bounds_problem

VariantValue = str | bool | int | float
# Keys of a variant file that are settings of the configuration, not variant dimensions.
_SETTINGS = frozenset({"zip_keys", "extend_keys", "pin_run_as_build", "ignore_version",
                       "ignore_build_only_deps", "use_keys", "ignore_keys"})
RECIPE_CONFIG = "conda_build_config.yaml"


@dataclass(frozen=True)
class VariantSpace:
    """Every key's candidate values in order, the zipped key groups, the files read."""

    values: tuple[tuple[str, tuple[VariantValue, ...]], ...] = ()
    zip_keys: tuple[tuple[str, ...], ...] = ()
    files: tuple[str, ...] = ()

    def get(self, key: str) -> tuple[VariantValue, ...]:
        return dict(self.values).get(key, ())

    def merged(self, values: dict, zip_keys=(), file: str | None = None) -> VariantSpace:
        """This space with `values` overriding key by key (zip_keys accumulate, as conda-build
        extends them across files)."""
        own = dict(self.values) | {k: _as_tuple(v) for k, v in values.items()}
        zipped = tuple(dict.fromkeys((*self.zip_keys, *(tuple(g) for g in zip_keys))))
        return VariantSpace(tuple(sorted(own.items())), zipped,
                            (*self.files, file) if file else self.files)

    def _with_files(self, files: tuple[str, ...]) -> VariantSpace:
        return VariantSpace(self.values, self.zip_keys, files)

    def first(self) -> dict[str, VariantValue]:
        """The first value of every key: what a key the recipe does not use is rendered with."""
        return {k: v[0] for k, v in self.values if v}


def _as_tuple(value) -> tuple[VariantValue, ...]:
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


def parse_variant_file(text: str, file: str, platform: str, env: dict) -> tuple[dict, list]:
    """(values, zip_keys) of a conda_build_config.yaml, its selectors applied for `platform`."""
    names = selector_namespace(platform, {})
    names |= {"os": env.get("os"), "environ": env.get("environ", {})}
    selected, _ = apply_selectors(text, names, file)
    try:
        document = yaml.load(selected, Loader=yaml.BaseLoader) or {}  # noqa: S506 (safe)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RecipeError(file, f"invalid YAML: {exc}", mark.line + 1 if mark else None) from None
    problem = bounds_problem(document)
    if problem or not isinstance(document, dict):
        raise RecipeError(file, problem or "a variant file must be a YAML mapping")
    zip_keys = document.get("zip_keys") or []
    if zip_keys and all(isinstance(k, str) for k in zip_keys):
        zip_keys = [zip_keys]
    values = {k: v for k, v in document.items()
              if k not in _SETTINGS and v not in (None, [], "") and not isinstance(v, dict)}
    return values, [g for g in zip_keys if isinstance(g, list) and g]


def read_variant_files(root: Path, paths: tuple[str, ...], platform: str, env: dict,
                       read) -> VariantSpace:
    """The files of `[workspace] variant_config`, merged in order; `read(path)` → text."""
    space = VariantSpace()
    for path in paths:
        values, zip_keys = parse_variant_file(read(path), path, platform, env)
        space = space.merged(values, zip_keys, path)
    return space


# ------------------------------------------------------------------ used keys, combinations


def used_keys(space: VariantSpace, text: str, scripts: tuple[str, ...] = (),
              noarch: bool = False) -> frozenset[str]:
    """The keys of `space` a meta.yaml `text` (and its build scripts' texts) uses, by the
    rules of conda-build's `find_used_variables_in_text`: Jinja `{{ key }}`, `pin_*('key')`,
    selectors, `{% if/for/set %}` reading it, a requirement line naming the key without a
    version, and `compiler('c')` / `stdlib('c')` / `cdt(...)` for the `c_compiler*` /
    `c_stdlib*` / `cdt_*` keys; `$key` / `${key}` in build.sh."""
    dashless = text.replace("-", "_")
    used = {key for key, _ in space.values if _uses(text, dashless, key)}
    used |= {key for key, _ in space.values for script in scripts if _in_script(script, key)}
    if "target_platform" in dict(space.values) and not noarch:
        used.add("target_platform")  # conda-build: it decides behaviour of any compiled recipe
    if "channel_targets" in dict(space.values):
        used.add("channel_targets")  # conda-build always counts it
    return frozenset(used)


def _uses(text: str, dashless: str, key: str) -> bool:
    language = re.match(r"(.*?)_(compiler|stdlib)(_version)?$", key)
    probes = [key, language[1]] if language else ["cdt("] if key.startswith("cdt_") else [key]
    if not any(p in text or p in dashless for p in probes):
        return False
    return any(needed in text and pattern.search(text) for needed, pattern in _patterns(key))


_PATTERNS: dict[str, tuple[tuple[str, re.Pattern], ...]] = {}


def _patterns(key: str) -> tuple[tuple[str, re.Pattern], ...]:
    """conda-build's one alternation, as (text it needs, pattern) per alternative: searching
    each alone, only in a text holding what it needs, and the requirement line (how most
    recipes use a key) first, gives the same answer several times faster."""
    if key not in _PATTERNS:
        _PATTERNS[key] = tuple((needed, re.compile(pattern, re.M))
                               for needed, pattern in _alternatives(key))
    return _PATTERNS[key]


def _alternatives(key: str) -> list[tuple[str, str]]:
    k = re.escape(key)
    req = "[-_]".join(map(re.escape, key.split("_")))
    out = [
        ("", rf"^\s+\-\s+{req}\s*(?:\s[\[#]|$)"),
        ("{{", rf"\{{\{{\s*(?:pin_[a-z]+\(\s*?['\"])?{k}(?:[^_0-9a-zA-Z].*?)?\}}\}}"),
        ("[", rf"^[^#\[\n]*?\#?\s\[[^\]\n]*?(?<![_\w\d]){k}[=\s<>!\]]"),
        ("{%", rf"(?:^|[^\{{])\{{%-?\s*(?:el)?if\s*.*{k}\s*(?:[^%]*?)?-?%\}}"),
        ("{%", rf"(?:^|[^\{{])\{{%-?\s*for\s*.*\s*in\s*{k}(?![a-zA-Z_0-9])(?:[^%]*?)?-?%\}}"),
        ("{%", rf"(?:^|[^\{{])\{{%-?\s*set\s*.*\s*=\s*.*(?<![a-zA-Z_0-9]){k}(?![a-zA-Z_0-9])"
               rf"(?:[^%]*?)?-?%\}}"),
    ]
    language = re.match(r"(.*?)_(compiler|stdlib)(_version)?$", key)
    if language:
        name = re.escape(language[1])
        out.append(("{{", rf"\{{\{{\s*{language[2]}\([\'\"]{name}[\"\'][^\{{]*?\}}"))
    if key.startswith("cdt_"):
        out.append(("{{", r"\{\{\s*cdt\("))
    return out


def _in_script(script: str, key: str) -> bool:
    return key in script and re.search(
        rf"(^[^$]*?\$\{{?\s*{re.escape(key)}\s*[\s|\}}])", script, re.M) is not None


@lru_cache(maxsize=4096)
def combinations(space: VariantSpace, used: frozenset[str],
                 noarch: bool = False) -> tuple[tuple, ...]:
    """The variants of a recipe using `used`: the product over independent keys and zip
    groups (zipped keys move together), projected on `used`, without repeats, in the order
    conda-build lists them. Each variant is a sorted tuple of (key, value). A `noarch`
    recipe gets only the newest python (and what is zipped with it)."""
    values = dict(space.values)
    if noarch and values.get("python"):
        values = _newest_python(values, space.zip_keys)
    axes: list[list[tuple]] = []
    grouped: set[str] = set()
    for group in space.zip_keys:
        keys = [k for k in group if k in values]
        grouped |= set(keys)
        chosen = [k for k in keys if k in used]
        if chosen:
            length = min(len(values[k]) for k in keys)
            axes.append([tuple((k, values[k][i]) for k in chosen) for i in range(length)])
    for key in sorted(used - grouped):
        if key in values:
            axes.append([((key, v),) for v in values[key]])
    combos = (tuple(sorted(itertools.chain(*parts))) for parts in itertools.product(*axes))
    return tuple(dict.fromkeys(combos))


def _newest_python(values: dict[str, tuple], zip_keys) -> dict[str, tuple]:
    """conda-build's `noarch_python_reduction` (render.distribute_variants): a noarch recipe
    is built once, with the newest python by conda's version order; the keys zipped with
    python keep the values at its positions. (conda-build compares with `in` on the text,
    so "3.1" would also keep "3.12"; an exact match here.)"""
    from rattler import Version

    def order(value) -> Version:
        try:
            return Version(str(value).split(" ")[0].removesuffix(".*"))
        except Exception:  # noqa: BLE001 - py-rattler's own error type: such a value is oldest
            return Version("0")

    pythons = values["python"]
    newest = max(pythons, key=order)
    keep = [i for i, v in enumerate(pythons) if v == newest]
    group = next((g for g in zip_keys if "python" in g), ("python",))
    return {k: tuple(v[i] for i in keep if i < len(v)) if k in group else v
            for k, v in values.items()}


# ------------------------------------------------------------------ the workspace's and a recipe's


def workspace_space(workspace) -> VariantSpace:
    """`[workspace] variant_config` files merged in order, then the inline `[variant]` values."""
    config = workspace.config
    base = VariantSpace().merged({"target_platform": workspace.platform})  # as conda-build's
    space = _files_space(workspace.root, config.workspace.variant_config, workspace.platform)
    return base.merged(dict(space.values), space.zip_keys).merged(
        dict(config.variant))._with_files(space.files)


def _files_space(root: Path, paths: tuple[str, ...], platform: str) -> VariantSpace:
    from orchestrator.recipes.paths import OutsideWorkspace, read_inside

    def read(path: str) -> str:
        try:
            return read_inside(root, path)
        except OutsideWorkspace as exc:
            raise RecipeError("WORKSPACE.toml", f"variant_config: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RecipeError("WORKSPACE.toml", f"variant_config: cannot read {path}: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None

    return read_variant_files(root, paths, platform, _selector_env(platform), read)


def _selector_env(platform: str) -> dict:
    from orchestrator.recipes.safe_os import os_for

    return {"os": os_for(platform, {}), "environ": {}}


def _recipe_file(item, name: str) -> str | None:
    path = f"{item.path.rsplit('/', 1)[0]}/{name}"
    return path if path in item.files else None


def recipe_inputs(item, identify) -> tuple:
    """Ids of what besides its text decides a recipe's used keys: its own variant file and
    build script (conda-build reads `$key` in build.sh)."""
    if item.format != "meta.yaml" or len(item.files) == 1:  # most recipes: meta.yaml alone
        return ()
    return tuple(identify(p) if p else None
                 for p in (_recipe_file(item, RECIPE_CONFIG), _recipe_file(item, "build.sh")))


def recipe_space(root: Path, item, space: VariantSpace, platform: str) -> VariantSpace:
    """`space` with the recipe's own conda_build_config.yaml over it (meta.yaml recipes)."""
    from orchestrator.recipes.paths import OutsideWorkspace, read_inside

    if item.format != "meta.yaml" or len(item.files) == 1:
        return space
    path = _recipe_file(item, RECIPE_CONFIG)
    if path is None:
        return space
    try:
        text = read_inside(root, path)
    except OutsideWorkspace as exc:
        raise RecipeError(path, str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(path, f"cannot read: {exc}") from None
    values, zip_keys = parse_variant_file(text, path, platform, _selector_env(platform))
    return space.merged(values, zip_keys, path)


def recipe_scripts(root: Path, item) -> tuple[str, ...]:
    from orchestrator.recipes.paths import OutsideWorkspace, read_inside

    path = _recipe_file(item, "build.sh") if item.format == "meta.yaml" else None
    try:
        return (read_inside(root, path),) if path else ()
    except (OutsideWorkspace, OSError, UnicodeDecodeError):
        return ()  # a build script that cannot be read is the build's problem, not render's
