"""pin_subpackage / pin_compatible of a rendered v1 recipe → match spec text.

rattler-build's Stage1 keeps a pin as data (`{"pin_subpackage": {"name", "lower_bound",
"upper_bound", "exact", "build"}}`) and applies it only when it builds. The graph needs the spec
at plan time, so it is applied here with rattler-build's rules (`rattler_build_types::pin`):
an absent bound is no bound, `x.x` keeps that many segments of the version (lower) or bumps the
last kept one and adds `a0` (upper). An exact pin gives `==version`: the build string is
orchestrate's own (`h<hash>_<n>`), known only once the plan has hashed the recipe.
"""

from __future__ import annotations

from typing import Any


class PinProblem(ValueError):
    """A pin that cannot be applied (unknown output, bad expression)."""


def requirement_text(item: Any, versions: dict[str, str]) -> Any:
    """A Stage1 requirement (text, or a pin as data) as text; other shapes are left as they are."""
    if isinstance(item, dict) and len(item) == 1:
        (kind, pin), = item.items()
        if kind == "pin_subpackage" and isinstance(pin, dict):
            return subpackage_spec(pin, versions)
        if kind == "pin_compatible" and isinstance(pin, dict):
            return compatible_spec(pin)
    return item


def subpackage_spec(pin: dict, versions: dict[str, str]) -> str:
    name = str(pin.get("name"))
    if name not in versions:
        raise PinProblem(f"pin_subpackage({name!r}): this recipe has no output named {name!r}")
    if pin.get("exact"):
        return f"{name} =={versions[name]}"
    return _bounded(name, versions[name], pin)


def compatible_spec(pin: dict) -> str:
    """The version pinned against is the host environment's, which only the build resolves:
    explicit version bounds are kept, expressions are left to the build."""
    bounds = [f"{op}{pin[key]}" for op, key in ((">=", "lower_bound"), ("<", "upper_bound"))
              if pin.get(key) and not _is_expression(str(pin[key]))]
    return " ".join([str(pin.get("name")), ",".join(bounds)]).strip()


def _bounded(name: str, version: str, pin: dict) -> str:
    parts = []
    for op, key, applied in ((">=", "lower_bound", _kept), ("<", "upper_bound", _bumped)):
        bound = str(pin.get(key) or "")
        if bound:
            parts.append(op + (applied(version, bound) if _is_expression(bound) else bound))
    spec = ",".join(parts)
    build = f" {pin['build']}" if pin.get("build") else ""
    return f"{name} {spec}{build}".strip()


def _is_expression(bound: str) -> bool:
    return bool(bound) and set(bound) <= {"x", "."}


def _digits(expression: str) -> int:
    digits = expression.count("x")
    if not digits:
        raise PinProblem(f"pin expression {expression!r} needs at least one x")
    return digits


def _kept(version: str, expression: str) -> str:
    from rattler import Version

    parsed = Version(version)
    return str(parsed.with_segments(0, min(_digits(expression), parsed.segment_count)))


def _bumped(version: str, expression: str) -> str:
    from rattler import Version

    parsed = Version(version)
    digits = min(_digits(expression), parsed.segment_count)
    kept = parsed.with_segments(0, digits)
    return str(kept.bump_segment(digits - 1).with_alpha().remove_local())
