"""Variant values written into requirements, as conda-build does when it renders: a build or
host requirement that is only the name of a variant key (`- zlib`, `- python`) gets the
variant's value (`zlib 1.*`, `python 3.12.* *_cpython`), a run requirement too when the name
is also a build/host requirement, and `name x.x` takes the key's value (`insert_variant_versions`
and `ensure_valid_spec` of conda_build/utils.py)."""

from __future__ import annotations

import re
from functools import lru_cache

_NEEDING_STAR = re.compile(r"([\w\d\.\-\_]+)\s+((?<![><=])[\w\d\.\-\_]+?(?!\*))(\s+[\w\d\.\_]+)?$")
_XX = re.compile(r"([0-9a-zA-Z\.\-\_]+)\s+x\.x")


def ensure_valid_spec(spec: str) -> str:
    """`gcc_linux-64 15` → `gcc_linux-64 15.*` (a bare version means that version's series);
    exact pins with a build string and `python x.x` are left as they are."""
    match = _NEEDING_STAR.match(spec)
    if not match or match[3]:
        return spec
    if match[1] in ("python", "numpy") and match[2] == "x.x":
        return _NEEDING_STAR.sub(r"\1 \2", spec)
    return spec if "*" in spec else _NEEDING_STAR.sub(r"\1 \2.*", spec)


@lru_cache(maxsize=4096)
def _key_pattern(key: str) -> re.Pattern:
    return re.compile(r"^({})(?:\s*$)".format(key.replace("_", "[-_]")))


def insert_variant_versions(requirements: dict, variant: dict, section: str) -> None:
    """`requirements[section]` with the variant's versions inserted (in place, as conda-build)."""
    reqs = requirements.get(section)
    if not isinstance(reqs, list):
        return
    build_deps = [r for s in ("build", "host") for r in _list(requirements.get(s))]
    written = " ".join(map(str, reqs)).replace("_", "-")
    for key, value in variant.items():
        if key.replace("_", "-") not in written:
            continue  # cheap test first: most keys name no requirement
        pattern = _key_pattern(key)
        for index, req in enumerate(reqs):
            match = pattern.match(req) if isinstance(req, str) else None
            if match and (section in ("build", "host") or match[1] in build_deps):
                reqs[index] = ensure_valid_spec(f"{match[1]} {value}")
    for index, req in enumerate(reqs if "x.x" in written else ()):
        match = _XX.match(req) if isinstance(req, str) else None
        if match and match[1] in variant:
            reqs[index] = ensure_valid_spec(f"{match[1]} {variant[match[1]]}")


def _list(value) -> list:
    return value if isinstance(value, list) else [value] if value else []


def pin_tree(tree: dict, variant: dict) -> None:
    """Variant versions inserted into the top-level build and host requirements (conda-build's
    render leaves those of `outputs:` as written: it pins them when it builds them)."""
    requirements = tree.get("requirements")
    if isinstance(requirements, dict):
        for section in ("build", "host"):
            insert_variant_versions(requirements, variant, section)
