"""The phone page through Flask's test client, against a real database in a temporary state dir."""

from __future__ import annotations

import re

import pytest
import sqlite_utils
from flask.testing import FlaskClient

from device import contract
from device.catalog.tracks import STARTER, upsert_track
from device.config import Config
from device.contract import Command
from tests.webconfig.pages import DAEMON_STATE, NOW_PLAYING, csrf_of, post, seed_setting, write_daemon_state
from webconfig import create_app

# --- the PIN --------------------------------------------------------------------------------------


def test_pages_need_the_pin(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert client.get("/api/state").status_code == 401


def test_wrong_pin_is_refused_with_a_message(client: FlaskClient) -> None:
    response = client.post("/login", data={"pin": "0000", "csrf": csrf_of(client, "/login")})
    assert response.status_code == 401
    assert "Wrong PIN" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_right_pin_shows_the_page(signed_in: FlaskClient) -> None:
    response = signed_in.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="viewport"' in page
    assert "Your song" in page
    assert "http://" not in page and "https://" not in page  # no external assets


def test_a_new_pin_signs_every_phone_out(config: Config, signed_in: FlaskClient) -> None:
    cookie = signed_in.get_cookie("emotune_session")
    assert cookie is not None
    other = create_app(config.replace_section("web", pin="9876")).test_client()
    other.set_cookie("emotune_session", cookie.value)
    assert other.get("/").status_code == 302


# --- CSRF -------------------------------------------------------------------------------------------


def test_forms_without_the_csrf_token_are_refused(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    assert signed_in.post("/command", data={"command": "skip"}).status_code == 400
    response = signed_in.post("/command", data={"command": "skip", "csrf": "forged"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert db["commands"].count == 0


def test_login_needs_the_csrf_token(client: FlaskClient) -> None:
    assert client.post("/login", data={"pin": "4321"}).status_code == 400
    assert client.get("/").status_code == 302


# --- the seed song ----------------------------------------------------------------------------------


def test_a_clear_match_becomes_the_seed(
    signed_in: FlaskClient, db: sqlite_utils.Database, tracks: dict[str, int]
) -> None:
    response = post(signed_in, "/seed", seed="clair de lune")
    assert response.status_code == 302
    seed = seed_setting(db)
    assert seed == {
        "track_id": tracks["clair"],
        "title": "Clair de Lune",
        "artist": "Debussy",
        "query": "clair de lune",
    }
    page = signed_in.get("/").get_data(as_text=True)
    assert "Seed song set: Clair de Lune — Debussy" in page
    assert 'data-field="seed">Clair de Lune — Debussy<' in page


def test_an_exact_title_wins_over_longer_ones(
    signed_in: FlaskClient, db: sqlite_utils.Database, tracks: dict[str, int]
) -> None:
    post(signed_in, "/seed", seed="Yesterday")  # also matches "Yesterday Once More"
    assert seed_setting(db)["track_id"] == tracks["yesterday"]  # metadata-only is fine


def test_an_unknown_song_keeps_the_old_seed(
    signed_in: FlaskClient, db: sqlite_utils.Database, tracks: dict[str, int]
) -> None:
    post(signed_in, "/seed", seed="moon river")
    response = post(signed_in, "/seed", seed="Bohemian Rhapsody")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "no song matches “bohemian rhapsody”" in page.lower()
    assert seed_setting(db)["track_id"] == tracks["river"]


def test_several_matches_offer_choices(
    signed_in: FlaskClient, db: sqlite_utils.Database, tracks: dict[str, int]
) -> None:
    response = post(signed_in, "/seed", seed="moon")
    page = response.get_data(as_text=True)
    assert "2 songs match “moon”. Which one?" in page
    assert "Moon River — Henry Mancini" in page
    assert "Moonlight Sonata — Beethoven" in page
    assert "Clair de Lune" not in page
    assert seed_setting(db) is None
    chosen = post(signed_in, "/seed/pick", track_id=str(tracks["moonlight"]), query="moon")
    assert chosen.status_code == 302
    assert seed_setting(db) == {
        "track_id": tracks["moonlight"],
        "title": "Moonlight Sonata",
        "artist": "Beethoven",
        "query": "moon",
    }


def test_picking_a_song_that_is_gone(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    post(signed_in, "/seed/pick", track_id="999", query="x")
    assert seed_setting(db) is None
    assert "not in the catalog" in signed_in.get("/").get_data(as_text=True)


# --- controls and settings --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["skip", "pause", "resume"])
def test_buttons_push_commands(signed_in: FlaskClient, db: sqlite_utils.Database, command: str) -> None:
    write_daemon_state(db, **DAEMON_STATE)  # a player that answers
    assert post(signed_in, "/command", command=command).status_code == 302
    assert contract.take_commands(db) == [Command(command)]


def test_unknown_commands_are_not_pushed(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    post(signed_in, "/command", command="reboot")
    assert db["commands"].count == 0


def test_intent_override_is_stored(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    post(signed_in, "/intent", intent="calm")
    assert contract.read_settings(db).intent_override == "calm"
    assert '<option value="calm" selected>' in signed_in.get("/").get_data(as_text=True)
    post(signed_in, "/intent", intent="auto")
    assert contract.read_settings(db).intent_override is None
    post(signed_in, "/intent", intent="party")
    assert contract.read_settings(db).intent_override is None


def test_camera_switch_is_stored(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    post(signed_in, "/camera", camera="off")
    assert contract.read_settings(db).camera_enabled is False
    post(signed_in, "/camera", camera="on")
    assert contract.read_settings(db).camera_enabled is True


# --- emotune's built-in pieces ---------------------------------------------------------------------


def add_starter(db: sqlite_utils.Database) -> int:
    """A piece as `emotune catalog starter` adds it."""
    return upsert_track(db, title="Morning Parade", artist="emotune demo ensemble", path="/s/parade.ogg",
                        valence=0.5, arousal=0.4, va_source="audio", collection=STARTER)


def starter_card(page: str) -> str:
    found = re.search(r'<section class="card" id="starter-card">(.*?)</section>', page, re.S)
    return found.group(1) if found else ""


def test_no_built_in_card_without_built_in_pieces(signed_in: FlaskClient, tracks: dict[str, int]) -> None:
    assert 'id="starter-card"' not in signed_in.get("/").get_data(as_text=True)


def test_built_in_pieces_alone_are_explained_with_the_music_folder_and_cannot_be_hidden(
    signed_in: FlaskClient, db: sqlite_utils.Database, config: Config
) -> None:
    add_starter(db)
    upsert_track(db, title="Yesterday", artist="The Beatles", valence=0.1, arousal=0.1)  # no file: not music to play
    card = starter_card(signed_in.get("/").get_data(as_text=True))
    assert "You are hearing emotune's built-in pieces." in card
    assert f"<code>{config.state_dir / 'music'}</code> on the device" in card
    assert "new files play within the hour" in card
    assert "<form" not in card  # nothing of their own yet: nothing to hide them for
    response = post(signed_in, "/starter", starter="hide")
    assert response.status_code == 302
    assert contract.read_settings(db).starter_hidden is False
    assert "no music of your own" in signed_in.get("/").get_data(as_text=True)
    contract.set_starter_hidden(db, True)  # hidden earlier, when there was music; now there is none
    card = starter_card(signed_in.get("/").get_data(as_text=True))
    assert "You are hearing emotune's built-in pieces." in card and "keep playing until there is" in card


def test_once_real_music_exists_the_built_in_pieces_can_be_hidden_and_shown_again(
    signed_in: FlaskClient, db: sqlite_utils.Database, tracks: dict[str, int]
) -> None:
    add_starter(db)
    card = starter_card(signed_in.get("/").get_data(as_text=True))
    assert "your own music and emotune's 1 built-in piece. " in card
    assert 'value="hide" id="starter-toggle">Hide the built-in pieces</button>' in card
    assert signed_in.post("/starter", data={"starter": "hide"}).status_code == 400  # CSRF like every form
    assert contract.read_settings(db).starter_hidden is False
    assert post(signed_in, "/starter", starter="hide").status_code == 302
    assert contract.read_settings(db).starter_hidden is True
    page = signed_in.get("/").get_data(as_text=True)
    assert "Built-in pieces hidden: only your own music plays." in page
    card = starter_card(page)
    assert "only your own music plays" in card
    assert 'value="show" id="starter-toggle">Play the built-in pieces again</button>' in card
    assert signed_in.get("/api/state").get_json()["settings"]["starter_hidden"] is True
    post(signed_in, "/starter", starter="show")
    assert contract.read_settings(db).starter_hidden is False
    post(signed_in, "/starter", starter="delete")
    assert contract.read_settings(db).starter_hidden is False


def test_a_playing_built_in_piece_is_labelled(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    piece = add_starter(db)
    write_daemon_state(db, **DAEMON_STATE)
    assert 'data-field="kind"></p>' in signed_in.get("/").get_data(as_text=True)  # the listener's song: no label
    playing = {**NOW_PLAYING, "track_id": piece, "title": "Morning Parade", "artist": "emotune demo ensemble",
               "collection": STARTER}
    write_daemon_state(db, now_playing=playing)
    assert 'data-field="kind">built-in piece</p>' in signed_in.get("/").get_data(as_text=True)
    assert signed_in.get("/api/state").get_json()["display"]["kind"] == "built-in piece"


# --- what the daemon wrote ----------------------------------------------------------------------------


def test_api_state_returns_the_daemon_state(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    write_daemon_state(db, **DAEMON_STATE)
    data = signed_in.get("/api/state").get_json()
    assert {key: data["state"][key] for key in DAEMON_STATE} == DAEMON_STATE
    assert data["state"]["alive"] is True  # it just wrote: a running daemon
    assert data["settings"] == {"seed": None, "intent_override": None, "camera_enabled": True,
                                "starter_hidden": False, "volume": None}
    assert data["display"]["title"] == "Clair de Lune"
    assert data["display"]["face_now"] == "sad (71 %)"


def test_main_page_shows_playing_emotion_and_reason(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    write_daemon_state(db, **DAEMON_STATE)
    page = signed_in.get("/").get_data(as_text=True)
    for text in ("Playing", "Clair de Lune", "Debussy", "sad (71 %)", "lifting your mood", "lifts a step"):
        assert text in page


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        ({}, "Waiting for the player"),
        ({"status": "nobody", "emotion": {"label": "neutral", "confidence": 0.2, "present": False}}, "No face in view"),
        ({"status": "error", "message": "camera unplugged"}, "Error: camera unplugged"),
    ],
)
def test_main_page_explains_odd_states(
    signed_in: FlaskClient, db: sqlite_utils.Database, state: dict, shown: str
) -> None:
    write_daemon_state(db, **state)
    assert shown in signed_in.get("/").get_data(as_text=True)


def test_pages_forbid_outside_scripts(signed_in: FlaskClient) -> None:
    response = signed_in.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and f'<script nonce="{nonce.group(1)}">' in response.get_data(as_text=True)
