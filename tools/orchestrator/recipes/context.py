"""RenderContext: everything rendering may know besides the recipe text, as plain data.

Rendering is pure: the platform, the variant, `git describe` and the files `load_file_data`
reads are read beforehand (by `render_workspace`) and handed over here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from orchestrator.recipes.selectors import selector_namespace


@dataclass(frozen=True)
class RenderContext:
    platform: str = "linux-64"
    variant: tuple[tuple[str, str], ...] = (("python", "3.11"),)
    describe: tuple[str, str, str] | None = None  # GIT_DESCRIBE_TAG, _NUMBER, _HASH
    files: tuple[tuple[str, str], ...] = ()  # workspace-relative path → text, for load_file_data
    variant_files: tuple[tuple[str, str], ...] = ()  # [workspace] variant_config: path, text

    def selector_names(self) -> dict[str, object]:
        return dict(_names(self.platform, self.variant))

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
        environ |= {"GIT_DESCRIBE_TAG": tag, "GIT_DESCRIBE_NUMBER": number,
                    "GIT_DESCRIBE_HASH": hash_, "GIT_BUILD_STR": f"{number}_{hash_}" if tag else ""}
        return environ


@lru_cache(maxsize=64)
def _names(platform: str, variant: tuple[tuple[str, str], ...]) -> tuple[tuple[str, object], ...]:
    return tuple(selector_namespace(platform, dict(variant)).items())
