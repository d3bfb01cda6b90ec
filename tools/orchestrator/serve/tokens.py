"""Access tokens: created, listed, revoked and checked; stored hashed in SQLite in the served root.

A token is `<id>-<secret>` (hex): the id finds the row, the secret's sha256 is compared with
hmac.compare_digest (constant time). Only the hash is stored, and the token is never logged:
`token create` prints it once. Scopes are ordered: a `promote` token may also upload and read,
an `upload` token may also read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import OrchestratorError

DATABASE = ".tokens.sqlite3"
SCOPES = ("read", "upload", "promote")
_SCHEMA = """CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, digest TEXT NOT NULL, channel TEXT NOT NULL, scope TEXT NOT NULL,
    created REAL NOT NULL, expires REAL, note TEXT NOT NULL DEFAULT '', revoked REAL)"""


class TokenError(OrchestratorError):
    """A token that cannot be created or revoked (unknown id, bad scope)."""


@dataclass(frozen=True)
class TokenInfo:
    """One row of the database, without its secret."""

    id: str
    channel: str
    scope: str
    created: float
    expires: float | None
    note: str
    revoked: float | None

    def state(self, now: float) -> str:
        if self.revoked is not None:
            return "revoked"
        return "expired" if self.expires is not None and self.expires <= now else "active"


@dataclass(frozen=True)
class Verdict:
    """The answer to one request: an HTTP status (200, 401 or 403) and why."""

    status: int
    why: str = ""


def database_path(root: Path) -> Path:
    return root / DATABASE


def _connect(root: Path) -> sqlite3.Connection:
    root.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database_path(root), timeout=30)
    connection.execute(_SCHEMA)
    return connection


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(root: Path, channel: str, scope: str, expires_days: float | None = None,
                 note: str = "") -> str:
    """A new token (shown once: only its hash is kept)."""
    if scope not in SCOPES:
        raise TokenError(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}")
    # hex and one dash: conda reads `/t/<token>/` with the pattern [a-zA-Z0-9-]+
    token_id, secret = secrets.token_hex(4), secrets.token_hex(24)
    now = time.time()
    expires = now + expires_days * 86400 if expires_days is not None else None
    with closing(_connect(root)) as db, db:
        db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                   (token_id, _digest(secret), channel, scope, now, expires, note))
    return f"{token_id}-{secret}"


def list_tokens(root: Path) -> list[TokenInfo]:
    with closing(_connect(root)) as db:
        rows = db.execute("SELECT id, channel, scope, created, expires, note, revoked "
                          "FROM tokens ORDER BY created").fetchall()
    return [TokenInfo(*row) for row in rows]


def revoke_token(root: Path, token_id: str) -> None:
    with closing(_connect(root)) as db, db:
        changed = db.execute("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
                             (time.time(), token_id)).rowcount
    if not changed:
        raise TokenError(f"no active token with id {token_id!r} (hint: orchestrate token list)")


def check_token(root: Path, token: str | None, channel: str, scope: str) -> Verdict:
    """200 when `token` grants `scope` on `channel`; 401 unknown/revoked/expired; 403 else."""
    if not token:
        return Verdict(401, "no token")
    token_id, _, secret = token.partition("-")
    with closing(_connect(root)) as db:
        row = db.execute("SELECT digest, channel, scope, expires, revoked FROM tokens "
                         "WHERE id = ?", (token_id,)).fetchone()
    # compare against a dummy digest when the id is unknown: the time taken says nothing
    digest = row[0] if row else _digest(secrets.token_hex(8))
    if not hmac.compare_digest(digest, _digest(secret)) or row is None:
        return Verdict(401, "unknown token")
    return _grant(row[1:], channel, scope)


def _grant(row: tuple, channel: str, scope: str) -> Verdict:
    token_channel, token_scope, expires, revoked = row
    if revoked is not None:
        return Verdict(401, "revoked token")
    if expires is not None and expires <= time.time():
        return Verdict(401, "expired token")
    if token_channel != channel:
        return Verdict(403, f"token is for another channel than {channel}")
    if SCOPES.index(token_scope) < SCOPES.index(scope):
        return Verdict(403, f"token scope {token_scope} does not allow {scope}")
    return Verdict(200)
