"""The page's routes: sign in and out, the main page and its live state, the seed song, the controls,
like/dislike of a play. Each view reads and writes the database through device.contract."""

from __future__ import annotations

import hmac
import logging
import math
import time
from dataclasses import asdict
from typing import Any

from flask import Flask, abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

import webconfig.display as display
import webconfig.mood_picture as mood_picture
import webconfig.sessions as sessions
import webconfig.teach as teach
from device import catalog, contract
from device.catalog.stats import last_scan
from device.catalog.tracks import Track
from device.config import Config
from device.contract import INTENTS as DEVICE_INTENTS
from device.contract import Command, Intent, Outcome, Play, Seed, Settings
from device.wording import feeling
from webconfig.context import db, ext, web_session
from webconfig.throttle import LoginThrottle

logger = logging.getLogger(__name__)

INTENTS = ("auto", *DEVICE_INTENTS)  # "auto": the device chooses
PLAYER_COMMANDS = (Command.SKIP, Command.PAUSE, Command.RESUME)
CHOICES_STEP = 8  # search results shown at first, and how many more each "More" shows
MAX_CHOICES = 64
MAX_QUERY = 200
MAX_ID = 2**63 - 1  # SQLite's largest integer
HISTORY_SHOWN = 10
TODAY_MAX_PLAYS = 500
STARTER_CHOICES = {"hide": "Built-in pieces hidden: only your own music plays.",
                   "show": "The built-in pieces play again, along with your music."}
NOT_ANSWERING = ("The player is not answering, so nothing was sent. Check that the device is on and "
                 "emotune is running (systemctl status emotune).")


def _bounded_id(text: str) -> int:
    """A row id from a form: digits only, within SQLite's range; 400 otherwise."""
    if not text.isdigit() or len(text) > 19 or int(text) > MAX_ID:
        abort(400, "not a valid id")
    return int(text)


# The listening day rolls over at 04:00 local time, not at midnight, so an evening that runs past midnight
# stays one picture (at 00:10 the page still shows the evening's readings), as sleep and fitness apps
# draw their days.
DAY_ROLLOVER_HOUR = 4


def listening_day_start(now: float | None = None) -> float:
    """Epoch seconds at which the listening day holding `now` (epoch seconds; default: now) began: the
    latest DAY_ROLLOVER_HOUR:00 local time at or before it."""
    now = time.time() if now is None else now
    day = time.localtime(now - DAY_ROLLOVER_HOUR * 3600)
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, DAY_ROLLOVER_HOUR, 0, 0, 0, 0, -1))


def _duration(track_id: int) -> float | None:
    track = catalog.get_track(db(), track_id)
    duration = track.duration_s if track else None
    limit = ext()["config"].player.max_track_s
    if limit and (duration is None or duration > limit):
        return float(limit)
    return duration


def _volume(settings: Settings) -> int:
    return settings.volume if settings.volume is not None else int(ext()["config"].player.volume)


def _panel(settings: Settings, plays: list[Play]) -> dict[str, str]:
    status = contract.read_status(db())
    sent_id = session.get("command")
    sent = contract.read_command(db(), int(sent_id)) if isinstance(sent_id, int) else None
    return display.panel(
        status, settings, plays,
        duration_s=_duration(status.now_playing.track_id) if status.now_playing else None,
        sent=sent, volume=_volume(settings),
    )


def _mood(plays_today: list[Play], emotion: dict[str, Any] | None, alive: bool) -> dict[str, Any]:
    found = mood_picture.readings(list(reversed(plays_today)))
    now = None
    if alive and emotion and emotion.get("present", True) and "valence" in emotion:
        try:
            now = (float(emotion["valence"]), float(emotion["arousal"]))
        except (KeyError, TypeError, ValueError):
            now = None
    return {"plane": mood_picture.plane(found, now), "timeline": mood_picture.timeline(found),
            "summary": mood_picture.summary(found), "count": len(found)}


def _starter(settings: Settings) -> dict[str, Any] | None:
    """What the built-in pieces card says (None: the catalog has none)."""
    pieces = catalog.count_starter(db())
    if not pieces:
        return None
    config: Config = ext()["config"]
    return {
        "pieces": pieces,
        "own_music": catalog.has_listener_music(db()),
        "hidden": settings.starter_hidden,
        "folders": " or ".join(str(folder) for folder in config.music_dirs),
    }


def _scanned() -> dict[str, Any] | None:
    """What the music card says of the last scan of the music folders: its counts as `emotune catalog scan`
    printed them, each reason a file was skipped with its count (None: no scan yet)."""
    scan = last_scan(db())
    if scan is None:
        return None
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(scan["finished_at"]))
    counts = (f"{scan['files']} file{'s' if scan['files'] != 1 else ''}: {scan['added']} added, "
              f"{scan['updated']} updated, {scan['unchanged']} unchanged, {scan['skipped']} skipped")
    if scan["cue_sheets"]:
        counts += f", {scan['cue_sheets']} cue sheet{'s' if scan['cue_sheets'] != 1 else ''} read"
    return {"when": when, "counts": counts,
            "reasons": [f"{count} {why}" for why, count in scan["reasons"].items() if count]}


