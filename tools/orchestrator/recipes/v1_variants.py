"""The variant configuration a v1 recipe is rendered with, as rattler-build reads it.

In order, later wins (like rattler-build's `-m` files): the workspace's variant files
(`[workspace] variant_config`, conda_build_config.yaml read with its `# [selector]`s and
zip_keys), the inline `[variant]` values, then the recipe's own `conda_build_config.yaml` and
`variants.yaml`. Every file comes as text (read by the I/O layer, inside the workspace); the
loaders are rattler-build's own.
"""

from __future__ import annotations

import posixpath
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

RECIPE_VARIANT_FILES = ("conda_build_config.yaml", "variants.yaml")  # rattler-build's order


def recipe_variant_paths(recipe_dir: str) -> tuple[str, ...]:
    """The recipe's own variant files a recipe.yaml may have beside it, workspace-relative."""
    return tuple(posixpath.join(recipe_dir, name) for name in RECIPE_VARIANT_FILES)


def variant_config(platform: str, files: tuple[tuple[str, str], ...],
                   inline: tuple[tuple[str, Any], ...]):
    """rattler-build's VariantConfig for `files` (path, text) merged in order with `inline` put
    after the workspace files (`files` holds the workspace's first, then the recipe's)."""
    return _merged(platform, files, inline)


@lru_cache(maxsize=256)
def _merged(platform: str, files: tuple[tuple[str, str], ...], inline: tuple) -> Any:
    from rattler_build import VariantConfig

    config = VariantConfig()
    for path, text in files:
        if path == "<inline>":
            config = config.merge(VariantConfig(_lists(inline)))
        else:
            config = config.merge(_loaded(platform, path, text))
    return config


def _lists(inline: tuple) -> dict[str, list]:
    return {key: list(value) if isinstance(value, tuple | list) else [value]
            for key, value in inline}


def _loaded(platform: str, path: str, text: str) -> Any:
    from rattler_build import JinjaConfig, PlatformConfig, VariantConfig

    jinja = JinjaConfig(platform=PlatformConfig(target_platform=platform,
                                                build_platform=platform, host_platform=platform))
    if posixpath.basename(path) != "conda_build_config.yaml":
        return VariantConfig.from_yaml_with_context(text, jinja)
    # rattler-build reads the legacy format only from a file: our own copy of the text
    with tempfile.TemporaryDirectory(prefix="orchestrate-variant-") as scratch:
        copy = Path(scratch) / "conda_build_config.yaml"
        copy.write_text(text, encoding="utf-8")
        return VariantConfig.from_conda_build_config(copy, jinja)
