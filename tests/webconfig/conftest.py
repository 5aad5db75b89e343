"""Fixtures of the page tests: the app on this test's state dir, a client, a signed-in client, a catalog."""

from __future__ import annotations

import time

import pytest
import sqlite_utils
from flask import Flask
from flask.testing import FlaskClient

from device.catalog.tracks import upsert_track
from device.config import Config
from tests.webconfig.pages import csrf_of
from webconfig import create_app, views


@pytest.fixture(autouse=True)
def listening_day_began_hours_ago(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's listening day began 6 hours before each test, not at 04:00 local time, so readings and
    plays placed minutes ago are today's whatever the clock says (tests/webconfig/test_listening_day.py
    checks the real rule)."""
    monkeypatch.setattr(views, "listening_day_start", lambda now=None: (time.time() if now is None else now) - 6 * 3600)


@pytest.fixture
def tracks(db: sqlite_utils.Database) -> dict[str, int]:
    def add(title: str, artist: str, path: str | None = "/music/x.ogg") -> int:
        return upsert_track(db, title=title, artist=artist, path=path, valence=0.1, arousal=0.2, va_source="tags")

    return {
        "clair": add("Clair de Lune", "Debussy"),
        "yesterday": add("Yesterday", "The Beatles", path=None),  # metadata only: still a valid seed
        "yesterday_once": add("Yesterday Once More", "Carpenters"),
        "river": add("Moon River", "Henry Mancini"),
        "moonlight": add("Moonlight Sonata", "Beethoven"),
    }


@pytest.fixture
def app(config: Config) -> Flask:
    app = create_app(config)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def signed_in(client: FlaskClient) -> FlaskClient:
    response = client.post("/login", data={"pin": "4321", "csrf": csrf_of(client, "/login")})
    assert response.status_code == 302
    return client
