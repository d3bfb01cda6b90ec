"""Re-record the PyPI JSON responses (and a few sdists) the tests' local PyPI server serves.

Run from the repository root: `.venv/bin/python tests/data/pypi/record.py`. It asks real PyPI
for every name in NAMES and keeps only what `updates`, `update` and grayskull read: `info`
(the fields below), each release's version and whether it is yanked, and the sdist entries of
the newest release. Sdists of FILES are downloaded too; their URLs become `@BASE@/files/NAME`,
which the test server replaces with its own address.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

PYPI = "https://pypi.org"
HERE = Path(__file__).parent
NAMES = (
    "six", "certifi", "click", "flit-core", "idna", "iniconfig", "packaging", "pluggy",
    "pyparsing", "pytest", "setuptools", "setuptools-scm", "tomli", "typing-extensions",
    "cffi", "colorama", "exceptiongroup", "hatchling", "jinja2", "lxml", "markupsafe",
    "meson", "pathspec", "pybind11", "pycparser", "pygments", "pynacl", "pyzmq",
    "ruamel.yaml", "ruamel.yaml.clib", "scikit-build-core", "tqdm", "trove-classifiers",
    "maturin", "pillow",
)
FILES = {"iniconfig-2.3.1.tar.gz", "six-1.17.0.tar.gz", "tomli-2.5.0.tar.gz"}
INFO = ("name", "version", "summary", "license", "license_expression", "home_page",
        "project_urls", "requires_dist", "requires_python", "classifiers", "author")


def trimmed(name: str, document: dict) -> dict:
    json_url = f"{PYPI}/pypi/{name}/json"
    info = {key: document["info"].get(key) for key in INFO}
    latest = document["info"]["version"]
    releases = {v: [_brief(f)] if f else [] for v, files in document["releases"].items()
                for f in [files[0] if files else None]}
    sdists = [_entry(f, json_url) for f in document["urls"] if f["packagetype"] == "sdist"]
    releases[latest] = sdists
    return {"info": info, "releases": releases, "urls": sdists}


def _brief(file: dict) -> dict:
    return {"packagetype": file["packagetype"], "yanked": file["yanked"]}


def _entry(file: dict, json_url: str) -> dict:
    url = urljoin(json_url, file["url"])
    if file["filename"] in FILES:
        _download(url, HERE / "files" / file["filename"])
        url = f"@BASE@/files/{file['filename']}"
    keep = ("filename", "packagetype", "requires_python", "size", "yanked")
    sha256 = file["digests"]["sha256"]
    return {**{k: file[k] for k in keep}, "url": url, "digests": {"sha256": sha256}}


def _download(url: str, path: Path) -> None:
    path.parent.mkdir(exist_ok=True)
    with urllib.request.urlopen(url, timeout=60) as response:
        path.write_bytes(response.read())


def main() -> int:
    (HERE / "json").mkdir(exist_ok=True)
    for name in NAMES:
        with urllib.request.urlopen(f"{PYPI}/pypi/{name}/json", timeout=60) as response:
            document = json.load(response)
        text = json.dumps(trimmed(name, document), sort_keys=True) + "\n"
        (HERE / "json" / f"{name}.json").write_text(text, encoding="utf-8")
        print(name, document["info"]["version"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
