"""What every request of the page reaches for: the app's parts, its database connection, the
signed-in session and the CSRF token of the form it shows."""

from __future__ import annotations

import secrets
from typing import Any

import sqlite_utils
from flask import current_app, g, request, session

from device import store
from webconfig.sessions import WebSession, find


def ext() -> dict[str, Any]:
    return current_app.extensions["emotune"]  # type: ignore[no-any-return]


def db() -> sqlite_utils.Database:
    if "db" not in g:
        g.db = store.open_database(ext()["config"].database_path)
    return g.db  # type: ignore[no-any-return]


def close_database(_error: BaseException | None) -> None:
    database = g.pop("db", None)
    if database is not None:
        database.conn.close()


def web_session() -> WebSession | None:
    """The signed-in session of this request (None: signed out)."""
    if "web_session" not in g:
        token = session.get("token")
        g.web_session = find(db(), str(token), ext()["fingerprint"]) if token else None
    return g.web_session  # type: ignore[no-any-return]


def csrf_token() -> str:
    signed_in = web_session() if request.endpoint != "static" else None
    if signed_in is not None:
        return signed_in.csrf
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])