def _render_main(status: int = 200, **extra: Any) -> ResponseReturnValue:
    settings = contract.read_settings(db())
    plays_today = contract.recent_plays(db(), TODAY_MAX_PLAYS, since=listening_day_start())
    history = contract.recent_plays(db(), HISTORY_SHOWN)
    panel = _panel(settings, history)
    state = contract.read_status(db())
    html = render_template(
        "index.html",
        display=panel,
        settings=settings,
        starter=_starter(settings),
        scanned=_scanned(),
        history=[_history_row(play) for play in history],
        mood=_mood(plays_today, state.emotion, panel["alive"] == "yes"),
        teach=teach.view(),
        teach_choices=teach.choices(),
        teach_people=teach.known_people(),
        nonce=g.nonce,
        **extra,
    )
    return html, status


OUTCOMES = {Outcome.ENDED: "played to the end", Outcome.SKIPPED: "skipped", Outcome.ERROR: "could not play",
            Outcome.STOPPED: "stopped", Outcome.INTERRUPTED: "interrupted (the device stopped)"}


def _history_row(play: Play) -> dict[str, Any]:
    unfinished = "playing now" if play.ended_at is None else "—"  # no outcome (yet), or one not shown
    return {
        "id": play.id,
        "title": play.title or "(a song no longer in the catalog)",
        "artist": play.artist,
        "at": display.clock(play.started_at),
        "before": feeling(play.emotion) if play.emotion else "—",
        "after": feeling(play.end_emotion) if play.end_emotion else "—",
        "outcome": OUTCOMES.get(play.outcome, unfinished) if play.outcome else unfinished,
        "liked": play.liked,
    }


# --- routes -------------------------------------------------------------------------------------


def login() -> ResponseReturnValue:
    if web_session() is not None:
        return redirect(url_for("index"))
    db()  # a database that cannot be opened is said now (webconfig.app), not after a PIN typed in vain
    return render_template("login.html", message=None)


def login_post() -> ResponseReturnValue:
    throttle: LoginThrottle = ext()["throttle"]
    address = request.remote_addr
    wait = throttle.wait_s(db(), address)
    if wait > 0:
        message = f"Too many wrong PINs from this device. Try again in {math.ceil(wait)} seconds."
        return render_template("login.html", message=message), 429, {"Retry-After": str(math.ceil(wait))}
    sent = request.form.get("pin", "").strip()
    if not hmac.compare_digest(sent.encode(), ext()["pin"].encode()):
        left = throttle.failed(db(), address)
        logger.warning("wrong PIN from %s", address)
        message = "Wrong PIN. " + (
            f"{left} more {'try' if left == 1 else 'tries'} before a pause."
            if left
            else f"Too many wrong PINs. Try again in {math.ceil(throttle.wait_s(db(), address))} seconds."
        )
        return render_template("login.html", message=message), 401
    throttle.succeeded(db(), address)
    token, _ = sessions.create(db(), ext()["fingerprint"], address)
    session.clear()
    session.permanent = True
    session["token"] = token
    g.pop("web_session", None)
    return redirect(url_for("index"))


def logout() -> ResponseReturnValue:
    signed_in = web_session()
    if signed_in is not None:
        sessions.revoke(db(), signed_in)
    session.clear()
    return redirect(url_for("login"))


def index() -> ResponseReturnValue:
    return _render_main()


def api_state() -> ResponseReturnValue:
    database = db()
    status = contract.read_status(database)
    settings = contract.read_settings(database)
    return jsonify(
        state={**status.to_json(), "alive": status.alive()},
        settings={**asdict(settings), "seed": asdict(settings.seed) if settings.seed else None},
        display=_panel(settings, contract.recent_plays(database, HISTORY_SHOWN)),
    )


def manifest() -> ResponseReturnValue:
    """The web app manifest, at the root so its scope is the whole page."""
    response = current_app.send_static_file("manifest.webmanifest")
    response.mimetype = "application/manifest+json"
    return response


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
    contract.set_seed(db(), Seed(track.id, track.title, track.artist, query))
    logger.info("seed song set to %s (track %d)", track.describe(), track.id)
    flash(f"Seed song set: {track.describe()}", "ok")


def seed() -> ResponseReturnValue:
    text = request.form.get("seed", "").strip()[:MAX_QUERY]
    if not text:
        flash("Type a song title or an artist first.", "error")
        return redirect(url_for("index"))
    shown_text = request.form.get("shown", "")
    shown = min(MAX_CHOICES, int(shown_text) + CHOICES_STEP) if shown_text.isdigit() and len(shown_text) < 4 \
        else CHOICES_STEP
    found = catalog.search(db(), text, limit=shown + 1)
    if not found:
        count = db()["tracks"].count
        message = f"No song matches “{text}” in the catalog ({count} songs). Try fewer words or check the spelling."
        return _render_main(message=message, query=text)
    chosen = _clear_match(text, found) if not shown_text else None
    if chosen is None:
        return _render_main(choices=found[:shown], more=len(found) > shown, shown=shown,
                            first_new=shown - CHOICES_STEP if shown_text else 0, query=text)
    _store_seed(chosen, text)
    return redirect(url_for("index"))


