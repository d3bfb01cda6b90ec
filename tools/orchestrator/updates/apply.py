"""A recipe moved to another version: the edited text, verified by rendering it again, with
every new url source downloaded into the source cache and its sha256 written.

Nothing is written here: `edited_recipe` returns the new text (or raises, and then the file
stays as it was); the command shows the diff and writes it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from orchestrator import cache, recipe_edit
from orchestrator.errors import RecipeError
from orchestrator.recipes.model import RawRecipe, Recipe
from orchestrator.updates import Release, UpstreamError
from orchestrator.updates.http import get_bytes


class UpdateRefused(RecipeError):
    """The recipe cannot be moved to the new version; the file is left unchanged."""


@dataclass(frozen=True)
class Edited:
    path: str
    before: str
    after: str
    downloads: tuple[tuple[str, str, Path], ...]  # (url, sha256, file in the source cache)


def rendered(workspace, path: str, target: str, format_: str, text: str) -> Recipe:
    from orchestrator.recipes import render_keys as rk
    from orchestrator.recipes.render import render_recipe
    from orchestrator.recipes.variant_config import workspace_space

    raw = RawRecipe(target, path, format_, text)
    # The first value of every variant key: enough to check the edited text still renders.
    space = workspace_space(workspace)
    keyed = rk.Keyed(None, "", raw, (), space, workspace.platform,
                     rk.v1_variant_inputs(workspace, space))
    context = rk.context_for(raw, workspace.root, keyed, rk.describer(workspace.root))
    return render_recipe(raw, context)


def edited_recipe(workspace, recipe: Recipe, current: str, new: str,
                  release: Release | None, timeout: float) -> Edited:
    before = (workspace.root / recipe.path).read_text(encoding="utf-8")
    try:
        text = recipe_edit.reset_build_number(recipe_edit.set_version(before, current, new))
        text = _pypi_directories(text, recipe, workspace, new, release)
        text, downloads = _new_checksums(workspace, recipe, text, release, timeout)
    except (recipe_edit.EditError, UpstreamError) as exc:
        raise UpdateRefused(recipe.path, f"{exc}; the recipe is left unchanged") from None
    _verify(workspace, recipe, text, new, downloads)
    return Edited(recipe.path, before, text, tuple(downloads))


def _render_as(workspace, recipe: Recipe, text: str) -> Recipe:
    return rendered(workspace, recipe.path, recipe.target, recipe.format, text)


def _url_sources(recipe: Recipe):
    return [s for s in recipe.sources if s.kind == "url" and s.url]


def _file_name(url: str) -> str:
    return PurePosixPath(urlparse(url).path).name


def _pypi_directories(text, recipe, workspace, new, release) -> str:
    """PyPI's hashed file URLs (`packages/71/39/<hash>/six-X.tar.gz`) change directory with
    every file: the literal directory of the old file becomes the new file's."""
    files = {name: url for name, url, _ in (release.files if release else ())}
    after = _url_sources(_render_as(workspace, recipe, text))
    for old, new_source in zip(_url_sources(recipe), after, strict=False):
        url = files.get(_file_name(new_source.url))
        if url and url != new_source.url and "/packages/source/" not in new_source.url:
            old_dir, new_dir = old.url.rsplit("/", 1)[0], url.rsplit("/", 1)[0]
            if old_dir != new_dir and urlparse(old_dir).hostname == urlparse(new_dir).hostname:
                text = recipe_edit.replace_literal(text, old_dir + "/", new_dir + "/")
    return text


def _new_checksums(workspace, recipe, text, release, timeout):
    known = {name: (url, sha) for name, url, sha in (release.files if release else ())}
    after = _url_sources(_render_as(workspace, recipe, text))
    downloads = []
    for old, new in zip(_url_sources(recipe), after, strict=False):
        if new.url == old.url or not old.sha256:
            continue
        url, expected = known.get(_file_name(new.url), (new.url, ""))
        sha256, path = download_to_cache(workspace.cache_dir, url, new.url, timeout)
        if expected and expected != sha256:
            raise UpstreamError(f"{url}: sha256 {sha256}, but the upstream says {expected}")
        text = recipe_edit.replace_sha256(text, old.sha256, sha256)
        downloads.append((new.url, sha256, path))
    return text, downloads


def _verify(workspace, recipe, text, new, downloads) -> None:
    result = _render_as(workspace, recipe, text)
    versions = {o.version for o in result.outputs}
    if new not in versions:
        raise UpdateRefused(recipe.path, f"renders as version {sorted(versions)}, not {new}")
    shas = {s.sha256 for s in _url_sources(result)}
    missing = [url for url, sha, _ in downloads if sha not in shas]
    if missing:
        raise UpdateRefused(recipe.path, f"the new sha256 of {missing[0]} did not take effect")


def download_to_cache(cache_dir: Path, url: str, recipe_url: str, timeout: float):
    """`url` downloaded, hashed, and stored where builders look for `recipe_url`."""
    data = get_bytes(url, timeout)
    sha256 = hashlib.sha256(data).hexdigest()
    target = cache.source_path(cache_dir, sha256, recipe_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, target)
    return sha256, target
