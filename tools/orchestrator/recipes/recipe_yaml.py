"""rattler-build `recipe.yaml` (v1), rendered by rattler-build itself (py-rattler-build's
Stage0 → Stage1 API) with the workspace's variant configuration: one tree per variant.

Own code only where the API gives no answer:
- the API returns one Stage1 recipe per output and variant combination: they are grouped
  back into variants (a new group starts where an output name comes again) and identical
  groups are dropped (rattler-build's CLI deduplicates them too);
- pins stay data in Stage1 (v1_pins.py applies them with rattler-build's rules);
- Stage1's Python view does not expose the evaluated `build.skip`: the skip conditions are
  evaluated by the same API, in a recipe of only those conditions (see `_skipped`);
- purity: rattler-build's render reads the process environment (`env.get`) and files
  (`load_from_file`, `include`, `file_name`); a recipe doing either is refused here, before
  rattler-build sees it, because a plan must not depend on the host nor read outside the
  workspace (the builder then renders with no environment a recipe could read, see
  builders/rattler_build.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.errors import RecipeError
from orchestrator.recipes.context import RenderContext
from orchestrator.recipes.model import RawRecipe
from orchestrator.recipes.v1_pins import PinProblem, requirement_text
from orchestrator.recipes.v1_variants import recipe_variant_paths, variant_config
from orchestrator.recipes.yaml_load import line_of, load_yaml

# Keys rattler-build reports as used by every output; the platform is hashed on its own.
_PLATFORM_KEYS = frozenset({"target_platform", "build_platform", "host_platform"})
_HOST_READS = re.compile(r"\b(env\s*[.\[]|load_from_file\s*\(|include\s*\(|file_name\s*\()")
_CALL = re.compile(r"[\w.]+\s*[(\[][^()\[\]]*[)\]]")  # env.get("NAME"), for the message
_LINE = re.compile(r"line:? (\d+)")
_REQUIREMENT_KEYS = ("build", "host", "run", "run_constraints", "run_exports", "ignore_run_exports")


@dataclass(frozen=True)
class RenderedVariant:
    """One variant of a v1 recipe: its tree (the shape recipe.yaml has, resolved) and the
    variant keys its outputs use, with their values, sorted."""

    tree: dict
    text: str
    variant: tuple[tuple[str, Any], ...]


def render_recipe_yaml(raw: RawRecipe, context: RenderContext) -> list[RenderedVariant]:
    tree = load_yaml(raw.text, raw.path)  # bounded YAML first: the file's own errors, located
    if not isinstance(tree, dict):
        raise RecipeError(raw.path, "a recipe must be a YAML mapping (package:, source:, ...)", 1)
    _check_shape(raw, tree)
    _refuse_host_reads(raw)
    config = variant_config(context.platform, _variant_files(raw, context), context.inline)
    groups = _unique(_grouped(_rendered(raw, context.platform, config)))
    return [_variant(raw, tree, group, (context.platform, config)) for group in groups]


def _refuse_host_reads(raw: RawRecipe) -> None:
    for number, line in enumerate(raw.text.splitlines(), 1):
        found = _HOST_READS.search(line.split("#", 1)[0] if "${{" not in line else line)
        if found and ("${{" in line or "if:" in line or "skip" in line):
            what = found.group(1).rstrip("(.[ ")
            call = _CALL.match(line, found.start())
            raise RecipeError(raw.path, f"`{call.group(0) if call else what}` reads the "
                              f"{_READS[what[:3]]} while the "
                              "recipe is rendered, which orchestrate refuses", number,
                              "put the value in the recipe's context: or in a variant file")


_READS = {"env": "build machine's environment", "loa": "file system", "inc": "file system",
          "fil": "file system"}


def _rendered(raw: RawRecipe, platform: str, variants) -> list:
    recipe = _stage0(raw)
    try:
        return recipe.render(variants, _render_config(platform))
    except Exception as exc:  # noqa: BLE001 - rattler_build raises its own error types
        raise _error(raw, exc) from None


def _render_config(platform: str):
    from rattler_build import PlatformConfig, RenderConfig

    return RenderConfig(platform=PlatformConfig(
        target_platform=platform, build_platform=platform, host_platform=platform))


def _variant_files(raw: RawRecipe, context: RenderContext) -> tuple[tuple[str, str], ...]:
    """Workspace variant files, the inline values' place, then the recipe's own files."""
    own = dict(context.files)
    mine = tuple((p, own[p]) for p in recipe_variant_paths(raw.directory) if p in own)
    return (*context.variant_texts, ("<inline>", ""), *mine)


def _stage0(raw: RawRecipe):
    """The parsed recipe, without writing it anywhere (the public `from_yaml` writes a copy
    to a temporary directory)."""
    from rattler_build._rattler_build import stage0 as _api
    from rattler_build.stage0 import MultiOutputRecipe, SingleOutputRecipe

    try:
        wrapper = _api.Stage0Recipe.from_yaml(raw.text)
    except Exception as exc:  # noqa: BLE001
        raise _error(raw, exc) from None
    path = Path(raw.path)  # workspace-relative: only a name, no file function may use it
    if wrapper.is_single_output():
        return SingleOutputRecipe(wrapper.as_single_output(), wrapper, path)
    return MultiOutputRecipe(wrapper.as_multi_output(), wrapper, path)


def _error(raw: RawRecipe, exc: Exception) -> RecipeError:
    text = " ".join(str(exc).split())
    found = _LINE.search(text)
    line = int(found.group(1)) if found else _line_of_quoted(raw.text, text)
    return RecipeError(raw.path, _message(text), line)


def _line_of_quoted(text: str, message: str) -> int:
    """Where a message without a line points: the first line holding a value it quotes, the
    last quoted first (rattler-build's parse errors quote the bad value last, e.g. `... for
    '3.9'`, then maybe suggestions no line holds), else line 1."""
    quoted = re.findall(r"'([^']+)'", message)
    for value in reversed(quoted):
        for number, line in enumerate(text.splitlines(), 1):
            if value in line.split("#", 1)[0]:
                return number
    return 1


_UNDEFINED = (re.compile(r"undefined value \(in [^)]*\) \(template: \$\{\{\s*(\w+)\s*\}\}\)"),
              re.compile(r"undefined variable in condition '(\w+)'"))
_INNER = re.compile(r'(?:message|reason): "(.*?)(?<!\\)", (?:span|suggestion)')


def _message(text: str) -> str:
    """rattler-build's error without its Rust debug dressing (spans, enum names)."""
    for pattern in _UNDEFINED:
        if found := pattern.search(text):
            return f"undefined Jinja variable '{found.group(1)}'"
    inner = _INNER.search(text)
    message = inner.group(1) if inner else text
    message = message.replace("Template rendering failed: ", "").replace("\\n", " ")
    return "rattler-build cannot render it: " + re.sub(r" \(in <string>:\d+\)", "", message)


def _check_shape(raw: RawRecipe, tree: dict) -> None:
    """What rattler-build says without a line, said with one."""
    if "context" in tree and not isinstance(tree["context"], dict):
        raise RecipeError(raw.path, "context must be a mapping", line_of(raw.text, ("context",)))
    package = tree.get("package")
    if "outputs" not in tree and isinstance(package, dict) and "name" not in package:
        raise RecipeError(raw.path, "package/name is missing", line_of(raw.text, ("package",)),
                          "every package needs a name")


def _grouped(rendered: list) -> list[list]:
    groups: list[list] = []
    for item in rendered:
        name = item.recipe.package.name
        if not groups or name in {g.recipe.package.name for g in groups[-1]}:
            groups.append([])
        groups[-1].append(item)
    return groups


def _unique(groups: list[list]) -> list[list]:
    seen, out = set(), []
    for group in groups:
        identity = tuple((g.recipe.package.name, g.recipe.build.string) for g in group)
        if identity not in seen:
            seen.add(identity)
            out.append(group)
    return out


def _variant(raw: RawRecipe, stage0_tree: dict, group: list, where: tuple) -> RenderedVariant:
    trees = [item.recipe.to_dict() for item in group]
    versions = {t["package"]["name"]: str(t["package"]["version"]) for t in trees}
    used: dict[str, Any] = {}
    for item, tree in zip(group, trees, strict=True):
        used |= {k: v for k, v in item.recipe.used_variant.items() if k not in _PLATFORM_KEYS}
        tree["requirements"] = _requirements(raw, tree.get("requirements") or {}, versions)
        tree["source"] = [_written_ref(source) for source in tree.get("source") or []]
        for test in tree.get("tests") or []:
            if isinstance(test, dict) and isinstance(test.get("requirements"), dict):
                test["requirements"] = _requirements(raw, test["requirements"], versions)
    skips = _skipped(raw, stage0_tree, group, trees, where)
    for tree, skip in zip(trees, skips, strict=True):
        tree.setdefault("build", {})["skip"] = skip
    return RenderedVariant(_combined(stage0_tree, trees), raw.text, tuple(sorted(used.items())))


def _written_ref(source: Any) -> Any:
    """Stage1 spells a git tag or branch as a ref (`refs/tags/v1`); give it back as written,
    which is what the hash and `orchestrate fetch` resolve."""
    rev = source.get("rev") if isinstance(source, dict) and "git" in source else None
    for prefix, key in (("refs/tags/", "tag"), ("refs/heads/", "branch")):
        if isinstance(rev, str) and rev.startswith(prefix):
            return {**{k: v for k, v in source.items() if k != "rev"}, key: rev[len(prefix):]}
    return source


def _requirements(raw: RawRecipe, reqs: dict, versions: dict[str, str]) -> dict:
    try:
        return {key: _specs(value, versions) if key in _REQUIREMENT_KEYS else value
                for key, value in reqs.items()}
    except PinProblem as exc:
        raise RecipeError(raw.path, str(exc), 1, "pin only outputs of this recipe") from None


def _specs(value: Any, versions: dict[str, str]) -> Any:
    if isinstance(value, dict):  # run_exports: {weak: [...], strong: [...]}
        return {k: _specs(v, versions) for k, v in value.items()}
    if isinstance(value, list):
        return [requirement_text(item, versions) for item in value]
    return value


def _combined(stage0_tree: dict, trees: list[dict]) -> dict:
    """One output: its tree as is. Several: recipe.yaml's multi-output shape."""
    if "outputs" not in stage0_tree:
        return trees[0]
    head = {"name": str(trees[0]["package"]["name"]), "version": trees[0]["package"]["version"]}
    return {"recipe": head, "outputs": trees}


def _skipped(raw: RawRecipe, stage0_tree: dict, group: list, trees: list[dict],
             where: tuple) -> list[bool]:
    """Each output's `build.skip` (the top level's or-ed with its own), evaluated by
    rattler-build in a recipe holding only the output's context and those conditions."""
    out = []
    for item, tree in zip(group, trees, strict=True):
        conditions = _conditions(stage0_tree.get("build")) + _conditions(
            _stage0_output(stage0_tree, tree["package"]["name"], item).get("build"))
        out.append(bool(conditions) and _evaluated(raw, item, conditions, where))
    return out


def _conditions(build: Any) -> list[str]:
    skip = build.get("skip") if isinstance(build, dict) else None
    items = skip if isinstance(skip, list) else [] if skip is None else [skip]
    return [str(c).strip().removeprefix("${{").removesuffix("}}") if not isinstance(c, bool)
            else str(c).lower() for c in items]


def _stage0_output(stage0_tree: dict, name: str, item) -> dict:
    """The written output that rendered as `name` (outputs are matched by rendered name)."""
    for output in stage0_tree.get("outputs") or []:
        written = output.get("package", {}).get("name") if isinstance(output, dict) else None
        if written is not None and _name_of(written, item) == name:
            return output
    return {}


def _name_of(written: Any, item) -> str:
    text = str(written)
    if "${{" not in text:
        return text
    context = item.recipe.context
    return re.sub(r"\$\{\{\s*(\w+)\s*\}\}", lambda m: str(context.get(m.group(1), m.group(0))),
                  text)


def _evaluated(raw: RawRecipe, item, conditions: list[str], where: tuple) -> bool:
    """The conditions see the variant's values and, for keys the output does not keep as used
    (python of a noarch: python output), the configuration's first value, as rattler-build's
    first combination does."""
    from rattler_build import VariantConfig

    context = dict(item.recipe.context)
    condition = " or ".join(f"({c})" for c in conditions)
    probe = {"context": {**context, "orchestrate_skip": "${{ " + condition + " }}"},
             "package": {"name": "orchestrate-skip-probe", "version": "0"}}
    platform, config = where
    used = {k: [v] for k, v in item.recipe.used_variant.items() if k not in _PLATFORM_KEYS}
    for name in set(re.findall(r"[A-Za-z_]\w*", condition)) - used.keys():
        values = config.get_values(name) if name in config else None
        if values:
            used[name] = values[:1]
    variant = VariantConfig(used)
    try:
        wrapper = _probe_recipe(json.dumps(probe))
        rendered = wrapper.render(variant, _render_config(platform))
    except Exception as exc:  # noqa: BLE001
        raise _error(raw, exc) from None
    value = rendered[0].recipe.context.get("orchestrate_skip")
    return value is True or str(value).lower() == "true"


def _probe_recipe(text: str):
    return _stage0(RawRecipe("//probe", "probe/recipe.yaml", "recipe.yaml", text))
