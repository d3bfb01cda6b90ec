"""RenderContext: everything rendering may know besides the recipe text, as plain data.

Rendering is pure: the platform, the variant, `git describe` and the files `load_file_data`
reads are read beforehand (by `render_workspace`) and handed over here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from orchestrator.recipes.selectors import VARIANT_FILES_KEY, selector_namespace

_SHLIB_EXT = {"linux": ".so", "osx": ".dylib", "win": ".dll"}


@dataclass(frozen=True)
class RenderContext:
    platform: str = "linux-64"
    variant: tuple[tuple[str, str], ...] = (("python", "3.11"),)
    describe: tuple[str, str, str] | None = None  # GIT_DESCRIBE_TAG, _NUMBER, _HASH
    files: tuple[tuple[str, str], ...] = ()  # workspace-relative path → text, for load_file_data
    variant_files: tuple[str, ...] = ()  # the variant files read, for hints
    refused: tuple[tuple[str, str], ...] = ()  # path → why a loader may not read it
    used: tuple[str, ...] | None = None  # the variant keys the text uses (conda-build's rules)
    package: tuple[str, str, str] = ("", "", "0")  # PKG_NAME, PKG_VERSION, PKG_BUILDNUM
    # recipe.yaml only, for rattler-build's own variant loaders: the workspace's variant files
    # (path, text) and the inline [variant] values (a list is a matrix)
    variant_texts: tuple[tuple[str, str], ...] = ()
    inline: tuple[tuple[str, object], ...] = ()

    def selector_names(self) -> dict[str, object]:
        return dict(_names(self.platform, self.variant, self.variant_files))

    def environ(self) -> dict[str, str]:
        """The fixed environment templates see (never the process's os.environ)."""
        variant = dict(self.variant)
        environ = {"target_platform": self.platform, "build_platform": self.platform}
        if "python" in variant:
            python = variant["python"]
            environ |= {"PY_VER": ".".join(python.split(".")[:2]), "PY3K": str(int(
                python.startswith("3")))}
        if "numpy" in variant:
            environ["NPY_VER"] = ".".join(variant["numpy"].split(".")[:2])
        tag, number, hash_ = self.describe or ("", "", "")  # empty: not asked, or no tag
        environ |= {"SHLIB_EXT": _SHLIB_EXT.get(self.platform.split("-")[0], ".so"),
                    "PKG_NAME": self.package[0], "PKG_VERSION": self.package[1],
                    "PKG_BUILDNUM": self.package[2], "PKG_HASH": "1234567",
                    "PKG_BUILD_STRING": "placeholder"}  # conda-build's values before finalizing
        environ |= {"GIT_DESCRIBE_TAG": tag, "GIT_DESCRIBE_NUMBER": number,
                    "GIT_DESCRIBE_HASH": hash_, "GIT_BUILD_STR": f"{number}_{hash_}" if tag else ""}
        return environ


@lru_cache(maxsize=64)
def _names(platform: str, variant: tuple, variant_files: tuple[str, ...]) -> tuple:
    names = selector_namespace(platform, dict(variant))
    return (*names.items(), (VARIANT_FILES_KEY, variant_files))
