"""The conda-build builder: `conda build` of a meta.yaml, for production containers only.

conda-build cannot be installed where the orchestrator is developed, so this builder only
describes the command. The build string the plan expects is forced through a variant file
written into the job's work dir: conda-build takes `build: string:` from the recipe, and the
recipe's own `{{ ... }}` cannot be changed, so the builder passes a config file
(`conda_build_config.yaml` via `-m`) holding `orchestrate_build_string` and renders the recipe
through a copy whose `build: string:` reads that key.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.builders.collect import check_built, expected_packages, read_built
from orchestrator.builders.request import BuildRequest, Invocation
from orchestrator.builders.workdir import copy_recipe_dir
from orchestrator.errors import BuildError

VARIANT_FILE = "orchestrate_variant.yaml"
RECIPE_DIR = "recipe"
BUILD_STRING_KEY = "orchestrate_build_string"


class CondaBuild:
    name = "conda-build"

    def prepare(self, request: BuildRequest) -> None:
        _only_meta_yaml(request)
        recipe_dir = request.work_dir / RECIPE_DIR
        copy_recipe_dir(request, recipe_dir)
        meta = recipe_dir / "meta.yaml"
        meta.write_text(with_build_string_from_variant(meta.read_text(encoding="utf-8")),
                        encoding="utf-8")
        (request.work_dir / VARIANT_FILE).write_text(variant_file(request), encoding="utf-8")

    def invocation(self, request: BuildRequest) -> Invocation:
        _only_meta_yaml(request)
        return Invocation(
            argv=conda_build_argv(request),
            env={**os.environ, "CONDA_BLD_PATH": str(request.work_dir / "conda-bld")},
            cwd=request.work_dir,
            reads=(request.workspace_root,),
            writes=(request.output_dir, request.work_dir, request.source_cache),
        )

    def collect(self, request: BuildRequest) -> list[Path]:
        built = read_built(request.output_dir)
        return check_built(request.recipe.path, expected_packages(request), built)


def conda_build_argv(request: BuildRequest) -> tuple[str, ...]:
    argv = ["conda", "build", str(request.work_dir / RECIPE_DIR),
            "--output-folder", str(request.output_dir),
            "--no-anaconda-upload", "--override-channels",
            "-m", str(request.work_dir / VARIANT_FILE),
            "--cache-dir", str(request.source_cache)]
    if request.platform != "noarch":
        argv += ["--target-platform", request.platform]
    if request.test == "skip":
        argv.append("--no-test")
    for channel in request.channels:
        argv += ["-c", channel]
    return tuple(argv)


def variant_file(request: BuildRequest) -> str:
    """conda_build_config.yaml content: the request's variant plus the forced build string."""
    (output,) = request.recipe.outputs
    values = {**request.variant, BUILD_STRING_KEY: request.build_string_of(output)}
    return "".join(f"{key}:\n  - {_quoted(value)}\n" for key, value in sorted(values.items()))


def with_build_string_from_variant(meta_yaml: str) -> str:
    """The meta.yaml text with `build: string:` taken from the variant key (line-based)."""
    lines = meta_yaml.splitlines()
    out: list[str] = []
    in_build = False
    for line in lines:
        if in_build and line.strip().startswith("string:"):
            continue  # the recipe's own build string is replaced by the plan's
        out.append(line)
        if line.rstrip() == "build:":
            in_build = True
            out.append(f"  string: {{{{ {BUILD_STRING_KEY} }}}}")
        elif line and not line[0].isspace():
            in_build = False
    if not any(line.rstrip() == "build:" for line in lines):
        out += ["build:", f"  string: {{{{ {BUILD_STRING_KEY} }}}}"]
    return "\n".join(out) + "\n"


def _only_meta_yaml(request: BuildRequest) -> None:
    if request.recipe.format != "meta.yaml":
        raise BuildError(f"{request.recipe.path}: conda-build builds meta.yaml recipes only "
                         "(hint: build recipe.yaml recipes with the rattler-build builder)")
    if len(request.recipe.outputs) != 1:
        raise BuildError(f"{request.recipe.path}: the conda-build builder handles "
                         "single-output recipes only")


def _quoted(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
