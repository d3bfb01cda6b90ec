"""The only module that talks to git: describe, changed paths, blob ids.

Repository operations go through GitPython. The two reads every warm command makes (the
index's blob ids and the dirty files) run `git` directly: importing GitPython costs more
(~100 ms) than both reads together on 5,000 recipes.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from orchestrator import proc
from orchestrator.errors import VcsError


class Describe(NamedTuple):
    tag: str
    number: str
    hash: str


NO_DESCRIBE = Describe("", "", "")


def _repo(root: Path):
    import git  # GitPython is imported only by commands that need git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def parse_describe(text: str) -> Describe:
    """`v1.2-3-gabc1234` → Describe("v1.2", "3", "gabc1234"); a bare tag has number 0."""
    parts = text.strip().rsplit("-", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].startswith("g"):
        return Describe(parts[0], parts[1], parts[2])
    return Describe(text.strip(), "0", "") if text.strip() else NO_DESCRIBE


def describe_tags(root: Path, path: str = ".") -> Describe:
    """`git describe --tags --long HEAD` of the repository holding `path` (relative to `root`:
    a recipe directory may be a repository of its own inside the workspace's), as conda-build
    describes a recipe's source checkout; empty without a tag. Like conda-build's, it moves
    with every commit: recipes that put GIT_DESCRIBE_NUMBER in a version rebuild each time."""
    import git

    repo = _repo(root / path)
    if repo is None:
        return NO_DESCRIBE
    try:
        return parse_describe(repo.git.describe("--tags", "--long", "HEAD"))
    except git.GitCommandError:
        return NO_DESCRIBE
    except ValueError as exc:  # an empty repository has no HEAD
        raise VcsError(f"{root}: git describe failed: {exc}") from None


# ---------------------------------------------------------------- working tree state


class TreeState(NamedTuple):
    """What git knows of the files under a directory, paths relative to that directory.

    `blobs` are the index's blob ids; `dirty` are files whose working copy may differ from
    them (modified or deleted) and untracked files git does not ignore: only those need hashing.
    """

    blobs: dict[str, str]
    dirty: frozenset[str]


class PendingTreeState:
    """Blob ids of the index and the dirty files under a directory (`result()`: a TreeState,
    None without git): two git reads, side by side while the caller works."""

    def __init__(self, root: Path):
        self._staged = _git_start(root, "ls-files", "-s", "-z")
        self._listed = _git_start(root, "ls-files", "-z", "-m", "-d", "-o", "--exclude-standard")

    def result(self) -> TreeState | None:
        staged, listed = _git_output(self._staged), _git_output(self._listed)
        if staged is None:
            return None
        blobs = parse_ls_files_stage(staged)
        unmerged = {path for path, blob in blobs.items() if not blob}
        return TreeState(
            {p: b for p, b in blobs.items() if b}, frozenset(_split_z(listed or "")) | unmerged
        )


def start_tree_state(root: Path) -> PendingTreeState:
    """Git's view of the files under `root`, started: it lists them while the caller works."""
    return PendingTreeState(root)


def ignored(root: Path, paths: list[str]) -> frozenset[str]:
    """Which of `paths` (relative to `root`, untracked) git ignores."""
    done = proc.output(["git", "check-ignore", "-z", "--stdin"], cwd=root,
                       stdin="\0".join(paths).encode("utf-8", "surrogateescape"))
    if done.returncode not in (0, 1):  # 1: none is ignored
        raise VcsError(f"{root}: git check-ignore failed: {done.stderr.strip()}")
    return frozenset(_split_z(done.stdout))


def git_dir(root: Path) -> Path | None:
    """The git directory of the repository holding `root` (None outside git)."""
    found = _git_output(_git_start(root, "rev-parse", "--absolute-git-dir"))
    return Path(found.strip()) if found else None


EXECUTABLE = "+x"  # marks the id of an executable file: a lost or gained +x changes the build


def parse_ls_files_stage(text: str) -> dict[str, str]:
    """`<mode> <blob> <stage>\\t<path>` records (NUL-separated) → path → blob (+x when
    executable); "" when unmerged."""
    blobs: dict[str, str] = {}
    for record in _split_z(text):
        meta, path = record.split("\t", 1)
        mode, blob, stage = meta.split(" ")
        if stage != "0" or path in blobs:
            blobs[path] = ""
        else:
            blobs[path] = blob + EXECUTABLE if mode == "100755" else blob
    return blobs


def changed_files_since(root: Path, ref: str) -> frozenset[str]:
    """Files under `root` changed between merge-base(ref, HEAD) and the working tree.

    Committed, staged, unstaged and untracked (not ignored) changes all count; a rename counts
    as both of its paths. Paths are relative to `root`.
    """
    if _repo(root) is None:
        raise VcsError(f"{root}: not a git repository (--changed-since needs git)")
    base = merge_base(root, ref)
    diff = _git_in(root, "diff", "--name-only", "-z", "--no-renames", "--relative", base)
    untracked = _git_in(root, "ls-files", "-z", "-o", "--exclude-standard")
    return frozenset(_split_z(diff)) | frozenset(_split_z(untracked))


def merge_base(root: Path, ref: str) -> str:
    """The commit id of merge-base(ref, HEAD); VcsError for an unknown ref."""
    import git

    try:
        commit = _git_in(root, "rev-parse", "--verify", "--quiet", "--end-of-options",
                         f"{ref}^{{commit}}").strip()
    except git.GitCommandError:
        raise VcsError(f"unknown git ref '{ref}'") from None
    try:
        return _git_in(root, "merge-base", commit, "HEAD").strip()
    except git.GitCommandError as exc:
        raise VcsError(f"no merge base between '{ref}' and HEAD: {_stderr(exc)}") from None


def resolve_remote_rev(url: str, rev: str) -> str:
    """The commit a git source's rev names (`git ls-remote`); a commit id is returned as is."""
    import git

    if is_commit_id(rev):
        return rev.lower()
    if url.startswith("-") or rev.startswith("-"):  # git would read it as an option
        raise VcsError(f"git source {url!r} (rev {rev!r}): a URL or rev may not start with '-'")
    try:
        text = git.Git().ls_remote(url, rev, f"refs/tags/{rev}^{{}}")
    except git.GitCommandError as exc:
        raise VcsError(f"git ls-remote {url} {rev}: {_stderr(exc)}") from None
    except git.GitError as exc:  # e.g. UnsafeOptionError / UnsafeProtocolError
        raise VcsError(f"git source {url!r} (rev {rev!r}): refused: {exc}") from None
    commit = parse_ls_remote(text, rev)
    if commit is None:
        raise VcsError(f"git source {url}: no branch or tag named '{rev}'")
    return commit


def parse_ls_remote(text: str, rev: str) -> str | None:
    """The commit of `rev` in `git ls-remote` output: a peeled tag first, then tag, branch, HEAD."""
    refs = dict(reversed(line.split("\t", 1)) for line in text.splitlines() if "\t" in line)
    for name in (f"refs/tags/{rev}^{{}}", f"refs/tags/{rev}", f"refs/heads/{rev}", rev):
        if name in refs:
            return refs[name]
    return None


def is_commit_id(rev: str) -> bool:
    """A full or abbreviated (7+ hex digits, as conda-build recipes pin them) commit id: it
    names one commit, so it is hashed as written instead of asking the remote."""
    return 7 <= len(rev) <= 40 and all(c in "0123456789abcdefABCDEF" for c in rev)


def _git_in(root: Path, *args: str) -> str:
    """Run git with `root` as the working directory (so paths are relative to it)."""
    import git

    return git.Git(str(root)).execute(
        ["git", "-c", "core.quotepath=off", *args], strip_newline_in_stdout=False
    )


def _git_start(root: Path, *args: str) -> proc.Started | None:
    """git started in `root` (its output read by `_git_output`); None if it cannot start there."""
    try:
        return proc.start(["git", "-c", "core.quotepath=off", *args], cwd=root)
    except proc.ProcessFailed:
        return None


def _git_output(process: proc.Started | None) -> str | None:
    """What a started git printed; None when it failed (e.g. `root` is not in a work tree)."""
    if process is None:
        return None
    done = process.result()
    return done.stdout if done.returncode == 0 else None


def _split_z(text: str) -> list[str]:
    return [part for part in text.split("\0") if part]


def _stderr(exc) -> str:
    """What git said went wrong: its first `fatal:`/`error:` line, else its last line (the
    last is often advice: "...and the repository exists"). GitPython keeps it quoted."""
    lines = str(getattr(exc, "stderr", "") or "").strip().strip("'").strip().splitlines()
    lines = [line.strip().removeprefix("stderr: ").strip("'") for line in lines if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else str(exc)
