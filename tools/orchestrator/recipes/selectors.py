"""conda-build line selectors (`- gcc  # [linux and x86_64]`): the namespace and their evaluation.

The namespace is built from the target platform and the variant the way conda-build's
`ns_cfg` does it; expressions are checked (only names, literals, `and`/`or`/`not` and
comparisons) before they are evaluated, so an unknown name is a RecipeError, not a NameError.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from orchestrator.errors import RecipeError

_SELECTOR = re.compile(r"^(?P<body>.*?)\s*#\s*\[(?P<expr>[^\[\]]+)\]\s*(?:#.*)?$")
_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Eq,
    ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Name, ast.Load,
    ast.Constant, ast.Tuple, ast.List,
)
_ARCHES = {
    "64": "x86_64", "32": "x86", "aarch64": "aarch64", "ppc64le": "ppc64le", "arm64": "arm64",
    "s390x": "s390x", "armv7l": "armv7l", "armv6l": "armv6l",
}
_PY_FLAGS = tuple(f"py{v}" for v in (26, 27, 33, 34, 35, 36, 37, 38, 39, 310, 311, 312, 313, 314))


def python_number(version: str) -> int:
    """"3.11" → 311 (conda-build's `py`)."""
    major, _, rest = version.partition(".")
    minor = rest.split(".")[0]
    return int(major + minor) if (major + minor).isdigit() else 0


def platform_names(platform: str) -> dict[str, object]:
    """The OS and architecture flags and platform strings for `platform` (e.g. linux-64)."""
    system, _, arch = platform.partition("-")
    machine = _ARCHES.get(arch, arch)
    names: dict[str, object] = {
        "linux": system == "linux", "osx": system == "osx", "win": system == "win",
        "unix": system in ("linux", "osx"), "noarch": platform == "noarch",
        "linux32": platform == "linux-32", "linux64": platform == "linux-64",
        "win32": platform == "win-32", "win64": platform == "win-64",
        "x86": machine in ("x86", "x86_64"), "x86_64": machine == "x86_64",
        "target_platform": platform, "build_platform": platform, "host_platform": platform,
        "subdir": platform, "nomkl": False, "debug": False,
    }
    names.update({a: machine == a for a in _ARCHES.values() if a not in ("x86_64", "x86")})
    return names


def selector_namespace(platform: str, variant: dict[str, str]) -> dict[str, object]:
    """Every name a selector may use: platform flags, py/np flags and the variant keys."""
    names = platform_names(platform)
    py = python_number(variant.get("python", ""))
    major = variant.get("python", "").split(".")[0]
    names.update({"py": py, "py3k": major == "3", "py2k": major == "2"})
    names.update({flag: py == int(flag[2:]) for flag in _PY_FLAGS})
    if "numpy" in variant:
        names["np"] = python_number(variant["numpy"])
    names.update(variant)
    return names


@lru_cache(maxsize=4096)
def _compile(expr: str):
    """(code, names) of a selector expression; ValueError when it is not a plain expression."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"invalid selector [{expr}]: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"unsupported selector [{expr}]: only names, and/or/not, comparisons")
    names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    return compile(tree, "<selector>", "eval"), names


def evaluate(expr: str, namespace: dict[str, object]) -> tuple[bool, frozenset[str]]:
    """The truth of `expr` and the names it read; ValueError naming an unknown name."""
    code, names = _compile(expr)
    unknown = sorted(names - namespace.keys())
    if unknown:
        raise LookupError(unknown[0])
    return bool(eval(code, {"__builtins__": {}}, namespace)), names  # noqa: S307 (checked AST)


def apply_selectors(
    text: str, namespace: dict[str, object], file: str
) -> tuple[str, frozenset[str]]:
    """`text` with false-selector lines blanked (line numbers kept) and the names selectors used."""
    if "[" not in text:
        return text, frozenset()
    lines = text.split("\n")
    used: set[str] = set()
    for number, line in enumerate(lines, 1):
        if "#" not in line or "[" not in line:
            continue
        match = _SELECTOR.match(line)
        if match is None:
            continue
        keep, names = _line_selector(match["expr"], namespace, file, number)
        used |= names
        lines[number - 1] = match["body"] if keep else ""
    return "\n".join(lines), frozenset(used)


def _line_selector(expr, namespace, file, number) -> tuple[bool, frozenset[str]]:
    try:
        return evaluate(expr, namespace)
    except LookupError as exc:
        raise RecipeError(
            file, f"unknown selector name {exc.args[0]!r} in [{expr.strip()}]", number,
            "use linux, osx, win, unix, x86_64, aarch64, py (e.g. py>=311) or a [variant] key",
        ) from None
    except ValueError as exc:
        raise RecipeError(file, str(exc), number, "e.g. [linux and not aarch64]") from None
