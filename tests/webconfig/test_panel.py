"""The main page as a listener reads it: live state that cannot lie, now apart from when the song was
chosen, why in plain words, one play/pause toggle, a command's fate, volume, time, history with
like/dislike, the mood picture, more search results, the home-screen manifest."""

from __future__ import annotations

import json
import re
import struct
import time

import sqlite_utils
from flask.testing import FlaskClient

from device import contract
from device.catalog.tracks import upsert_track
from device.contract import Command, Intent, Play, SentCommand
from tests.webconfig.pages import DAEMON_STATE, NOW_PLAYING, post, write_daemon_state
from webconfig.display import command_text
from webconfig.words import explain

HAPPY_CHOICE = {
    "emotion": {"label": "happy", "confidence": 0.43, "valence": 0.6, "arousal": 0.3},
    "intent": "modulate",
    "target": {"valence": 0.18, "arousal": 0.09},
    "track": {"title": "Clair de Lune", "valence": 0.3, "arousal": -0.5, "va_source": "features"},
    "reason": "target valence +0.18, arousal +0.09 (0.57 away)",
}


def field(page: str, name: str) -> str:
    found = re.search(rf'data-field="{name}"[^>]*>([^<]*)<', page)
    assert found, name
    return found.group(1)


def go_stale(db: sqlite_utils.Database, seconds_ago: float = 60.0) -> float:
    """As if the daemon died `seconds_ago`: its last write is that old."""
    at = time.time() - seconds_ago
    db.execute("UPDATE state SET value = ? WHERE key = 'heartbeat'", [json.dumps(at)])
    return at


