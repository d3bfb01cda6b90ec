"""conda-build line selectors (`- gcc  # [linux and x86_64]`): the namespace and their evaluation.

The namespace is built from the target platform and the variant the way conda-build's
`ns_cfg` does it; expressions are checked (only names, literals, `and`/`or`/`not` and
comparisons) before they are evaluated, so an unknown name is a RecipeError, not a NameError.
"""

from __future__ import annotations

import ast
import operator
import re
from functools import lru_cache

from orchestrator.errors import RecipeError

_SELECTOR = re.compile(r"^(?P<body>.*?)\s*#\s*\[(?P<expr>[^\[\]]+)\]\s*(?:#.*)?$")
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_FUNCTIONS = {"int": int, "float": float, "str": str, "bool": bool, "len": len}
_STR_METHODS = frozenset({"startswith", "endswith", "lower", "upper", "strip", "split"})
VARIANT_FILES_KEY = " variant files"  # not an identifier: no selector can name it
_HINT = "use linux, osx, win, unix, x86_64, aarch64, py (e.g. py>=311) or a [variant] key"
_ARCHES = {
    "64": "x86_64", "32": "x86", "aarch64": "aarch64", "ppc64le": "ppc64le", "arm64": "arm64",
    "s390x": "s390x", "armv7l": "armv7l", "armv6l": "armv6l", "ppc64": "ppc64",
    "riscv64": "riscv64", "wasm32": "wasm32", "z": "z",
}
_SYSTEMS = ("linux", "osx", "win", "freebsd", "emscripten", "wasi", "zos")  # conda's subdirs'

_PY_FLAGS = tuple(f"py{v}" for v in (26, 27, 33, 34, 35, 36, 37, 38, 39, 310, 311, 312, 313, 314))


def namespace_value(value: object) -> object:
    """A variant value as selectors and templates see it (conda-build's `get_selectors`): an int
    when it reads as one, a bool for true/false in any case, else the value itself."""
    if isinstance(value, bool):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value


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
        "subdir": platform, "nomkl": False, "debug": False, "arm": platform.startswith(
            "linux-arm"),
    }
    names.update({name: system == name for name in _SYSTEMS if name not in names})
    names.update({a: machine == a for a in _ARCHES.values() if a not in ("x86_64", "x86")})
    return names


def selector_namespace(platform: str, variant: dict) -> dict[str, object]:
    """Every name a selector may use: platform flags, py/np flags and the variant keys, the
    latter converted as conda-build's `get_selectors` does (int when it reads as one, true /
    false as booleans) and never replacing a platform name."""
    names = platform_names(platform)
    python = str(variant.get("python", ""))
    py = python_number(python.split(" ")[0])
    major = python.split(".")[0]
    names.update({"py": py, "py3k": major == "3", "py2k": major == "2"})
    names.update({flag: py == int(flag[2:]) for flag in _PY_FLAGS})
    if "numpy" in variant:
        names["np"] = python_number(str(variant["numpy"]))
    names.update({k: namespace_value(v) for k, v in variant.items() if k not in names})
    return names


@lru_cache(maxsize=4096)
def _compile(expr: str) -> tuple[ast.expr, frozenset[str]]:
    """(tree, names) of a selector expression; ValueError when it is not a plain expression."""
    try:
        tree = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"invalid selector [{expr}]: {exc.msg}") from None
    names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    return tree, names


def evaluate(expr: str, namespace: dict[str, object]) -> tuple[bool, frozenset[str]]:
    """The truth of `expr` and the names it read; LookupError naming an unknown name that the
    evaluation reaches (`win and vc < 14` on linux never reads vc, as in conda-build)."""
    tree, names = _compile(expr)
    try:
        return bool(_Evaluator(namespace, expr).value(tree)), names
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith("unsupported selector"):
            raise
        raise ValueError(f"selector [{expr.strip()}] cannot be evaluated: {exc}") from None


class _Evaluator:
    """Evaluates the whitelisted subset of Python that selectors are written in, by walking the
    AST: names, literals, and/or/not, comparisons, int()/float()/str() and a few str methods.
    Nothing is compiled or `eval`ed, so no attribute or builtin of the host is reachable."""

    def __init__(self, namespace: dict[str, object], expr: str):
        self.namespace, self.expr = namespace, expr

    def value(self, node: ast.expr) -> object:
        method = getattr(self, f"_{type(node).__name__}", None)
        return self.refuse() if method is None else method(node)

    def refuse(self) -> object:
        raise ValueError(f"unsupported selector [{self.expr.strip()}]: only names, "
                         "and/or/not, comparisons, int()/float()/str()")

    def _BoolOp(self, node: ast.BoolOp) -> object:  # noqa: N802 (named after the AST node)
        result: object = isinstance(node.op, ast.And)
        for operand in node.values:
            result = self.value(operand)
            if bool(result) != isinstance(node.op, ast.And):
                return result
        return result

    def _UnaryOp(self, node: ast.UnaryOp) -> object:  # noqa: N802
        if isinstance(node.op, ast.Not):
            return not self.value(node.operand)
        if isinstance(node.op, ast.USub):
            return -self.value(node.operand)
        return self.refuse()  # unsupported

    def _Compare(self, node: ast.Compare) -> bool:  # noqa: N802
        left = self.value(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.value(comparator)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _Name(self, node: ast.Name) -> object:  # noqa: N802
        if node.id not in self.namespace:
            raise LookupError(node.id)
        return self.namespace[node.id]

    def _Constant(self, node: ast.Constant) -> object:  # noqa: N802
        return node.value

    def _Tuple(self, node: ast.Tuple) -> tuple:  # noqa: N802
        return tuple(self.value(e) for e in node.elts)

    _List = _Tuple

    def _Attribute(self, node: ast.Attribute) -> object:  # noqa: N802
        subject = self.value(node.value)
        if node.attr in getattr(type(subject), "selector_attributes", ()):
            return getattr(subject, node.attr)
        return self.refuse()

    def _Call(self, node: ast.Call) -> object:  # noqa: N802
        if node.keywords:
            return self.refuse()
        args = [self.value(a) for a in node.args]
        func = node.func
        if isinstance(func, ast.Name) and func.id in _FUNCTIONS:
            return _FUNCTIONS[func.id](*args)
        if isinstance(func, ast.Attribute) and func.attr in _STR_METHODS | {"get"}:
            subject = self.value(func.value)
            if isinstance(subject, str) and func.attr != "get":
                return getattr(str, func.attr)(subject, *args)
            if isinstance(subject, dict) and func.attr == "get":
                return subject.get(*args)
        return self.refuse()


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
        read = namespace.get(VARIANT_FILES_KEY) or ()
        files = f"; variant files read: {', '.join(read)}" if read else "; no variant file read"
        raise RecipeError(
            file, f"unknown selector name {exc.args[0]!r} in [{expr.strip()}]", number,
            _HINT + files,
        ) from None
    except ValueError as exc:
        raise RecipeError(file, str(exc), number, "e.g. [linux and not aarch64]") from None
