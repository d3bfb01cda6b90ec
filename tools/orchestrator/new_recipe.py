"""A new recipe for a PyPI package: grayskull writes it, then it is normalised to the
workspace's conventions.

grayskull (the field's generator, run as a subprocess through proc.py) gets the metadata,
the sdist's sha256, license and requirements right, but not this organization's habits; what
`normalised` fixes (each a pure text edit of grayskull's meta.yaml):
- the directory: `recipes/python-<name>`, not `<name>`;
- the build script: pip with `--no-deps --no-build-isolation` (grayskull's lets pip fetch
  dependencies from PyPI during the build, behind the channel's back);
- `host: python <spec>` copied from `requires_python` (`python !=3.0,!=3.1,!=3.2` for six):
  the host python is the variant's, so only `python` stays; `run:` keeps a `>=` lower bound;
- requirement names mapped to the packages the workspace builds (PyPI `typing_extensions` is
  the organization's `typing-extensions`);
- a `setuptools` host requirement when pip builds without isolation and no backend is listed;
- the placeholder `extra: recipe-maintainers: AddYourGitHubIdHere` removed;
- `about: home` and `license` filled from PyPI when grayskull left them out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PIP_SCRIPT = "{{ PYTHON }} -m pip install . -vv --no-deps --no-build-isolation"
BACKENDS = ("setuptools", "flit-core", "hatchling", "poetry-core", "pdm-backend", "maturin",
            "scikit-build-core", "meson-python", "flit_core")


def normalized_name(name: str) -> str:
    """PEP 503 normalisation, which is also how conda-forge names PyPI packages."""
    return re.sub(r"[-_.]+", "-", name).lower()


def directory_for(name: str) -> str:
    return f"recipes/python-{normalized_name(name)}"


@dataclass(frozen=True)
class Conventions:
    producers: frozenset[str]  # package names the workspace builds
    home: str = ""  # from PyPI, used when grayskull wrote none
    license: str = ""


_REQ = re.compile(r"^(\s+- )([A-Za-z0-9][A-Za-z0-9_.-]*)(.*)$")


def map_name(name: str, producers: frozenset[str]) -> str:
    if name in producers:
        return name
    wanted = normalized_name(name)
    return next((p for p in sorted(producers) if normalized_name(p) == wanted), wanted)


def _requirement_line(line: str, section: str, producers: frozenset[str]) -> str:
    match = _REQ.match(line)
    if not match or "{{" in line:
        return line
    head, name, spec = match.groups()
    name = map_name(name, producers)
    if name == "python" and section == "host":
        spec = ""
    elif name == "python" and section == "run":
        lower = re.search(r">=\s*[0-9.]+", spec)
        spec = f" {lower.group(0).replace(' ', '')}" if lower else ""
    return f"{head}{name}{spec}"


def _sections(lines: list[str]):
    """(top-level key, second-level key) of each line."""
    top = sub = ""
    for line in lines:
        if re.match(r"^[A-Za-z_]+:", line):
            top, sub = line.split(":", 1)[0], ""
        elif re.match(r"^  [A-Za-z_]+:", line):
            sub = line.strip().split(":", 1)[0]
        yield top, sub, line


def normalised(text: str, conventions: Conventions) -> str:
    lines = []
    for top, sub, line in _sections(text.splitlines()):
        if top == "extra":
            continue
        if top == "build" and line.strip().startswith("script:"):
            line = f"  script: {PIP_SCRIPT}"
        if top in ("requirements", "test"):
            line = _requirement_line(line, sub if top == "requirements" else "test",
                                     conventions.producers)
        lines.append(line)
    lines = _with_backend(lines)
    text = "\n".join(lines).rstrip("\n") + "\n"
    return _about_filled(text, conventions)


def _with_backend(lines: list[str]) -> list[str]:
    host = [i for i, (top, sub, _) in enumerate(_sections(lines))
            if top == "requirements" and sub == "host" and _REQ.match(lines[i])]
    names = {_REQ.match(lines[i]).group(2) for i in host}
    if not host or names & set(BACKENDS):
        return lines
    indent = _REQ.match(lines[host[-1]]).group(1)
    return [*lines[:host[-1] + 1], f"{indent}setuptools", *lines[host[-1] + 1:]]


def _about_filled(text: str, conventions: Conventions) -> str:
    additions = []
    if not re.search(r"(?m)^  home:", text) and conventions.home:
        additions.append(f"  home: {conventions.home}")
    if not re.search(r"(?m)^  license:", text) and conventions.license:
        additions.append(f"  license: {conventions.license}")
    if not additions:
        return text
    if not re.search(r"(?m)^about:", text):
        text += "\nabout:\n"
    return re.sub(r"(?m)^about:\n", "about:\n" + "\n".join(additions) + "\n", text, count=1)


def grayskull_argv(name: str, version: str | None, output: Path, pypi_url: str) -> list[str]:
    import sys

    spec = f"{name}=={version}" if version else name
    argv = [str(Path(sys.executable).with_name("grayskull")), "pypi", spec, "-o", str(output),
            "--no-use-v1-format"]
    if pypi_url != "https://pypi.org":
        argv += ["--pypi-metadata-url", f"{pypi_url}/pypi", "--pypi-mirror-url", pypi_url]
    return argv


def generated_meta_yaml(output: Path) -> Path | None:
    return next(iter(sorted(output.glob("*/meta.yaml"))), None)
