"""Server-side sessions of the page, in the database (table `web_sessions`): signing out ends one for good.

The cookie (Flask's signed session) carries a random token; the database keeps only a hash of it, tied
to the PIN in force (its fingerprint), with the session's CSRF token. Signing out deletes the row, so a
copy of the cookie saved before is worthless; a new PIN makes every old token hash to nothing. A session
lasts IDLE_S after its last use and MAX_AGE_S at most.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import sqlite_utils

IDLE_S = 30 * 24 * 3600.0  # unused this long: signed out (a phone page kept for a month stays signed in)
MAX_AGE_S = 180 * 24 * 3600.0  # at most this long after signing in
TOUCH_EVERY_S = 300.0  # last_seen_at is written at most this often


@dataclass(frozen=True)
class WebSession:
    token_hash: str
    csrf: str
    created_at: float
    last_seen_at: float


def _hash(token: str, fingerprint: str) -> str:
    return hashlib.sha256(f"{fingerprint}:{token}".encode()).hexdigest()


def create(db: sqlite_utils.Database, fingerprint: str, address: str | None) -> tuple[str, WebSession]:
    """A new session; returns the token for the cookie and the session."""
    now = time.time()
    token = secrets.token_urlsafe(32)
    session = WebSession(_hash(token, fingerprint), secrets.token_urlsafe(32), now, now)
    with db.conn:
        db.execute("DELETE FROM web_sessions WHERE last_seen_at < ? OR created_at < ?",
                   [now - IDLE_S, now - MAX_AGE_S])
        db.execute(
            "INSERT INTO web_sessions (token_hash, csrf, created_at, last_seen_at, address) VALUES (?, ?, ?, ?, ?)",
            [session.token_hash, session.csrf, now, now, address or ""],
        )
    return token, session


def find(db: sqlite_utils.Database, token: str, fingerprint: str) -> WebSession | None:
    """The live session of `token` (None: signed out, expired, or a PIN ago); marks it used."""
    if not token:
        return None
    token_hash = _hash(token, fingerprint)
    row = db.execute("SELECT csrf, created_at, last_seen_at FROM web_sessions WHERE token_hash = ?",
                     [token_hash]).fetchone()
    if row is None:
        return None
    now = time.time()
    session = WebSession(token_hash, str(row[0]), float(row[1]), float(row[2]))
    if now - session.last_seen_at > IDLE_S or now - session.created_at > MAX_AGE_S:
        db.execute("DELETE FROM web_sessions WHERE token_hash = ?", [token_hash])
        return None
    if now - session.last_seen_at > TOUCH_EVERY_S:
        db.execute("UPDATE web_sessions SET last_seen_at = ? WHERE token_hash = ?", [now, token_hash])
    return session


def revoke(db: sqlite_utils.Database, session: WebSession) -> None:
    db.execute("DELETE FROM web_sessions WHERE token_hash = ?", [session.token_hash])
