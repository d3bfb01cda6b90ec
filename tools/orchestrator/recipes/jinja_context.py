"""The Jinja side of rendering: one Environment per syntax, conda-build's context functions,
and Jinja errors turned into RecipeErrors with the template line.

`pin_subpackage` needs the version of an output that is only known once the YAML is read, so
the Jinja functions return a marker (`__pin_<hex>__`) that `resolve_pins` replaces afterwards.
"""

from __future__ import annotations

import json
import re
import traceback
from functools import cache, lru_cache, partial
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from orchestrator.errors import RecipeError
from orchestrator.recipes import loaders
from orchestrator.recipes.loaders import LoadError
from orchestrator.recipes.safe_os import os_for

_PIN = re.compile(r"__pin_([0-9a-f]+)__")
_PIN_EXPRESSION = re.compile(r"^x(\.x)*$")
_DEFAULT_COMPILERS = {
    "linux": {"c": "gcc", "cxx": "gxx", "fortran": "gfortran"},
    "osx": {"c": "clang", "cxx": "clangxx", "fortran": "gfortran"},
    "win": {"c": "vs2019", "cxx": "vs2019", "fortran": "flang"},
}
_DEFAULT_STDLIB = {"linux": "sysroot", "osx": "macosx_deployment_target", "win": "vs"}
_CDT = {"linux-64": ("cos6", "x86_64"), "linux-aarch64": ("cos7", "aarch64"),
        "linux-ppc64le": ("cos7", "ppc64le")}


# Jinja's own globals a recipe may use; lipsum, cycler, joiner and namespace are dropped
# (cycler.__init__.__globals__ was the way out before the sandbox).
_KEPT_GLOBALS = ("range", "dict")


def _sandboxed(**options: Any) -> jinja2.Environment:
    """Recipes are untrusted: no attribute starting with `_`, no mutation of values, no
    globals beyond the documented context (the sandbox refuses the rest with SecurityError)."""
    env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, **options)
    env.globals = {k: env.globals[k] for k in _KEPT_GLOBALS}
    return env


@cache
def meta_environment() -> jinja2.Environment:
    """conda-build's syntax: `{{ }}` and `{% %}`; undefined names are errors."""
    return _sandboxed(keep_trailing_newline=True)


@cache
def v1_environment() -> jinja2.Environment:
    """rattler-build's syntax: `${{ }}` only."""
    return _sandboxed(
        variable_start_string="${{", variable_end_string="}}", block_start_string="${%",
        block_end_string="%}", comment_start_string="${#", comment_end_string="#}",
    )


@lru_cache(maxsize=8192)
def v1_template(text: str) -> jinja2.Template:
    return v1_environment().from_string(text)


@lru_cache(maxsize=8192)
def v1_expression(text: str):
    return v1_environment().compile_expression(text, undefined_to_none=False)


def compiler(language: str, platform: str, variant: dict[str, str]) -> str:
    """`compiler('c')` → `gcc_linux-64` (plus ` <version>` when the variant pins one)."""
    system = platform.split("-")[0]
    name = variant.get(f"{language}_compiler") or _DEFAULT_COMPILERS.get(system, {}).get(
        language, language)
    return _with_version(f"{name}_{platform}", variant.get(f"{language}_compiler_version"))


def stdlib(language: str, platform: str, variant: dict[str, str]) -> str:
    """`stdlib('c')` → `sysroot_linux-64` (rattler-build)."""
    system = platform.split("-")[0]
    name = variant.get(f"{language}_stdlib") or _DEFAULT_STDLIB.get(system, language)
    return _with_version(f"{name}_{platform}", variant.get(f"{language}_stdlib_version"))


def _with_version(name: str, version: str | None) -> str:
    from orchestrator.recipes.variant_pins import ensure_valid_spec

    return ensure_valid_spec(f"{name} {version}") if version else name


def cdt(package: str, platform: str, variant: dict[str, str]) -> str:
    """`cdt('libx11-devel')` → `libx11-devel-cos6-x86_64` on linux-64."""
    name, arch = _CDT.get(platform, ("cos7", platform.split("-")[-1]))
    return f"{package}-{variant.get('cdt_name', name)}-{variant.get('cdt_arch', arch)}"


def pin_marker(kind: str, name: str, **options: Any) -> str:
    """A marker standing for a pin until the versions of the outputs are known."""
    document = json.dumps([kind, name, options], sort_keys=True, default=str)
    return f"__pin_{document.encode().hex()}__"


