"""The phone page: what is playing and why, the seed song, and a few controls, behind a PIN.

It touches only the database and the config, through device.contract: it reads the daemon's status
and writes settings and commands, which the daemon picks up. Every page but the login form needs a
signed session cookie; every form carries the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import sqlite_utils
from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from device import catalog, contract, store
from device.catalog import Track
from device.config import Config
from device.contract import INTENTS as DEVICE_INTENTS
from device.contract import Command, PlayerState, Seed, Settings, Status
from device.errors import EmotuneError
from webconfig.pin import device_pin, secret_key

logger = logging.getLogger(__name__)

INTENTS = ("auto", *DEVICE_INTENTS)  # "auto": the device chooses
COMMANDS = {Command.SKIP: "Skipping to the next song.", Command.PAUSE: "Pausing.", Command.RESUME: "Resuming."}
MAX_CHOICES = 8
MAX_QUERY = 200
STATUS_TEXT = {
    PlayerState.STARTING: "Starting…",
    PlayerState.PLAYING: "Playing",
    PlayerState.PAUSED: "Paused",
    PlayerState.NOBODY: "Nobody in view: music faded out",
    PlayerState.STOPPED: "Stopped",
}
INTENT_TEXT = {"modulate": "matching your mood", "enhance": "lifting your mood", "calm": "calming things down"}
STARTER_CHOICES = {"hide": "Built-in pieces hidden: only your own music plays.",
                   "show": "The built-in pieces play again, along with your music."}
PUBLIC_ENDPOINTS = {"login", "login_post", "static"}


class LoginThrottle:
    """Slows down PIN guessing: after `max_failures` wrong PINs in a row every try is refused for
    `lock_s`, doubling with each further miss up to `max_lock_s`; the right PIN resets it.

    One counter for the whole device rather than one per address: a guesser on the home network can
    change address at will, and the listener only ever has to wait out one lock.
    """

    def __init__(
        self,
        max_failures: int = 5,
        lock_s: float = 30.0,
        max_lock_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.max_lock_s = max_lock_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._locked_until = 0.0

    def wait_s(self) -> float:
        """Seconds until the next try is allowed (0: now)."""
        with self._lock:
            return max(0.0, self._locked_until - self._clock())

    def failed(self) -> int:
        """Records a wrong PIN; returns how many tries are left before a lock."""
        with self._lock:
            self._failures += 1
            over = self._failures - self.max_failures
            if over >= 0:
                self._locked_until = self._clock() + min(self.max_lock_s, self.lock_s * 2**over)
            return max(0, -over)

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._locked_until = 0.0


def create_app(config: Config, throttle: LoginThrottle | None = None) -> Flask:
    key = secret_key(config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_NAME="emotune_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(days=30),
        MAX_CONTENT_LENGTH=16 * 1024,
        MAX_FORM_PARTS=20,
    )
    pin = device_pin(config)  # generated now if needed, so it can be read before the first visit
    app.extensions["emotune"] = {
        "config": config,
        "pin": pin,
        "fingerprint": hmac.new(key.encode(), b"pin:" + pin.encode(), hashlib.sha256).hexdigest(),
        "throttle": throttle or LoginThrottle(),
    }
    app.before_request(_guard)
    app.after_request(_security_headers)
    app.teardown_appcontext(_close_database)
    app.register_error_handler(EmotuneError, _emotune_error)
    app.jinja_env.globals.update(csrf_token=_csrf_token, intents=INTENTS)
    _routes(app)
    return app


# --- plumbing: database, session, CSRF, headers ---------------------------------------------------


def _ext() -> dict[str, Any]:
    return current_app.extensions["emotune"]


def _db() -> sqlite_utils.Database:
    if "db" not in g:
        g.db = store.open_database(_ext()["config"].database_path)
    return g.db


def _close_database(_error: BaseException | None) -> None:
    database = g.pop("db", None)
    if database is not None:
        database.conn.close()


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _signed_in() -> bool:
    return hmac.compare_digest(str(session.get("auth", "")), _ext()["fingerprint"])


def _guard() -> ResponseReturnValue | None:
    g.nonce = secrets.token_urlsafe(16)
    if request.endpoint not in PUBLIC_ENDPOINTS and not _signed_in():
        if request.path.startswith("/api/"):
            return jsonify(error="sign in with the PIN first"), 401
        return redirect(url_for("login"))
    if request.method == "POST":
        sent = request.form.get("csrf", "")
        expected = session.get("csrf", "")
        if not expected or not hmac.compare_digest(str(sent), str(expected)):
            message = "This form has expired. Go back, reload the page and try again."
            return render_template("error.html", message=message), 400
    return None


def _security_headers(response: Response) -> Response:
    nonce = g.get("nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _emotune_error(error: EmotuneError) -> ResponseReturnValue:
    logger.error("%s", error)
    return render_template("error.html", message=str(error)), 503


# --- what the page shows -----------------------------------------------------------------------


def _display(status: Status, settings: Settings) -> dict[str, str]:
    """Every line of the now-playing panel as text: the template and the refresh script both use it."""
    if status.state is None:
        status_text = "Waiting for the player (is emotune running?)"
    elif status.state is PlayerState.ERROR:
        status_text = f"Error: {status.message}"
    else:
        status_text = STATUS_TEXT[status.state]
    playing = status.now_playing
    emotion = status.emotion or {}
    if not emotion:
        emotion_text = "Not read yet"
    elif not emotion.get("present", True):
        emotion_text = "No face in view"
    else:
        emotion_text = f"{emotion.get('label', '?')} ({round(100 * float(emotion.get('confidence') or 0))} %)"
    decision = status.decision or {}
    intent = str(settings.intent_override or decision.get("intent") or "")
    intent_text = f"{INTENT_TEXT.get(intent, intent)} ({intent})" if intent else "—"
    if settings.intent_override:
        intent_text += ", your choice"
    return {
        "status": status_text,
        "status_key": status.state.value if status.state else "unknown",
        "title": playing.title if playing else "Nothing playing",
        "artist": playing.artist if playing else "",
        "kind": "built-in piece" if playing and playing.collection == catalog.STARTER else "",
        "emotion": emotion_text,
        "intent": intent_text,
        "reason": str(decision.get("reason") or ""),
        "seed": settings.seed.describe() if settings.seed else "No seed song yet",
        "camera": "on" if settings.camera_enabled else "off",
    }


def _starter(database: sqlite_utils.Database, settings: Settings) -> dict[str, Any] | None:
    """What the built-in pieces card says (None: the catalog has none): how many, whether the listener
    has music of their own (only then can they be hidden), whether they are hidden, where music goes."""
    pieces = catalog.count_starter(database)
    if not pieces:
        return None
    config: Config = _ext()["config"]
    return {
        "pieces": pieces,
        "own_music": catalog.has_listener_music(database),
        "hidden": settings.starter_hidden,
        "folders": " or ".join(str(folder) for folder in config.music_dirs),
    }


def _render_main(status: int = 200, **extra: Any) -> ResponseReturnValue:
    database = _db()
    settings = contract.read_settings(database)
    html = render_template(
        "index.html",
        display=_display(contract.read_status(database), settings),
        settings=settings,
        starter=_starter(database, settings),
        nonce=g.nonce,
        **extra,
    )
    return html, status


def _clear_match(text: str, found: list[Track]) -> Track | None:
    """The one track `text` clearly means: the only hit, or the only hit whose title (with or without
    its artist) is exactly what was typed."""
    if len(found) == 1:
        return found[0]
    wanted = catalog.normalise(text)
    exact = [
        track
        for track in found
        if wanted
        in {
            catalog.normalise(track.title),
            catalog.normalise(f"{track.artist} {track.title}"),
            catalog.normalise(f"{track.title} {track.artist}"),
        }
    ]
    return exact[0] if len(exact) == 1 else None


def _store_seed(track: Track, query: str) -> None:
    contract.set_seed(_db(), Seed(track.id, track.title, track.artist, query))
    logger.info("seed song set to %s (track %d)", track.describe(), track.id)
    flash(f"Seed song set: {track.describe()}", "ok")


# --- routes -------------------------------------------------------------------------------------


def login() -> ResponseReturnValue:
    if _signed_in():
        return redirect(url_for("index"))
    return render_template("login.html", message=None)


def login_post() -> ResponseReturnValue:
    throttle: LoginThrottle = _ext()["throttle"]
    wait = throttle.wait_s()
    if wait > 0:
        message = f"Too many wrong PINs. Try again in {math.ceil(wait)} seconds."
        return render_template("login.html", message=message), 429, {"Retry-After": str(math.ceil(wait))}
    sent = request.form.get("pin", "").strip()
    if not hmac.compare_digest(sent.encode(), _ext()["pin"].encode()):
        left = throttle.failed()
        logger.warning("wrong PIN from %s", request.remote_addr)
        message = "Wrong PIN. " + (
            f"{left} more {'try' if left == 1 else 'tries'} before a pause."
            if left
            else f"Too many wrong PINs. Try again in {math.ceil(throttle.wait_s())} seconds."
        )
        return render_template("login.html", message=message), 401
    throttle.succeeded()
    session.clear()
    session.permanent = True
    session["auth"] = _ext()["fingerprint"]
    return redirect(url_for("index"))


def logout() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for("login"))


def index() -> ResponseReturnValue:
    return _render_main()


def api_state() -> ResponseReturnValue:
    database = _db()
    status = contract.read_status(database)
    settings = contract.read_settings(database)
    return jsonify(
        state={**status.to_json(), "alive": status.alive()},
        settings={**asdict(settings), "seed": asdict(settings.seed) if settings.seed else None},
        display=_display(status, settings),
    )


def seed() -> ResponseReturnValue:
    text = request.form.get("seed", "").strip()[:MAX_QUERY]
    if not text:
        flash("Type a song title or an artist first.", "error")
        return redirect(url_for("index"))
    found = catalog.search(_db(), text, limit=MAX_CHOICES)
    if not found:
        count = _db()["tracks"].count
        message = f"No song matches “{text}” in the catalog ({count} songs). Try fewer words or check the spelling."
        return _render_main(message=message, query=text)
    chosen = _clear_match(text, found)
    if chosen is None:
        return _render_main(choices=found, query=text)
    _store_seed(chosen, text)
    return redirect(url_for("index"))


def seed_pick() -> ResponseReturnValue:
    try:
        track = catalog.get_track(_db(), int(request.form.get("track_id", "")))
    except ValueError:
        track = None
    if track is None:
        flash("That song is not in the catalog any more; search again.", "error")
    else:
        _store_seed(track, request.form.get("query", "").strip()[:MAX_QUERY])
    return redirect(url_for("index"))


def command() -> ResponseReturnValue:
    name = request.form.get("command", "")
    if name not in COMMANDS:
        flash(f"Unknown command {name!r}.", "error")
    else:
        contract.push_command(_db(), Command(name))
        flash(COMMANDS[Command(name)], "ok")
    return redirect(url_for("index"))


def intent() -> ResponseReturnValue:
    value = request.form.get("intent", "")
    if value not in INTENTS:
        flash(f"Unknown intent {value!r}.", "error")
    else:
        contract.set_intent_override(_db(), None if value == "auto" else value)
        flash("Intent: chosen by emotune." if value == "auto" else f"Intent: always {value}.", "ok")
    return redirect(url_for("index"))


def camera() -> ResponseReturnValue:
    value = request.form.get("camera", "")
    if value not in ("on", "off"):
        flash(f"Unknown camera setting {value!r}.", "error")
    else:
        contract.set_camera_enabled(_db(), value == "on")
        flash(f"Camera {value}.", "ok")
    return redirect(url_for("index"))


def starter() -> ResponseReturnValue:
    value = request.form.get("starter", "")
    if value not in STARTER_CHOICES:
        flash(f"Unknown choice {value!r}.", "error")
    elif value == "hide" and not catalog.has_listener_music(_db()):
        flash("There is no music of your own to play yet, so the built-in pieces stay.", "error")
    else:
        contract.set_starter_hidden(_db(), value == "hide")
        flash(STARTER_CHOICES[value], "ok")
    return redirect(url_for("index"))


def _routes(app: Flask) -> None:
    """Each view under its URL; the endpoint is the function's name (templates use url_for with it)."""
    for rule, view, method in (
        ("/login", login, "GET"),
        ("/login", login_post, "POST"),
        ("/logout", logout, "POST"),
        ("/", index, "GET"),
        ("/api/state", api_state, "GET"),
        ("/seed", seed, "POST"),
        ("/seed/pick", seed_pick, "POST"),
        ("/command", command, "POST"),
        ("/intent", intent, "POST"),
        ("/camera", camera, "POST"),
        ("/starter", starter, "POST"),
    ):
        app.add_url_rule(rule, view.__name__, view, methods=[method])
