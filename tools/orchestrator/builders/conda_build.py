"""The conda-build builder: `conda build` of a meta.yaml, for production containers only.

conda-build cannot be installed where the orchestrator is developed, so this builder only
describes the command. The build string the plan expects is forced through a variant file
written into the job's work dir: conda-build has no flag for the build string and takes it
from the recipe, so the builder builds a copy of the recipe directory whose meta.yaml reads
`build: string:` from the variant key `orchestrate_build_string`, and passes that key with the
request's variant in a variant file (`-m orchestrate_variant.yaml`). The rest of the meta.yaml
is untouched: conda-build renders it itself (selectors, `compiler()`, `pin_subpackage`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from orchestrator.builders.collect import check_built, expected_packages, read_built
from orchestrator.builders.request import BuildRequest, Invocation
from orchestrator.builders.workdir import copy_recipe_dir
from orchestrator.errors import BuildError

VARIANT_FILE = "orchestrate_variant.yaml"
RECIPE_DIR = "recipe"
BUILD_STRING_KEY = "orchestrate_build_string"
_STRING_LINE = f"string: {{{{ {BUILD_STRING_KEY} }}}}"
_TOP_BUILD = re.compile(r"^build:\s*(#.*)?$")
_TOP_KEY = re.compile(r"^[^\s#{]")
_TOP_SOURCE = re.compile(r"^source:\s*(#.*)?$")
_PATH_LINE = re.compile(r"^(?P<head>\s*(-\s+)?path:\s*)(?P<value>[^\s#]+)(?P<tail>.*)$")


class CondaBuild:
    name = "conda-build"

    def prepare(self, request: BuildRequest) -> None:
        _only_meta_yaml(request)
        recipe_dir = request.work_dir / RECIPE_DIR
        copy_recipe_dir(request, recipe_dir)
        meta = recipe_dir / "meta.yaml"
        text = with_build_string_from_variant(meta.read_text(encoding="utf-8"))
        meta.write_text(with_absolute_path_sources(text, request.recipe_dir), encoding="utf-8")
        (request.work_dir / VARIANT_FILE).write_text(variant_file(request), encoding="utf-8")

    def invocation(self, request: BuildRequest) -> Invocation:
        _only_meta_yaml(request)
        return Invocation(
            argv=conda_build_argv(request),
            env=dict(os.environ),
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
            "--croot", str(request.work_dir / "conda-bld"),
            "--cache-dir", str(request.source_cache)]
    if request.test == "skip":
        argv.append("--no-test")
    for channel in request.channels:
        argv += ["-c", channel]
    return tuple(argv)


def variant_file(request: BuildRequest) -> str:
    """conda_build_config.yaml content: the request's variant plus the forced build string."""
    (output,) = request.recipe.outputs
    # conda-build has no --target-platform flag: the target is the `target_platform` variant key
    values = {**request.variant, "target_platform": request.platform,
              BUILD_STRING_KEY: request.build_string_of(output)}
    return "".join(f"{key}:\n  - {_quoted(value)}\n" for key, value in sorted(values.items()))


def with_build_string_from_variant(meta_yaml: str) -> str:
    """The meta.yaml text whose top-level `build:` takes `string:` from the variant key."""
    lines = meta_yaml.splitlines()
    start = next((i for i, line in enumerate(lines) if _TOP_BUILD.match(line)), None)
    if start is None:
        return "\n".join([*lines, "build:", f"  {_STRING_LINE}"]) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if _TOP_KEY.match(lines[i])), len(lines))
    body = lines[start + 1:end]
    indent = next((_indent(line) for line in body if line.strip()
                   and not line.lstrip().startswith("#")), "  ")
    kept = [line for line in body if not (line.startswith(indent + "string:")
                                          and _indent(line) == indent)]
    return "\n".join([*lines[:start + 1], indent + _STRING_LINE, *kept, *lines[end:]]) + "\n"


def with_absolute_path_sources(meta_yaml: str, recipe_dir: Path) -> str:
    """The copy lives in the work dir: `source: path: ..` must still mean the workspace's."""
    lines = meta_yaml.splitlines()
    start = next((i for i, line in enumerate(lines) if _TOP_SOURCE.match(line)), None)
    if start is None:
        return meta_yaml
    for i in range(start + 1, len(lines)):
        if _TOP_KEY.match(lines[i]):
            break
        path = _PATH_LINE.match(lines[i])
        if path and "{{" not in path["value"] and not path["value"].startswith("/"):
            absolute = os.path.normpath(recipe_dir / path["value"])
            lines[i] = f"{path['head']}{absolute}{path['tail']}"
    return "\n".join(lines) + "\n"


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _only_meta_yaml(request: BuildRequest) -> None:
    if request.recipe.format != "meta.yaml":
        raise BuildError(f"{request.recipe.path}: conda-build builds meta.yaml recipes only "
                         "(hint: build recipe.yaml recipes with the rattler-build builder)")
    if len(request.recipe.outputs) != 1:
        raise BuildError(f"{request.recipe.path}: the conda-build builder handles "
                         "single-output recipes only")


def _quoted(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