def resolve_pins(text: str, versions: dict[str, str]) -> str:
    """Every pin marker in `text` replaced by its spec (ValueError for an unknown subpackage)."""
    if "__pin_" not in text:
        return text
    return _PIN.sub(lambda m: _pin_spec(*json.loads(bytes.fromhex(m[1])), versions), text)


def _pin_spec(kind: str, name: str, options: dict[str, Any], versions: dict[str, str]) -> str:
    options = _v1_pin_expressions(options)
    lower, upper = options.get("lower_bound"), options.get("upper_bound")
    if kind == "compatible":  # the host version is only known to the builder
        return _bounded(name, lower, upper)
    if name not in versions:
        raise ValueError(f"pin_subpackage({name!r}): this recipe has no output named {name!r}")
    version = versions[name]
    if options.get("exact"):
        return f"{name} =={version}"
    if lower or upper:
        return _bounded(name, lower, upper)
    # conda-build's apply_pin_expressions: min_pin=None / max_pin=None drop that bound
    min_pin, max_pin = options.get("min_pin", "x.x.x.x.x.x"), options.get("max_pin", "x")
    bounds = [f">={_truncate(version, min_pin)}" if min_pin else "",
              f"<{upper_pin(version, max_pin)}" if max_pin else ""]
    spec = ",".join(b for b in bounds if b)
    return f"{name} {spec}" if spec else name


def _v1_pin_expressions(options: dict[str, Any]) -> dict[str, Any]:
    """rattler-build writes pin expressions as bounds (`upper_bound="x.x"`): use them as pins."""
    options = dict(options)
    for bound, pin in (("lower_bound", "min_pin"), ("upper_bound", "max_pin")):
        if isinstance(options.get(bound), str) and _PIN_EXPRESSION.match(options[bound]):
            options[pin], options[bound] = options.pop(bound), None
    return options


def _bounded(name: str, lower: str | None, upper: str | None) -> str:
    parts = [f">={lower}" if lower else "", f"<{upper}" if upper else ""]
    spec = ",".join(p for p in parts if p)
    return f"{name} {spec}" if spec else name


def _truncate(version: str, pin: str) -> str:
    return ".".join(version.split(".")[: len(pin.split("."))])


def upper_pin(version: str, max_pin: str) -> str:
    """conda-build's upper bound: `1.2.3` with `x.x` → `1.3.0a0`."""
    parts = version.split(".")[: len(max_pin.split("."))]
    digits = re.match(r"\d*", parts[-1])[0]
    parts[-1] = str(int(digits) + 1) if digits else parts[-1]
    return ".".join(parts) + ".0a0"


def meta_context(context, recipe_dir: str, used: set[str]) -> dict[str, Any]:
    """conda-build's Jinja globals for a recipe in `recipe_dir` rendered with `context`."""
    variant = dict(context.variant)
    platform = context.platform
    environ = context.environ()
    names: dict[str, Any] = {
        **context.selector_names(),
        "environ": environ,
        "os": os_for(platform, environ),
        # `%PYTHON%` cannot start a YAML scalar; on Windows the host env's python is on PATH
        "PYTHON": "python" if platform.startswith("win") else "$PYTHON",
        "CONDA_BUILD_STATE": "RENDER",
        "compiler": lambda language: compiler(language, platform, variant),
        "stdlib": lambda language: stdlib(language, platform, variant),
        "cdt": lambda package: cdt(package, platform, variant),
        "pin_subpackage": _pin_function("subpackage"),
        "pin_compatible": _pin_function("compatible"),
        "load_file_data": partial(loaders.load_file_data, context, recipe_dir, used),
        "load_file_regex": partial(loaders.load_file_regex, context, recipe_dir, used),
        "load_setup_py_data": partial(loaders.load_setup_py_data, context, recipe_dir, used),
        "load_str_data": loaders.load_str_data,
        **environ,
    }
    return names


def _pin_function(kind: str):
    def pin(name: str, min_pin: str = "x.x.x.x.x.x", max_pin: str = "x", exact: bool = False,
            lower_bound: str | None = None, upper_bound: str | None = None, **_ignored) -> str:
        return pin_marker(kind, name, min_pin=min_pin, max_pin=max_pin, exact=exact,
                          lower_bound=lower_bound, upper_bound=upper_bound)

    return pin


_SET_LINE = re.compile(r"\{%\s*set\s+([A-Za-z_]\w*)\s*=(.+?)%\}")
_EXPRESSION = re.compile(r"\{\{(.+?)\}\}")


@lru_cache(maxsize=8192)
def _meta_expression(text: str):
    return meta_environment().compile_expression(text, undefined_to_none=False)


