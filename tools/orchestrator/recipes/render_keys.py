"""The render cache keys of a workspace's recipes, and the RenderContext each one renders in.

A rendered recipe is keyed by everything it is a function of: the renderer's code, the
recipe's label, path, format and text, the platform and variant, the files it loads and git
describe when it uses them. The text is known by its git blob id when the caller has git's
file list, so a warm run reads no recipe: the render index (text key → `Needs`, kept by
render_cache.py) remembers what each recipe text reads besides itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import xxhash

from orchestrator.errors import RecipeError
from orchestrator.files import changed_paths, file_id
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.discover import FoundRecipe, find_recipes, read_recipe
from orchestrator.recipes.model import RawRecipe
from orchestrator.recipes.v1_variants import recipe_variant_paths

# Besides recipes/*.py, what an entry holds is made by hashing.py (each recipe's digest).
_DIGESTED_CODE = ("hashing.py",)


def _code_version() -> str:
    """A digest of the rendering code itself (every module of recipes/, and the digest of what
    it renders), so a changed renderer never serves stale entries (a hand-bumped constant was
    forgotten once: stale hashes, needless rebuilds)."""
    digest = xxhash.xxh3_64()
    here = Path(__file__).parent
    for source in [*sorted(here.glob("*.py")), *(here.parent / f for f in _DIGESTED_CODE)]:
        digest.update(source.read_bytes())
    return digest.hexdigest()


CODE_VERSION = _code_version()
_SETUP_DEFAULT = re.compile(r"load_setup_py_data\(\s*\)")  # reads setup.py by default
_LOADS = re.compile(
    r"""load_(?:file_data|file_regex|setup_py_data)\(\s*(?:load_file\s*=\s*|setup_file\s*=\s*)?"""
    r"""['"]([^'"]+)['"]""")


class Needs(NamedTuple):
    """What rendering a recipe text reads besides the text (found by reading the text once)."""

    loads: tuple[tuple[str, ...], ...]  # per `load_file_data` literal: its candidate paths
    describe: bool  # whether it uses GIT_DESCRIBE_* or GIT_BUILD_STR
    used: tuple[str, ...] = ()  # the variant keys it uses (see variant_config.used_keys)
    inputs: tuple = ()  # ids of the recipe's conda_build_config.yaml and build.sh `used` saw
    noarch: bool = False  # a noarch meta.yaml: built with the newest python only


def needs_of(raw: RawRecipe, space=None, scripts=(), inputs=()) -> Needs:
    from orchestrator.recipes.loaders import candidate_paths  # only on a miss
    from orchestrator.recipes.variant_config import used_keys

    literals = _LOADS.findall(raw.text) + ["setup.py"] * bool(_SETUP_DEFAULT.search(raw.text))
    loads = tuple(tuple(candidate_paths(raw.directory, literal)) for literal in literals)
    if raw.format == "recipe.yaml":  # its own variant files, which rattler-build reads too
        loads += tuple((path,) for path in recipe_variant_paths(raw.directory))
    # a recipe.yaml is multiplied by rattler-build itself (render_recipes): one entry here
    noarch = raw.format == "meta.yaml" and _noarch(raw.text)
    used = frozenset() if space is None or raw.format != "meta.yaml" else used_keys(
        space, raw.text, scripts, noarch)
    return Needs(loads, "GIT_DESCRIBE" in raw.text or "GIT_BUILD_STR" in raw.text,
                 tuple(sorted(used)), tuple(inputs), noarch)


def _noarch(text: str) -> bool:
    return re.search(r"^\s*noarch:\s*\S", text, re.M) is not None and "outputs:" not in text


def render_salt(base: RenderContext) -> str:
    """What every key of a run shares: the renderer's code, the platform and the variant."""
    return xxhash.xxh3_128_hexdigest(repr((CODE_VERSION, base)).encode())


def text_key(target: str, path: str, format_: str, text_id: str, salt: str) -> str:
    """The key of a recipe text (known by `text_id`: its blob id or a digest of the text)."""
    return xxhash.xxh3_128_hexdigest(f"{salt}\0{target}\0{path}\0{format_}\0{text_id}".encode())


def text_id(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(text.encode())


def entry_key(key: str, needs: Needs, file_id, described: tuple | None) -> str:
    """The key of a rendered entry: the text's key, the state of every file it may load
    (`file_id(path)`: a blob id or digest, None when absent) and git describe if it uses it."""
    if not needs.loads and described is None:
        return key  # a recipe that reads nothing else is a function of its text alone
    files = tuple(tuple(file_id(p) for p in candidates) for candidates in needs.loads)
    return xxhash.xxh3_128_hexdigest(repr((key, files, described)).encode())


# ---------------------------------------------------------------- the context of a key


def context_for(raw: RawRecipe, root: Path, keyed: Keyed, describe) -> RenderContext:
    """The context of one variant of a recipe: the variant's values over the first value of
    every other key, git describe (only when it mentions it), the files it loads."""
    needs = keyed.needs or needs_of(raw)
    loaded, refused = _loaded_files(needs, root)
    described = describe(raw.directory) if needs.describe else None
    base = _variant_context(keyed.platform, keyed.space, keyed.variant)
    if raw.format == "recipe.yaml":
        base = replace(base, variant_texts=keyed.v1[0], inline=keyed.v1[1])
    if not loaded and not refused and described is None:
        return base  # shared: the process pool pickles one object for many recipes
    return replace(base, describe=described, files=tuple(sorted(loaded.items())),
                   refused=tuple(sorted(refused.items())))


@lru_cache(maxsize=1024)
def _variant_context(platform: str, space, variant: tuple) -> RenderContext:
    values = tuple(sorted((space.first() | dict(variant)).items()))
    return RenderContext(platform, values, variant_files=space.files,
                         used=tuple(k for k, _ in variant))


def _loaded_files(needs: Needs, root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(path → text, path → why refused) of the files the loaders may read: inside the
    workspace only, symlinks resolved (issue 9: `load_file_data("/etc/passwd")`)."""
    from orchestrator.recipes.paths import OutsideWorkspace, read_inside

    files, refused = {}, {}
    for candidates in needs.loads:
        for path in candidates:
            try:
                files[path] = read_inside(root, path)
                break
            except OutsideWorkspace as exc:
                refused[path] = str(exc)
                break
            except (OSError, UnicodeDecodeError):
                continue
    return files, refused


# ---------------------------------------------------------------- keys of a workspace


@dataclass(frozen=True)
class Keyed:
    """One variant of one recipe, and the render cache key of its entry."""

    found: FoundRecipe
    key: str  # the render cache key of its entry
    raw: RawRecipe | None  # read when the cache index did not know its text
    variant: tuple = ()  # the values of the variant keys the recipe uses, sorted
    space: Any = None  # the recipe's VariantSpace (the workspace's plus its own config)
    platform: str = "linux-64"
    v1: tuple = ((), ())  # recipe.yaml: the workspace's variant files (path, text), [variant]
    needs: Needs | None = None  # what its key was made with (what its context loads)


@dataclass(frozen=True)
class RenderKeys:
    """Each recipe found and its cache key: what a render of the workspace is a function of."""

    items: tuple[Keyed, ...]
    errors: tuple[RecipeError, ...]
    # the render index of this run (text key → Needs), for the caller to save when it changed
    index: Mapping[str, Needs] = field(default_factory=dict, compare=False)
    # every file whose content the keys were made of (the recipes, what they load, the
    # variant files, WORKSPACE.toml): while none changes and no file comes or goes, they hold
    reads: frozenset[str] = field(default=frozenset(), compare=False)
    # renders started while keying (render_pool.RenderAhead), collected by render_keyed
    ahead: Any = field(default=None, compare=False)

    def digest(self) -> str:
        """Changes exactly when the RenderResult can change (a directory's file list too)."""
        state = ([(k.key, k.found.files) for k in self.items], [str(e) for e in self.errors])
        return xxhash.xxh3_128_hexdigest(repr(state).encode())


def render_keys(
    workspace, listing: Mapping[str, str] | None, index: Mapping[str, Needs],
    on_unknown: Callable[[Keyed], None] | None = None,
) -> RenderKeys:
    """The cache key of every recipe, reading only the recipes the render index (`index`, as
    saved) does not know; the keys' `index` is what this run knows (to save when it differs).
    `on_unknown` is called with each variant of a text the index did not know, as soon as it
    is keyed: the render cache is all but sure to miss it."""
    from orchestrator.recipes.variant_config import workspace_space
    from orchestrator.workspace import WORKSPACE_FILE, missing_roots

    root = workspace.root
    found, errors = find_recipes(root, workspace.config.workspace.roots,
                                 None if listing is None else sorted(listing))
    errors += [RecipeError(str(root / WORKSPACE_FILE), f"workspace.roots: '{r}' is not a "
                           "directory of the workspace") for r in missing_roots(workspace)]
    reads = {WORKSPACE_FILE, *(f.path for f in found)}
    try:
        space = workspace_space(workspace)
    except RecipeError as exc:  # a variant file that cannot be read: nothing can render
        return RenderKeys((), (*errors, exc), index, frozenset(reads))
    reads.update(space.files)
    salt = render_salt(RenderContext(workspace.platform, space.values, None, (), space.files))
    v1 = v1_variant_inputs(workspace, space)
    used: dict[str, Needs] = {}
    describe, items = describer(root), []

    def identify(path: str) -> str | None:
        reads.add(path)
        return (listing or {}).get(path) or file_id(root, path)

    for item in found:
        try:
            keyed, known = _keyed(item, (root, space, workspace.platform, v1), salt,
                                  (listing, identify), (index, used), describe)
        except RecipeError as exc:
            errors.append(exc)
            continue
        items.extend(keyed)
        for variant in keyed if on_unknown and not known else ():
            on_unknown(variant)
    return RenderKeys(tuple(items), tuple(errors), used, frozenset(reads))


def keys_hold(keys: RenderKeys, before: Mapping[str, str], after: Mapping[str, str]) -> bool:
    """Whether `keys`, made when the files were `before` (path → blob id), are still the keys
    when they are `after`: no file came or went (directories' file lists, recipes found) and
    none of those the keys read changed (nor a file without a suffix, which recipe discovery
    looks at when it is a symbolic link)."""
    if before.keys() != after.keys():
        return False
    return not any(p in keys.reads or "." not in p.rsplit("/", 1)[-1]
                   for p in changed_paths(before, after))


def _keyed(item, where, salt, lookups, indexes, describe) -> tuple[list[Keyed], bool]:
    """`item`'s variants and their entry keys, and whether the index knew its text; `where`:
    (root, workspace VariantSpace, platform); `lookups`: (git's listing, `identify`: a file's
    id, remembered as read); `indexes`: the saved index and this run's (filled here)."""
    from orchestrator.recipes import variant_config as vc

    root, space, platform, v1 = where
    listing, identify = lookups
    index, used = indexes
    blob = listing.get(item.path) if listing is not None else None
    raw = None if blob else read_recipe(root, item)
    key = text_key(item.target, item.path, item.format, blob or text_id(raw.text), salt)
    inputs = vc.recipe_inputs(item, identify)
    known = key in index and tuple(index[key].inputs) == inputs
    raw = raw if known else raw or read_recipe(root, item)
    space = vc.recipe_space(root, item, space, platform)
    needs = index[key] if known else needs_of(raw, space, vc.recipe_scripts(root, item), inputs)
    used[key] = needs
    described = describe(item.path.rsplit("/", 1)[0]) if needs.describe else None
    base = entry_key(key, needs, identify, described)
    variants = vc.combinations(space, frozenset(needs.used), needs.noarch)
    if len(variants) == 1 and not any(inputs):  # the text and the salt decide its one variant
        return [Keyed(item, base, raw, variants[0], space, platform, v1, needs)], known
    return [Keyed(item, _variant_key(base, variant, inputs), raw, variant, space, platform, v1,
                  needs) for variant in variants], known


def v1_variant_inputs(workspace, space) -> tuple:
    """What rattler-build's own loaders read for a recipe.yaml: the workspace's variant files
    as text (already read once, inside the workspace, by `workspace_space`) and [variant]."""
    from orchestrator.recipes.paths import read_inside

    texts = tuple((path, read_inside(workspace.root, path)) for path in space.files)
    inline = tuple(sorted((k, tuple(v) if isinstance(v, list | tuple) else v)
                          for k, v in workspace.config.variant.items()))
    return texts, inline


def _variant_key(base: str, variant: tuple, inputs: tuple) -> str:
    return xxhash.xxh3_128_hexdigest(repr((base, variant, inputs)).encode())


def describer(root):
    """`git describe` per recipe directory, asked at most once each."""
    from functools import cache

    from orchestrator.errors import VcsError
    from orchestrator.vcs import describe_tags

    @cache
    def describe(directory: str) -> tuple[str, str, str]:
        try:
            return tuple(describe_tags(root, directory))
        except VcsError:  # e.g. a repository without commits: no tag to describe
            return ("", "", "")

    return describe
