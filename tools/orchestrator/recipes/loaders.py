"""conda-build's file loaders for templates, read statically and inside the workspace only:
`load_file_data` (json/yaml/toml), `load_file_regex`, `load_str_data` and `load_setup_py_data`
(setup.py parsed with `ast`: the literal arguments of its `setup(...)` call; conda-build runs it,
orchestrate never does). The files come in the RenderContext, read beforehand; a path that
resolves outside the workspace was refused then and is an error naming both paths here."""

from __future__ import annotations

import ast
import json
import posixpath
import re
from typing import Any

from orchestrator.recipes.yaml_load import bounds_problem


class LoadError(Exception):
    """A loader could not find, read or parse a file (raised through Jinja)."""


def candidate_paths(recipe_dir: str, path: str) -> tuple[str, ...]:
    """Where `load_file_data(path)` looks: the recipe directory, then the target directory when
    the recipe sits in `conda/` or `recipe/` (so `pyproject.toml` finds the project's)."""
    first = posixpath.normpath(posixpath.join(recipe_dir, path))
    parent, base = posixpath.split(recipe_dir)
    if base in ("conda", "recipe") and parent:
        return first, posixpath.normpath(posixpath.join(parent, path))
    return (first,)


def find(context, recipe_dir: str, path: str, used: set[str], function: str) -> tuple[str, str]:
    """(path, text) of the first candidate of `path` the context holds."""
    refused = dict(context.refused)
    files = dict(context.files)
    for candidate in candidate_paths(recipe_dir, path):
        if candidate in refused:
            raise LoadError(f"{function}({path!r}): {refused[candidate]}")
        if candidate in files:
            used.add(candidate)
            return candidate, files[candidate]
    raise LoadError(f"{function}({path!r}): no such file next to the recipe")


def load_file_data(context, recipe_dir: str, used: set[str], path: str, *_a, **_k) -> Any:
    return parse_data_file(*find(context, recipe_dir, path, used, "load_file_data"))


def load_file_regex(context, recipe_dir: str, used: set[str], load_file: str, regex_pattern: str,
                    from_recipe_dir: bool = False, recipe_dir_: str | None = None, **_k):
    """The first match of `regex_pattern` in the file, or None (conda-build's re.search)."""
    _, text = find(context, recipe_dir, load_file, used, "load_file_regex")
    return re.search(regex_pattern, text)


def load_str_data(string: str, fmt: str, **_k) -> Any:
    return parse_data_file(f"string.{fmt}", string)


def load_setup_py_data(context, recipe_dir: str, used: set[str], setup_file: str = "setup.py",
                       *_a, **_k) -> dict:
    file, text = find(context, recipe_dir, setup_file, used, "load_setup_py_data")
    return setup_arguments(file, text)


def setup_arguments(file: str, text: str) -> dict:
    """The keyword arguments of `setup(...)` in a setup.py that are literals (strings, numbers,
    lists, dicts) or names bound to literals at module level; anything else is an error."""
    try:
        tree = ast.parse(text, file)
    except SyntaxError as exc:
        raise LoadError(f"load_setup_py_data: {file} is not valid Python: {exc.msg}") from None
    constants = _module_constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(
                node.func, "attr", None)) == "setup":
            return {k.arg: _literal(k.value, constants, file) for k in node.keywords if k.arg}
    raise LoadError(f"load_setup_py_data: {file} has no setup(...) call to read statically")


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError):
                continue
    return out


def _literal(node: ast.expr, constants: dict, file: str) -> Any:
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        raise LoadError(f"load_setup_py_data: {file}:{node.lineno}: this setup() argument is "
                        "computed; orchestrate reads setup.py without running it (write the "
                        "value in the recipe, or use load_file_data on pyproject.toml)") from None


def parse_data_file(path: str, text: str) -> Any:
    import tomllib

    import yaml

    try:
        if path.endswith(".json"):
            return json.loads(text)
        if path.endswith(".toml"):
            return tomllib.loads(text)
        document = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        raise LoadError(f"load_file_data: {path} cannot be parsed: {exc}") from None
    if bounds_problem(document):
        raise LoadError(f"load_file_data: {path}: {bounds_problem(document)}")
    return document
