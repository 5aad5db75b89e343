"""The phone page: what is playing and why, what played, the mood today, the seed song and a few
controls, behind a PIN.

It touches only the database and the config, through device.contract: it reads the daemon's status
and the play history, and writes settings, commands and feedback, which the daemon and learning pick
up. Every request must name this device in its Host header (webconfig.hosts); every page but the login
form needs a server-side session (webconfig.sessions); every form carries the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sqlite3
from datetime import timedelta

from flask import Flask, Response, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, InternalServerError

from device.config import Config
from device.database_problems import problem
from device.errors import DatabaseUnusableError, EmotuneError
from webconfig.context import close_database, csrf_token, ext, web_session
from webconfig.hosts import HostCheck
from webconfig.pin import device_pin, secret_key
from webconfig.sessions import IDLE_S
from webconfig.throttle import LoginThrottle
from webconfig.views import INTENTS, register

logger = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = {"login", "login_post", "static", "manifest"}
UNREADABLE = ("emotune cannot read its data right now. Try again in a minute; if this stays, the details are "
              "in the device's log (journalctl -u emotune-web).")
# A database that waiting will not mend (not a database, damaged, read-only, a full disk): no "try again".
# The reason is a few words without paths (anyone on the network sees this page); the log has the file and fix.
UNUSABLE = ("emotune cannot use its database ({reason}). Ask whoever set it up to look at "
            "'journalctl -u emotune-web' on the device: it says what to do.")
BROKEN = "Something went wrong on the device. The details are in its log (journalctl -u emotune-web)."


def create_app(config: Config, throttle: LoginThrottle | None = None, hosts: HostCheck | None = None) -> Flask:
    key = secret_key(config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_NAME="emotune_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=IDLE_S),
        MAX_CONTENT_LENGTH=16 * 1024,
        MAX_FORM_PARTS=20,
    )
    pin = device_pin(config)  # generated now if needed, so it can be read before the first visit
    app.extensions["emotune"] = {
        "config": config,
        "pin": pin,
        "fingerprint": hmac.new(key.encode(), b"pin:" + pin.encode(), hashlib.sha256).hexdigest(),
        "throttle": throttle or LoginThrottle(),
        "hosts": hosts or HostCheck(config.web.allowed_hosts),
    }
    app.before_request(_guard)
    app.after_request(_security_headers)
    app.teardown_appcontext(close_database)
    app.register_error_handler(EmotuneError, _unreadable)
    app.register_error_handler(sqlite3.DatabaseError, _unreadable)
    app.register_error_handler(InternalServerError, _broken)
    app.register_error_handler(BadRequest, _bad_request)
    app.jinja_env.globals.update(csrf_token=csrf_token, intents=INTENTS)
    register(app)
    return app


# --- the guard, headers, errors ---------------------------------------------------------------


def _guard() -> ResponseReturnValue | None:
    g.nonce = secrets.token_urlsafe(16)
    if not ext()["hosts"].allowed(request.host):
        logger.warning("refused a request for host %r from %s", request.host[:100], request.remote_addr)
        return Response("This device answers only to its own names and addresses.\n", 400, mimetype="text/plain")
    if request.endpoint in ("static", "manifest"):
        return None
    if request.endpoint not in PUBLIC_ENDPOINTS and web_session() is None:
        if request.path.startswith("/api/"):
            return jsonify(error="sign in with the PIN first"), 401
        return redirect(url_for("login"))
    if request.method == "POST" and not hmac.compare_digest(str(request.form.get("csrf", "")), csrf_token()):
        message = "This form has expired. Go back, reload the page and try again."
        return render_template("error.html", message=message), 400
    return None


def _security_headers(response: Response) -> Response:
    nonce = g.get("nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint not in ("static", "manifest"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(message: str, status: int) -> ResponseReturnValue:
    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    try:
        return render_template("error.html", message=message), status
    except Exception:  # the template needs the session, which may be what failed
        return Response(message + "\n", status, mimetype="text/plain")


def _unreadable(error: Exception) -> ResponseReturnValue:
    lasting = _lasting_problem(error)
    # the full story (the file, the fix) goes to the log only
    logger.error("cannot serve %s: %s", request.path, lasting or error)
    g.pop("web_session", None)
    return _error_page(UNUSABLE.format(reason=lasting.reason) if lasting else UNREADABLE, 503)


def _lasting_problem(error: Exception) -> DatabaseUnusableError | None:
    """What is wrong with the database when waiting will not mend it, else None (locked, or not the database)."""
    if isinstance(error, DatabaseUnusableError):
        found = error
    elif isinstance(error, sqlite3.DatabaseError):
        found = problem(ext()["config"].database_path, error)
    else:
        return None
    return found if found.lasting else None


def _broken(error: InternalServerError) -> ResponseReturnValue:
    logger.error("error serving %s", request.path, exc_info=error.original_exception or error)
    return _error_page(BROKEN, 500)


def _bad_request(error: BadRequest) -> ResponseReturnValue:
    """A form the page never sends (an id out of range, a volume of 500): say so, in the page's style."""
    return _error_page(f"The device could not use that request ({error.description or 'bad request'}).", 400)