_STRING_LITERAL = re.compile(r"""\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*""")
# Words Jinja's parser reads as constants or operators, never as names
_JINJA_WORDS = frozenset({"true", "false", "none", "True", "False", "None",
                          "and", "or", "not", "in", "is", "if", "else"})


def _value(expression: str, names: dict, file: str, line: int) -> Any:
    literal = _STRING_LITERAL.fullmatch(expression)
    if literal:  # `{% set version = "1.2.3" %}`: every recipe's literal differs, so the
        return literal[1] if literal[1] is not None else literal[2]  # compile cache misses
    name = expression.strip()
    if name in names and name.isidentifier() and name not in _JINJA_WORDS:
        return names[name]  # `{{ version }}`, what Jinja looks up, without making a context
    try:
        value = _meta_expression(expression)(**names)
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        return value
    except jinja2.TemplateSyntaxError as exc:
        raise RecipeError(file, f"Jinja syntax error: {exc.message}", line) from None
    except Exception as exc:  # noqa: BLE001 - any error raised by the expression
        raise jinja_error(exc, file, line) from None


def render_simple(text: str, names: dict, file: str) -> str | None:
    """The common template shape (whole-line `{% set x = ... %}` and one-line `{{ ... }}`)
    rendered with cached compiled expressions, as Jinja would; None when the template needs
    the full engine. Compiling a whole template costs ~2 ms; most recipes need only this."""
    if "{#" in text or "{%-" in text or "-%}" in text:
        return None
    names, out = dict(names), []
    for number, line in enumerate(text.split("\n"), 1):
        if "{%" in line:
            match = _SET_LINE.fullmatch(line)
            if match is None or "{{" in line:
                return None
            names[match[1]] = _value(match[2], names, file, number)
            line = ""
        elif "{{" in line:
            if line.count("{{") != line.count("}}"):
                return None
            line = _EXPRESSION.sub(lambda m, n=number: str(_value(m[1], names, file, n)), line)
        out.append(line)
    return "\n".join(out)


def render_template(env: jinja2.Environment, text: str, names: dict, file: str) -> str:
    """`text` rendered with `names`; Jinja problems become RecipeErrors with the line."""
    simple = render_simple(text, names, file) if env is meta_environment() else None
    if simple is not None:
        return simple
    try:
        return env.from_string(text).render(names)
    except jinja2.TemplateSyntaxError as exc:
        raise RecipeError(file, f"Jinja syntax error: {exc.message}", exc.lineno) from None
    except Exception as exc:  # noqa: BLE001 - any error raised while rendering the template
        raise jinja_error(exc, file) from None


def jinja_error(exc: Exception, file: str, line: int | None = None) -> RecipeError:
    """A RecipeError for an exception raised inside a template (undefined name, bad call)."""
    line = line or _template_line(exc)
    missing_key = re.match(r"'dict object' has no attribute '([^']+)'", str(exc))
    if isinstance(exc, KeyError) or missing_key:
        key = missing_key[1] if missing_key else exc.args[0]
        return RecipeError(file, f"no key {key!r} in a mapping of the template", line,
                           "environ holds only the documented names (PKG_NAME, PY_VER, ...); "
                           "use environ.get(name, default)")
    if isinstance(exc, jinja2.UndefinedError):
        name = re.match(r"'([^']+)' is undefined", str(exc))
        what = f"undefined Jinja variable {name[1]!r}" if name else f"Jinja: {_plain(exc)}"
        hint = (f"define it with {{% set {name[1]} = ... %}} or add it to [variant] in "
                "WORKSPACE.toml") if name else ""
        return RecipeError(file, what, line, hint)
    if isinstance(exc, LoadError):
        return RecipeError(file, str(exc), line, "paths are relative to the recipe directory")
    if isinstance(exc, SecurityError):
        return RecipeError(file, f"refused by the template sandbox: {_plain(exc)}", line,
                           "recipes may not reach attributes starting with _ or change values")
    return RecipeError(file, f"Jinja: {_plain(exc)}", line)


_INTERNAL_NAMES = {"OsPath": "os.path", "OsModule": "os", "StrictUndefined": "undefined"}


def _plain(exc: Exception) -> str:
    """An exception as a user reads it: its message, with no Python module paths or internal
    class names in it (`orchestrator.recipes.jinja_context.OsPath object` → `os.path`)."""
    text = re.sub(r"\b(?:[a-z_]\w*\.){2,}([A-Za-z_]\w*)", r"\1", str(exc)) or type(exc).__name__
    return re.sub(r"\b(\w+)\b", lambda m: _INTERNAL_NAMES.get(m[1], m[1]), text)


def _template_line(exc: Exception) -> int | None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else None
