"""What the page tests share: the daemon's state as it writes it, and a signed-in test client's forms."""

from __future__ import annotations

import re
from typing import Any

import sqlite_utils
from flask.testing import FlaskClient

from device import contract
from device.contract import NowPlaying, PlayerState

NOW_PLAYING = {
    "track_id": 1,
    "title": "Clair de Lune",
    "artist": "Debussy",
    "valence": 0.3,
    "arousal": -0.5,
    "va_source": "features",
    "started_at": 1700000000.0,
    "collection": None,  # the listener's music (device.catalog.STARTER: a built-in piece)
}
DAEMON_STATE = {  # as the daemon writes it (device.contract.write_status) and /api/state returns it
    "status": "playing",
    "now_playing": NOW_PLAYING,
    "emotion": {"label": "sad", "confidence": 0.71, "valence": -0.6, "arousal": -0.3, "present": True},
    "decision": {
        "intent": "enhance",
        "target": {"valence": -0.2, "arousal": -0.1},
        "reason": "your face has looked sad for three songs, so the music lifts a step",
    },
}


def seed_setting(db: sqlite_utils.Database) -> dict | None:
    seed = contract.read_settings(db).seed
    return None if seed is None else {"track_id": seed.track_id, "title": seed.title, "artist": seed.artist,
                                      "query": seed.query}


def write_daemon_state(db: sqlite_utils.Database, status: str | None = None, message: str = "",
                       now_playing: dict | None = None, **parts: dict) -> None:
    """What the daemon writes, through the contract both sides use."""
    contract.write_status(db, state=PlayerState(status) if status else None, message=message,
                          now_playing=NowPlaying(**now_playing) if now_playing else None, **parts)


def csrf_of(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def post(client: FlaskClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf": csrf_of(client), **data})
