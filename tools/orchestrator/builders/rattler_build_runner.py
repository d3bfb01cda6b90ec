"""Build one v1 recipe with py-rattler-build: the command a rattler-build invocation runs.

Stand-alone on purpose: it imports only the standard library and `rattler_build`, so the same
command runs on the host and inside a container that has py-rattler-build installed. It prints
one JSON line per built package (`{"name", "version", "build_string", "packages"}`) on stdout;
rattler-build's own log goes to stderr. Exit status 1 means the build failed.

Its environment is the one the invocation gives (builders/rattler_build.py `PASSED_ENV`), and
rattler-build's strict isolation passes the build script only what it sets itself plus that.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, and the orchestrator module
# builders/rattler_build.py beside it would shadow the `rattler_build` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, required=True, help="a v1 recipe.yaml")
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--channel", action="append", default=[], help="repeatable, in priority")
    parser.add_argument("--target-platform", default=None)
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--test", choices=("skip", "native", "tests"), default="native")
    parser.add_argument("--keep-build", action="store_true")
    parser.add_argument("--source-cache", type=Path, default=None,
                        help="shared download cache (linked as the output dir's src_cache)")
    return parser.parse_args(argv)


def variant_config(pairs: list[str]):
    from rattler_build import VariantConfig

    variants: dict[str, list[str]] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        variants.setdefault(key, []).append(value)
    return VariantConfig(variants)


def link_source_cache(output_dir: Path, source_cache: Path | None) -> None:
    """rattler-build keeps downloads in `<output-dir>/src_cache`; share one across jobs, in a
    directory of its own beside the orchestrator's `<sha256>/<file>` entries."""
    link = output_dir / "src_cache"
    if source_cache is None or link.exists() or link.is_symlink():
        return
    shared = source_cache / "rattler-build"
    shared.mkdir(parents=True, exist_ok=True)
    link.symlink_to(shared.resolve(), target_is_directory=True)


class StreamLog:
    """Prints rattler-build's log events as they happen, so a failed build's log holds the
    output of its script and tests, not only the final error."""

    def on_download_start(self, event) -> None:
        print(f"downloading {event.url}", file=sys.stderr, flush=True)

    def on_download_progress(self, event) -> None:
        pass

    def on_download_complete(self, event) -> None:
        pass

    def on_build_step(self, event) -> None:
        print(f"== {event.step_name}: {event.message}", file=sys.stderr, flush=True)

    def on_log(self, event) -> None:
        print(event.message, file=sys.stderr, flush=True)


def build(args: argparse.Namespace) -> list[dict]:
    from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe, ToolConfiguration

    recipe = Stage0Recipe.from_file(args.recipe)
    platform = PlatformConfig(target_platform=args.target_platform)
    results = recipe.run_build(
        variant_config=variant_config(args.variant),
        tool_config=ToolConfiguration(test_strategy=args.test, keep_build=args.keep_build),
        output_dir=args.output_dir,
        channels=args.channel,
        render_config=RenderConfig(platform=platform),
        progress_callback=StreamLog(),
    )
    return [
        {
            "name": r.name,
            "version": r.version,
            "build_string": r.build_string,
            "packages": [str(p) for p in r.packages],
        }
        for r in results
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    link_source_cache(args.output_dir, args.source_cache)
    try:
        built = build(args)
    except Exception as exc:  # rattler_build raises its own error types; report them in one line
        print(f"rattler-build failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for entry in built:
        print(json.dumps(entry, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
