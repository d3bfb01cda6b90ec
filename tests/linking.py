"""Helpers (no tests) of the linking tests: small C libraries as v1 recipes."""

from __future__ import annotations


def library(name: str, *, host: tuple[str, ...] = (), run: tuple[str, ...] = (),
            links: str = "") -> str:
    """A v1 recipe compiling lib<name>.so from one C file with the system's gcc."""
    requirements = "".join([
        "requirements:\n",
        "  host:\n" + "".join(f"    - {h}\n" for h in host) if host else "",
        "  run:\n" + "".join(f"    - {r}\n" for r in run) if run else "",
    ]) if host or run else ""
    flags = f"-L$PREFIX/lib -l{links}" if links else ""
    body = f"int {links}_value(void); int {name}_value(void) {{ return {links}_value(); }}" if (
        links) else f"int {name}_value(void) {{ return 1; }}"
    return (
        f"package:\n  name: {name}\n  version: 1.0.0\n"
        "build:\n  number: 0\n  script:\n"
        "    - mkdir -p $PREFIX/lib\n"
        f"    - printf '{body}\\n' > {name}.c\n"
        f"    - gcc -shared -fPIC -o $PREFIX/lib/lib{name}.so {name}.c {flags}\n"
        + requirements
    )