def test_a_dead_player_is_shown_as_not_answering(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    write_daemon_state(db, **DAEMON_STATE)
    died = go_stale(db)
    page = signed_in.get("/").get_data(as_text=True)
    assert f"The player is not answering since {time.strftime('%H:%M', time.localtime(died))}" in page
    assert field(page, "status") == "Not answering" and "Playing" not in page
    assert "sad (71 %)" not in field(page, "face_now")
    assert signed_in.get("/api/state").get_json()["display"]["status_key"] == "stale"
    response = post(signed_in, "/command", command="skip")
    assert db["commands"].count == 0
    assert "not answering, so nothing was sent" in signed_in.get(response.headers["Location"]).get_data(as_text=True)


def test_now_is_kept_apart_from_when_the_song_was_chosen(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    write_daemon_state(db, **{**DAEMON_STATE, "decision": HAPPY_CHOICE,
                              "emotion": {"label": "angry", "confidence": 0.74, "valence": -0.5, "arousal": 0.6}})
    page = signed_in.get("/").get_data(as_text=True)
    assert field(page, "face_now") == "angry (74 %)"
    assert "When this song was chosen" in page
    assert field(page, "face_then") == "happy (43 %)"
    assert field(page, "aim") == "matching your mood"
    why = field(page, "why")
    assert "valence" not in why and "0.57" not in why
    assert why == ("You looked happy; this one is a little darker than how you seem and much calmer, "
                   "staying with how you feel.")
    numbers = field(page, "numbers")  # one tap away, under "The numbers"
    assert "Aim (modulate): valence +0.18, arousal +0.09" in numbers and "Song to aim: 0.60 apart" in numbers
    assert "<summary>The numbers</summary>" in page


def test_a_run_of_the_same_face_is_said_in_words() -> None:
    def play(label: str) -> Play:
        return Play(id=1, track_id=1, intent=Intent.ENHANCE, outcome=None, emotion=label, valence=-0.6, arousal=-0.3,
                    reason="")

    decision = {"emotion": {"label": "sad", "confidence": 0.6, "valence": -0.6, "arousal": -0.3}, "intent": "enhance",
                "target": {"valence": -0.2, "arousal": -0.2}, "track": {"valence": -0.2, "arousal": -0.25}}
    reason = explain(decision, [play("sad"), play("sad"), play("sad"), play("happy")])
    assert reason.text == ("You've looked sad for the last 3 songs; this one is a little brighter than how you seem "
                           "and about as lively, one step toward something lighter.")
    assert explain(None).text == ""


def test_one_toggle_for_pause_and_resume(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    write_daemon_state(db, **DAEMON_STATE)
    page = signed_in.get("/").get_data(as_text=True)
    assert 'value="pause" id="toggle"' in page and 'value="resume"' not in page
    write_daemon_state(db, status="paused")
    page = signed_in.get("/").get_data(as_text=True)
    assert 'value="resume" id="toggle"' in page and 'value="pause"' not in page
    assert field(page, "toggle_label") == "Resume"


def test_a_command_is_sent_then_done(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    write_daemon_state(db, **DAEMON_STATE)
    post(signed_in, "/command", command="skip")
    assert field(signed_in.get("/").get_data(as_text=True), "command") == "Skip: sent, waiting for the player"
    assert contract.take_commands(db) == [Command.SKIP]  # what the daemon does
    assert signed_in.get("/api/state").get_json()["display"]["command"] == "Skip: done"


def test_volume_is_stored_and_sent(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    write_daemon_state(db, **DAEMON_STATE)
    assert '<output id="volume-value" for="volume">80</output>' in signed_in.get("/").get_data(as_text=True)
    assert post(signed_in, "/volume", volume="35").status_code == 302
    assert contract.read_settings(db).volume == 35
    assert contract.take_commands(db) == [Command.VOLUME]
    page = signed_in.get("/").get_data(as_text=True)
    assert 'type="range" min="0" max="100" step="5" value="35"' in page


def test_elapsed_and_total_time(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    track = upsert_track(db, title="Clair de Lune", artist="Debussy", path="/c.ogg", valence=0.3, arousal=-0.5,
                         duration_s=200.0)
    write_daemon_state(db, **{**DAEMON_STATE, "now_playing": {**NOW_PLAYING, "track_id": track,
                                                             "started_at": time.time() - 65}})
    assert field(signed_in.get("/").get_data(as_text=True), "time") in ("1:05 / 3:20", "1:06 / 3:20")


def test_history_with_faces_before_and_after_and_like_dislike(signed_in: FlaskClient,
                                                              db: sqlite_utils.Database) -> None:
    track = upsert_track(db, title="Moon River", artist="Henry Mancini", path="/m.ogg", valence=0.2, arousal=-0.3)
    ended = int(db.table("history").insert({
        "track_id": track, "started_at": time.time() - 400, "ended_at": time.time() - 200, "outcome": "ended",
        "emotion": "sad", "valence": -0.6, "arousal": -0.3, "end_emotion": "neutral", "end_valence": 0.0,
        "end_arousal": 0.0}).last_rowid)
    playing = int(db.table("history").insert({"track_id": track, "started_at": time.time() - 100,
                                              "emotion": "happy", "valence": 0.5, "arousal": 0.3}).last_rowid)
    page = signed_in.get("/").get_data(as_text=True)
    row = re.search(rf'<li id="play-{ended}".*?</li>', page, re.S)
    assert row and "played to the end" in row.group(0)
    assert re.search(r'<span class="before">sad</span>\s*→ <span class="after">neutral</span>', row.group(0))
    current = re.search(rf'<li id="play-{playing}".*?</li>', page, re.S)
    assert current and '<span class="after">—</span>' in current.group(0) and "playing now" in current.group(0)
    response = post(signed_in, "/feedback", play=str(ended), liked="like")
    assert response.headers["Location"].endswith(f"#play-{ended}")
    post(signed_in, "/feedback", play=str(ended), liked="dislike")
    assert db.execute("SELECT liked FROM feedback WHERE history_id = ?", [ended]).fetchone()[0] == -1
    row = re.search(rf'<li id="play-{ended}".*?</li>', signed_in.get("/").get_data(as_text=True), re.S)
    assert row and 'value="dislike" class="dislike" aria-pressed="true"' in row.group(0)
    assert post(signed_in, "/feedback", play=str(ended), liked="love").status_code == 400


def test_the_mood_picture_draws_the_day(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    empty = signed_in.get("/").get_data(as_text=True)
    assert "No face readings yet today." in empty and 'class="latest"' not in empty
    track = upsert_track(db, title="Moon River", artist="Henry Mancini", path="/m.ogg", valence=0.2, arousal=-0.3)
    for minutes_ago, valence in ((30, -0.6), (20, -0.3), (10, 0.1)):
        db.table("history").insert({"track_id": track, "started_at": time.time() - 60 * minutes_ago,
                                    "emotion": "sad", "valence": valence, "arousal": -0.2,
                                    "trace": json.dumps([[60, valence + 0.05, -0.1]])})
    page = signed_in.get("/").get_data(as_text=True)
    assert 'data-readings="6"' in page
    plane = re.search(r'<svg class="mood-plane".*?</svg>', page, re.S)
    timeline = re.search(r'<svg class="mood-time".*?</svg>', page, re.S)
    assert plane and timeline
    assert plane.group(0).count('class="reading"') == 5 and 'class="latest"' in plane.group(0)
    assert '<polyline class="path"' in plane.group(0)
    assert '<polyline class="valence"' in timeline.group(0) and '<polyline class="arousal"' in timeline.group(0)
    assert "6 face readings from" in page


def test_more_search_results_on_request(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    for index in range(21):
        upsert_track(db, title=f"Rain Song {index}", artist="Band", path=f"/r{index}.ogg", valence=0.0, arousal=0.0)
    page = post(signed_in, "/seed", seed="rain").get_data(as_text=True)
    assert page.count('class="choice"') == 8 and 'id="more-choices"' in page
    assert 'action="/seed#choices"' in page
    page = post(signed_in, "/seed", seed="rain", shown="8").get_data(as_text=True)
    assert page.count('class="choice"') == 16 and 'data-first-new="8"' in page
    page = post(signed_in, "/seed", seed="rain", shown="16").get_data(as_text=True)
    assert page.count('class="choice"') == 21 and 'id="more-choices"' not in page
    assert contract.read_settings(db).seed is None


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_a_manifest_and_icons_for_the_home_screen(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page and 'rel="apple-touch-icon"' in page
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200, icon
        if icon["type"] == "image/png":
            assert png_size(image.data) == tuple(int(x) for x in icon["sizes"].split("x"))


def test_a_command_not_taken_says_so_and_leaves_the_page_after_a_minute() -> None:
    sent = SentCommand(1, "skip", 1000.0, None)
    assert command_text(sent, now=1005.0) == "Skip: sent, waiting for the player"
    assert command_text(sent, now=1011.0) == "Skip: not taken: the player did not answer"
    assert command_text(sent, now=1061.0) == ""
    assert command_text(SentCommand(2, "reboot", 1000.0, None), now=1001.0) == ""


def test_the_song_playing_is_said_in_words_where_it_sits(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    """Issue 29: what the device hears in the song, in words, beside its title; nothing for a song without
    a point, and nothing when nothing plays."""
    tense = {**NOW_PLAYING, "valence": -0.6, "arousal": 0.7}
    write_daemon_state(db, **{**DAEMON_STATE, "now_playing": tense})
    assert field(signed_in.get("/").get_data(as_text=True), "sounds") == "Sounds tense"
    calm = {**NOW_PLAYING, "valence": 0.3, "arousal": -0.25}
    write_daemon_state(db, **{**DAEMON_STATE, "now_playing": calm})
    assert signed_in.get("/api/state").get_json()["display"]["sounds"] == "Sounds a little calm and warm"
    write_daemon_state(db, **{**DAEMON_STATE, "now_playing": {**NOW_PLAYING, "valence": None, "arousal": None}})
    assert field(signed_in.get("/").get_data(as_text=True), "sounds") == ""
