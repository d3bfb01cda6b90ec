"""Measure cold and warm `render_workspace` on N generated recipes (default 5,000).

Not a test: prints seconds. `python benchmarks/bench_recipes_render.py [N]`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from orchestrator.recipes.render_workspace import render_workspace
from orchestrator.workspace import load_workspace

META = """\
{{% set version = "1.{i}.0" %}}
package:
  name: pkg-{i}
  version: {{{{ version }}}}
source:
  url: https://example.org/pkg-{i}-{{{{ version }}}}.tar.gz
  sha256: {i:064x}
build:
  number: 0
  skip: true  # [win]
requirements:
  build:
    - {{{{ compiler('c') }}}}
    - make  # [unix]
  host:
    - python
    - pkg-{dep}
  run:
    - python >=3.8  # [py>=38]
    - pkg-{dep} >=1
test:
  requires:
    - pytest
"""


def main(count: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        (root / "WORKSPACE.toml").write_text('[workspace]\nname = "bench"\n')
        for i in range(count):
            directory = root / "recipes" / f"pkg-{i}"
            directory.mkdir(parents=True)
            (directory / "meta.yaml").write_text(META.format(i=i, dep=max(i - 1, 0)))
            (directory / "build.sh").write_text("make install\n")
        workspace = load_workspace(root, explicit=True)
        for label in ("cold", "warm"):
            start = time.perf_counter()
            result = render_workspace(workspace)
            seconds = time.perf_counter() - start
            print(f"{label}: {len(result.recipes)} recipes, {len(result.errors)} errors, "
                  f"{seconds:.2f}s")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
