"""Signing in and out: server-side sessions that signing out ends for good, and a PIN throttle per
client address that a stranger cannot turn against the owner's phone."""

from __future__ import annotations

import sqlite_utils
from flask import Flask
from flask.testing import FlaskClient

from device.config import Config
from tests.webconfig.pages import DAEMON_STATE, csrf_of, post, write_daemon_state
from webconfig import create_app
from webconfig.throttle import LoginThrottle, client_key

STRANGER, OWNER = "192.168.1.66", "192.168.1.20"


def sign_in(client: FlaskClient, pin: str = "4321", address: str = OWNER) -> int:
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/login", data={"pin": pin, "csrf": csrf_of(client, "/login")}).status_code


def test_signing_out_revokes_a_saved_cookie(app: Flask, signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    write_daemon_state(db, **DAEMON_STATE)
    saved = signed_in.get_cookie("emotune_session")
    assert saved is not None
    token = csrf_of(signed_in)
    assert post(signed_in, "/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("emotune_session", saved.value)
    assert thief.get("/api/state").status_code == 401
    assert thief.get("/").headers["Location"].endswith("/login")
    refused = thief.post("/command", data={"command": "skip", "csrf": token})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/login")
    assert db["commands"].count == 0
    assert db["web_sessions"].count == 0


def test_signing_in_again_keeps_other_phones_signed_in(app: Flask, signed_in: FlaskClient) -> None:
    other = app.test_client()
    assert sign_in(other) == 302
    post(other, "/logout")
    assert signed_in.get("/").status_code == 200


def test_a_session_survives_a_restart_but_not_a_new_pin(config: Config, signed_in: FlaskClient) -> None:
    saved = signed_in.get_cookie("emotune_session")
    assert saved is not None
    restarted = create_app(config).test_client()
    restarted.set_cookie("emotune_session", saved.value)
    assert restarted.get("/").status_code == 200
    new_pin = create_app(config.replace_section("web", pin="9876")).test_client()
    new_pin.set_cookie("emotune_session", saved.value)
    assert new_pin.get("/").status_code == 302


def test_a_stranger_guessing_cannot_lock_out_the_owner(config: Config, db: sqlite_utils.Database) -> None:
    stranger = create_app(config).test_client()
    for _ in range(5):
        assert sign_in(stranger, "1111", STRANGER) == 401
    refused = stranger.post("/login", data={"pin": "4321", "csrf": csrf_of(stranger, "/login")})
    assert refused.status_code == 429  # even the right PIN waits, from the guessing address
    assert "Try again in 30 seconds" in refused.get_data(as_text=True)
    owner = create_app(config).test_client()
    assert sign_in(owner, "4321", OWNER) == 302
    assert owner.get("/").status_code == 200


def test_the_block_outlives_a_restart(config: Config) -> None:
    stranger = create_app(config).test_client()
    for _ in range(5):
        sign_in(stranger, "1111", STRANGER)
    again = create_app(config).test_client()  # the page restarted
    assert sign_in(again, "4321", STRANGER) == 429


def test_the_right_pin_clears_an_address_and_one_ipv6_network_counts_as_one(config: Config) -> None:
    phone = create_app(config).test_client()
    for _ in range(4):
        assert sign_in(phone, "1111", "fd00::1") == 401
    assert sign_in(phone, "1111", "fd00::2") == 401  # the 5th miss of the same /64
    assert sign_in(phone, "4321", "fd00::3") == 429
    assert client_key("fd00::1") == client_key("fd00::ffff") == "fd00::/64"
    assert client_key("::ffff:192.168.1.9") == "192.168.1.9"
    other = create_app(config).test_client()
    for _ in range(4):
        sign_in(other, "1111", OWNER)
    assert sign_in(other, "4321", OWNER) == 302
    again = create_app(config).test_client()
    for _ in range(4):  # counted from zero again
        assert sign_in(again, "1111", OWNER) == 401


def test_the_block_doubles_and_is_forgotten_after_a_day(db: sqlite_utils.Database) -> None:
    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    left = [throttle.failed(db, STRANGER) for _ in range(5)]
    assert left == [4, 3, 2, 1, 0]
    assert throttle.wait_s(db, STRANGER) == 30
    throttle.failed(db, STRANGER)
    assert throttle.wait_s(db, STRANGER) == 60
    for _ in range(10):
        throttle.failed(db, STRANGER)
    assert throttle.wait_s(db, STRANGER) == 900  # at most 15 minutes
    assert throttle.wait_s(db, OWNER) == 0
    now[0] += 24 * 3600 + 1
    assert throttle.wait_s(db, STRANGER) == 0
    assert throttle.failed(db, STRANGER) == 4
