"""Run conda-build with the build strings orchestrate planned (stdlib + conda_build only).

Started with the conda-build environment's own python (host or container):
`python conda_build_runner.py --build-strings FILE -- <conda-build arguments>`.
conda-build forms a build string in one place, `MetaData.build_id()` (from `build/string`,
else `<py..>_h<its hash>_<number>`), and has no option to set it; this runner replaces that
method so that every output named in FILE (JSON: package name → build string) gets the planned
one, and leaves the recipe text untouched. Everything else is conda-build's own `conda build`.
"""

import argparse
import json
import os
import sys

# this script's directory holds orchestrator's own conda_build.py: `conda_build` must be
# conda-build's package
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(__file__)]


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-strings", required=True)
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    with open(args.build_strings, encoding="utf-8") as file:
        planned = json.load(file)
    force_build_strings(planned)
    from conda_build.cli.main_build import execute

    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    return execute(rest) or 0


def force_build_strings(planned):
    from conda_build.metadata import MetaData

    computed = MetaData.build_id

    def build_id(self):
        return planned.get(self.name()) or computed(self)

    MetaData.build_id = build_id


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