def seed_pick() -> ResponseReturnValue:
    track = catalog.get_track(db(), _bounded_id(request.form.get("track_id", "")))
    if track is None:
        flash("That song is not in the catalog any more; search again.", "error")
    else:
        _store_seed(track, request.form.get("query", "").strip()[:MAX_QUERY])
    return redirect(url_for("index"))


def _send(command: Command) -> bool:
    """Queue `command` for the player if it is answering; the page then follows it (sent → done)."""
    if not contract.read_status(db()).alive():
        flash(NOT_ANSWERING, "error")
        return False
    session["command"] = contract.push_command(db(), command)
    return True


def command() -> ResponseReturnValue:
    name = request.form.get("command", "")
    if name not in [c.value for c in PLAYER_COMMANDS]:
        flash(f"Unknown command {name[:40]!r}.", "error")
    else:
        _send(Command(name))
    return redirect(url_for("index"))


def volume() -> ResponseReturnValue:
    text = request.form.get("volume", "")
    if not text.isdigit() or int(text) > 100:
        abort(400, "volume must be 0 to 100")
    contract.set_volume(db(), int(text))
    if contract.read_status(db()).alive():
        _send(Command.VOLUME)
    else:
        flash(f"Volume {text} saved; the player is not answering, so it applies when it is back.", "error")
    return redirect(url_for("index"))


def feedback() -> ResponseReturnValue:
    play_id = _bounded_id(request.form.get("play", ""))
    liked = {"like": 1, "dislike": -1}.get(request.form.get("liked", ""))
    if liked is None:
        abort(400, "liked must be like or dislike")
    if not contract.record_feedback(db(), play_id, liked):
        flash("That play is no longer in the history.", "error")
    return redirect(url_for("index", _anchor=f"play-{play_id}"))


def intent() -> ResponseReturnValue:
    value = request.form.get("intent", "")
    if value not in INTENTS:
        flash(f"Unknown intent {value[:40]!r}.", "error")
    else:
        contract.set_intent_override(db(), None if value == "auto" else Intent(value))
        flash("Intent: chosen by emotune." if value == "auto" else f"Intent: always {value}.", "ok")
    return redirect(url_for("index"))


def camera() -> ResponseReturnValue:
    value = request.form.get("camera", "")
    if value not in ("on", "off"):
        flash(f"Unknown camera setting {value[:40]!r}.", "error")
    else:
        contract.set_camera_enabled(db(), value == "on")
        flash(f"Camera {value}.", "ok")
    return redirect(url_for("index"))


def starter() -> ResponseReturnValue:
    value = request.form.get("starter", "")
    if value not in STARTER_CHOICES:
        flash(f"Unknown choice {value[:40]!r}.", "error")
    elif value == "hide" and not catalog.has_listener_music(db()):
        flash("There is no music of your own to play yet, so the built-in pieces stay.", "error")
    else:
        contract.set_starter_hidden(db(), value == "hide")
        flash(STARTER_CHOICES[value], "ok")
    return redirect(url_for("index"))


def calibration_start() -> ResponseReturnValue:
    problem = teach.start(request.form)
    if problem:
        return _render_main(400, teach_message=problem, teach_form=teach.typed(request.form))
    return redirect(url_for("index", _anchor="teach"))


def calibration_cancel() -> ResponseReturnValue:
    teach.cancel(request.form)
    return redirect(url_for("index", _anchor="teach"))


def calibration_forget() -> ResponseReturnValue:
    return _teach_outcome(*teach.forget(request.form))


def calibration_rollback() -> ResponseReturnValue:
    return _teach_outcome(*teach.rollback(request.form))


def _teach_outcome(done: bool, message: str) -> ResponseReturnValue:
    """Back to the section with what happened, or the page again with why it did not (400)."""
    if not done:
        return _render_main(400, teach_message=message)
    flash(message, "ok")
    return redirect(url_for("index", _anchor="teach"))


def register(app: Flask) -> None:
    """Each view under its URL; the endpoint is the function's name (templates use url_for with it)."""
    for rule, view, method in (
        ("/login", login, "GET"),
        ("/login", login_post, "POST"),
        ("/logout", logout, "POST"),
        ("/", index, "GET"),
        ("/api/state", api_state, "GET"),
        ("/manifest.webmanifest", manifest, "GET"),
        ("/seed", seed, "POST"),
        ("/seed/pick", seed_pick, "POST"),
        ("/command", command, "POST"),
        ("/volume", volume, "POST"),
        ("/feedback", feedback, "POST"),
        ("/intent", intent, "POST"),
        ("/camera", camera, "POST"),
        ("/starter", starter, "POST"),
        ("/api/calibration", teach.api_calibration, "GET"),
        ("/calibration/start", calibration_start, "POST"),
        ("/calibration/cancel", calibration_cancel, "POST"),
        ("/calibration/rollback", calibration_rollback, "POST"),
        ("/calibration/forget", calibration_forget, "POST"),
    ):
        app.add_url_rule(rule, view.__name__, view, methods=[method])
