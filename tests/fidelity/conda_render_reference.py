"""conda-build's render of meta.yaml recipes as JSON: the reference the fidelity tests compare
orchestrate's render against. Runs inside the conda-build environment (it imports conda_build):

    $ORCHESTRATE_CONDA_BUILD_ENV/bin/python tests/fidelity/conda_render_reference.py \\
        PINNING_FILE OUT.json RECIPE_DIR...

Like `conda render --bypass-env-check -m PINNING_FILE --platform linux --arch 64 RECIPE_DIR`,
one record per recipe, variant and output (skipped variants included, with skip true).
"""

import json
import sys


def section(meta, key):
    return [str(s) for s in (meta.get_value(key) or []) if s is not None]


def record(meta):
    used = sorted(meta.get_used_vars())
    exports = meta.get_value("build/run_exports") or []
    if isinstance(exports, dict):
        exports = [s for k in sorted(exports) for s in exports[k]]
    return {
        "name": meta.name(), "version": str(meta.version()),
        "build_number": int(meta.build_number() or 0), "noarch": meta.noarch or None,
        "skip": bool(meta.skip()),
        "variant": {k: str(meta.config.variant.get(k)) for k in used if k in meta.config.variant},
        "requirements": {s: section(meta, f"requirements/{s}") for s in
                         ("build", "host", "run", "run_constrained")},
        "run_exports": [str(e) for e in exports],
        "test_requires": section(meta, "test/requires"),
    }


def render(recipe, pinning):
    from conda_build import api
    from conda_build.config import Config

    config = Config(platform="linux", arch="64", variant_config_files=[pinning], verbose=False,
                    bypass_env_check=True)
    try:  # `conda render --bypass-env-check`: rendered and finalized, nothing solved
        rendered = api.render(recipe, config=config, bypass_env_check=True)
        finalized = True
    except Exception:  # noqa: BLE001 - finalizing wants a channel for some exact pins:
        finalized = False  # the render before finalizing is then the reference
        try:
            rendered = api.render(recipe, config=config, bypass_env_check=True, finalize=False)
        except Exception as exc:  # noqa: BLE001 - the reference records conda-build's failure
            return {"error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"finalized": finalized, "records": [record(meta) for meta, _, _ in rendered]}


def main(pinning, out, *recipes):
    result = {recipe: render(recipe, pinning) for recipe in recipes}
    with open(out, "w") as handle:
        json.dump(result, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
