"""Version ordering for upstream releases (PEP 440 through `packaging`, as PyPI orders them)."""

from __future__ import annotations

from collections.abc import Iterable

from packaging.version import InvalidVersion, Version


def parsed(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def newest(versions: Iterable[str], prereleases: bool = False) -> str | None:
    """The highest version; pre- and dev releases only when asked; unparsable ones ignored."""
    candidates = [(v, t) for t in versions if (v := parsed(t)) is not None]
    if not prereleases:
        candidates = [(v, t) for v, t in candidates if not v.is_prerelease]
    return max(candidates)[1] if candidates else None


def is_newer(candidate: str, current: str) -> bool:
    new, old = parsed(candidate), parsed(current)
    if new is None or old is None:
        return candidate != current
    return new > old
