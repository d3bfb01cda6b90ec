"""The conda-build builder: `conda build` of a meta.yaml recipe, hermetic and offline.

Each run gets, in the job's work dir: its own condarc (only the channels orchestrate passes,
no defaults, `offline` unless a channel is remote or a source is a url, solver rattler, pkgs and
envs dirs in the work dir), its own croot, the target's variant as a variant config file
(`-m`), and a HOME of its own with every CONDA_* variable removed, so that no user or machine
configuration is read. The recipe is built where it is in the workspace, unedited; the planned
build strings reach conda-build through conda_build_runner.py (see there why), which runs with
the python of the conda-build named by `[build] conda_build`. Multi-output recipes build as
one run; `collect` checks every output against the plan.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from orchestrator.builders.collect import check_built, expected_packages, read_built
from orchestrator.builders.request import BuildRequest, Invocation
from orchestrator.builders.scrub import scrub_built
from orchestrator.errors import BuildError

RUNNER = Path(__file__).with_name("conda_build_runner.py")
VARIANT_FILE = "orchestrate_variant.yaml"
CONDARC = "condarc"
BUILD_STRINGS = "build_strings.json"
# The caller's variables a conda-build run does not see (by prefix): conda's and mamba's own,
# where conda looks for more configuration, and the caller's Python environment.
WITHHELD_ENV = ("CONDA", "XDG_CONFIG_HOME", "MAMBA", "VIRTUAL_ENV", "PYTHONPATH")


class CondaBuild:
    name = "conda-build"

    def prepare(self, request: BuildRequest) -> None:
        _only_meta_yaml(request)
        work = request.work_dir
        (work / "home").mkdir(parents=True, exist_ok=True)
        (work / VARIANT_FILE).write_text(variant_file(request), encoding="utf-8")
        (work / CONDARC).write_text(condarc(request), encoding="utf-8")
        (work / BUILD_STRINGS).write_text(json.dumps(dict(request.build_strings), indent=1),
                                          encoding="utf-8")

    def invocation(self, request: BuildRequest) -> Invocation:
        _only_meta_yaml(request)
        return Invocation(
            argv=conda_build_argv(request),
            env=hermetic_env(request),
            cwd=request.work_dir,
            reads=(request.workspace_root, RUNNER.parent,
                   *environment_read(request.conda_build)),
            writes=(request.output_dir, request.work_dir, request.source_cache),
            passed=None, withheld=WITHHELD_ENV,
        )

    def collect(self, request: BuildRequest) -> list[Path]:
        built = read_built(request.output_dir)
        packages = check_built(request.recipe.path, expected_packages(request), built)
        scrub_built(request, packages)  # conda-build writes channel URLs and paths into info/
        return packages


def conda_build_argv(request: BuildRequest) -> tuple[str, ...]:
    work = request.work_dir
    # through env: the interpreter is conda-build's environment's (also inside a container),
    # not the host's that containers.image_command replaces by the image's python3
    argv = ["/usr/bin/env", conda_build_python(request.conda_build), str(RUNNER),
            "--build-strings", str(work / BUILD_STRINGS), "--",
            str(request.recipe_dir), "--output-folder", str(request.output_dir),
            "--no-anaconda-upload", "--override-channels",
            "-m", str(work / VARIANT_FILE), "--croot", str(work / "conda-bld"),
            "--cache-dir", str(request.source_cache / "conda-build")]
    if request.test == "skip":
        argv.append("--no-test")
    for channel in request.channels:
        argv += ["-c", channel.url]
    return tuple(argv)


def conda_build_python(command: str) -> str:
    """The interpreter of the conda-build command: the `python` beside it (a venv's or conda
    environment's bin/)."""
    return str(conda_build_bin(command) / "python")


def conda_build_bin(command: str) -> Path:
    """The directory of the conda-build command, found on PATH when it is a bare name, its
    symlinks resolved when it is on this machine (a container mounts it at that real path)."""
    found = command if "/" in command else shutil.which(command)
    if found is None:
        raise BuildError(f"conda-build command `{command}` not found on PATH "
                         "(hint: set [build] conda_build in WORKSPACE.toml)")
    path = Path(os.path.abspath(os.path.expanduser(found)))
    return (path.resolve() if path.exists() else path).parent


def environment_read(command: str) -> tuple[Path, ...]:
    """The conda-build environment when it is a conda environment on this machine (conda-meta/;
    `make conda-build` makes one): a container build reads it at the same path, read-only, so
    the test image needs no conda-build of its own. An environment that is not on this machine
    (the production image's /opt/conda) or a system prefix (/usr) is not mounted."""
    environment = conda_build_bin(command).parent
    return (environment,) if (environment / "conda-meta").is_dir() else ()


def variant_file(request: BuildRequest) -> str:
    """conda_build_config.yaml content: the target's variant and the target platform."""
    # conda-build has no --target-platform flag: the target is the `target_platform` variant key
    values = {**request.variant, "target_platform": request.platform}
    return "".join(f"{key}:\n  - {_quoted(value)}\n" for key, value in sorted(values.items()))


def condarc(request: BuildRequest) -> str:
    """The run's whole conda configuration (JSON is YAML)."""
    # conda's `offline` also stops conda-build's source downloads (into its --cache-dir, kept
    # under cache/sources/conda-build): a recipe with url sources needs the network once
    remote = any(c.path is None for c in request.channels) or any(
        source.kind == "url" for source in request.recipe.sources)
    settings = {
        "channels": [c.url for c in request.channels], "default_channels": [],
        "custom_channels": {}, "custom_multichannels": {},
        "solver": "rattler",  # the classic solver fails on virtual packages (conda-build 5516)
        "offline": not remote, "add_pip_as_python_dependency": False,
        "auto_update_conda": False, "notify_outdated_conda": False, "report_errors": False,
        "pkgs_dirs": [str(pkgs_dir(request))], "envs_dirs": [str(request.work_dir / "envs")],
        "conda_build": {"pkg_format": "2"},
    }
    return json.dumps(settings, indent=1) + "\n"


def pkgs_dir(request: BuildRequest) -> Path:
    """The build's own, in its work dir: conda locks downloads into a package cache but not
    extracting, so two builds at once sharing one can see each other's half-extracted
    packages. Packages come from local channels: copying them again costs little."""
    return request.work_dir / "pkgs"


def hermetic_env(request: BuildRequest) -> dict[str, str]:
    """What the builder sets: a HOME and CONDARC of the run (conda reads ~/.condarc,
    $XDG_CONFIG_HOME/conda and $CONDA_PREFIX/.condarc otherwise, hence WITHHELD_ENV)."""
    return {"HOME": str(request.work_dir / "home"), "CONDARC": str(request.work_dir / CONDARC),
            "PYTHONUNBUFFERED": "1", "PYTHONNOUSERSITE": "1"}


def _only_meta_yaml(request: BuildRequest) -> None:
    if request.recipe.format != "meta.yaml":
        raise BuildError(f"{request.recipe.path}: conda-build builds meta.yaml recipes only "
                         "(hint: build recipe.yaml recipes with the rattler-build builder)")


def _quoted(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

