"""Every error a user can cause, as a type; only the CLI turns them into text and exit codes."""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base of all expected errors. `exit_code` 2 means bad input."""

    exit_code = 2

    def lines(self) -> list[str]:
        """The message as `error:` lines (one per problem)."""
        return [str(self)]


class WorkspaceError(OrchestratorError):
    """WORKSPACE.toml missing, unreadable or invalid."""


class RecipeError(OrchestratorError):
    """A recipe that cannot be read or rendered: `file:line: what (hint)`."""

    def __init__(self, file: str, message: str, line: int | None = None, hint: str = ""):
        self.file = file
        self.line = line
        self.message = message
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        tip = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}: {self.message}{tip}"


class RecipeErrors(OrchestratorError):
    """Several recipes failed; all of them are reported in one run."""

    def __init__(self, errors: list[RecipeError]):
        self.errors = errors
        super().__init__(f"{len(errors)} recipe(s) failed to render")

    def lines(self) -> list[str]:
        return [str(e) for e in self.errors]


class StoppedAfterRecipeErrors(OrchestratorError):
    """Recipes failed and then the command stopped (often because of them): report both."""

    def __init__(self, recipe_errors: tuple[RecipeError, ...], stop: OrchestratorError):
        self.recipe_errors = recipe_errors
        self.stop = stop
        self.exit_code = stop.exit_code
        super().__init__(str(stop))

    def lines(self) -> list[str]:
        return [*(str(e) for e in self.recipe_errors), *self.stop.lines()]


class PatternError(OrchestratorError):
    """A target pattern or package name that matches nothing."""


class CycleError(OrchestratorError):
    """A dependency cycle: names every target on it and the requirement closing it."""

    def __init__(self, cycle: list[tuple[str, str, str]]):
        self.cycle = cycle  # (dependent, dependency, requirement) for each edge of the cycle
        super().__init__(str(self))

    def __str__(self) -> str:
        steps = " ".join(f"{a} --{req}-->" for a, _, req in self.cycle)
        first = self.cycle[0][0] if self.cycle else ""
        return (
            f"dependency cycle: {steps} {first} "
            "(hint: remove one of these requirements or split a recipe into outputs)"
        )


class VcsError(OrchestratorError):
    """git could not answer (unknown REF, broken repository)."""


class ChannelError(OrchestratorError):
    """A channel that cannot be read: `channel <url>: <what>`."""

    def __init__(self, url: str, what: str):
        self.url = url
        self.what = what
        super().__init__(f"channel {url}: {what}")


class BuildError(OrchestratorError):
    """A builder could not be set up or run for a job (bad translation, missing tool)."""


class BuildFailed(OrchestratorError):
    """One or more builds failed; the run summary says which."""

    exit_code = 1


class ChannelProblems(OrchestratorError):
    """`orchestrate verify` found a channel that does not tell the truth: one line each."""

    exit_code = 1

    def __init__(self, problems: list):
        self.problems = problems
        super().__init__(f"{len(problems)} channel problem(s)")

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class FileWriteError(OrchestratorError, OSError):
    """A file orchestrate writes could not be written (full disk, read-only directory): names
    the file. Still an OSError, for the callers that treat a failed write as a miss."""

    def __init__(self, path, cause: OSError):
        self.path = path
        OrchestratorError.__init__(self, f"{path}: cannot write: {cause.strerror or cause}")
