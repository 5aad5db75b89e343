"""The page's "Teach emotune your face" through Flask's test client: the form, what a start, a cancel and a
rollback write or refuse, and the JSON the section polls."""

from __future__ import annotations

import re

import sqlite_utils
from flask.testing import FlaskClient

from device import EMOTION_LABELS, contract
from device.calibration.store import head_path, install_head
from device.config import Config
from device.contract import CalibrationPhase, CalibrationProgress, PlayerState
from tests.webconfig.pages import csrf_of


def post(client: FlaskClient, url: str, data: dict[str, object]) -> tuple[int, str]:
    response = client.post(url, data={**data, "csrf": csrf_of(client, "/")})
    return response.status_code, response.get_data(as_text=True)


def daemon_alive(db: sqlite_utils.Database) -> None:
    contract.write_status(db, state=PlayerState.PLAYING)


def test_the_form_offers_every_expression_for_the_one_listener(signed_in: FlaskClient) -> None:
    html = signed_in.get("/").get_data(as_text=True)
    assert "Teach emotune your face" in html
    assert re.search(r'id="teach-person"[^>]*\n?\s*value="listener"', html)
    assert len(re.findall(r'name="expressions" value="\w+"\s+checked', html)) == len(EMOTION_LABELS)
    assert "worried (fear)" in html and 'id="teach-rollback"' not in html  # nothing to go back to yet
    assert signed_in.get("/api/calibration").get_json()["phase"] == "idle"


def test_what_cannot_start_says_why_in_the_section(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    code, html = post(signed_in, "/calibration/start", {"person": "Anna", "expressions": ["happy"]})
    assert code == 400 and "Choose at least 2 expressions to teach." in html
    assert re.search(r'value="happy"\s+checked', html)
    assert not re.search(r'value="sad"\s+checked', html)  # drawn again as it was ticked
    code, html = post(signed_in, "/calibration/start", {"person": "../etc", "expressions": ["happy", "sad"]})
    assert code == 400 and "The name &#39;../etc&#39; cannot be used" in html
    code, html = post(signed_in, "/calibration/start", {"person": "Anna", "expressions": ["happy", "sad"]})
    assert code == 400 and "The player is not answering" in html
    assert contract.read_calibration_request(db) is None


def test_start_follow_and_cancel(signed_in: FlaskClient, db: sqlite_utils.Database) -> None:
    daemon_alive(db)
    code, _ = post(signed_in, "/calibration/start", {"person": " Anna ", "expressions": ["sad", "happy"]})
    assert code == 302
    request = contract.read_calibration_request(db)
    assert request is not None and request.person == "Anna" and request.expressions == ("happy", "sad")
    waiting = signed_in.get("/api/calibration").get_json()
    assert waiting["phase"] == "waiting" and waiting["active"] and waiting["headline"] == "Waiting for the device…"
    code, html = post(signed_in, "/calibration/start", {"person": "Anna", "expressions": ["sad", "happy"]})
    assert code == 400 and "A calibration is running" in html

    contract.write_calibration_progress(db, CalibrationProgress(
        request.id, CalibrationPhase.COLLECTING, person="Anna", expressions=("happy", "sad"), expression="happy",
        hint="smile, a real one that reaches your eyes", round=1, step=1, steps=4, per_round=10,
        kept={"happy": [4, 0], "sad": [0, 0]}, advice="more light on your face"))
    live = signed_in.get("/api/calibration").get_json()
    assert live["headline"] == "Show a happy face and hold it"
    assert live["hint"] == "Smile, a real one that reaches your eyes."
    assert live["count"] == "Round 1 of 2, expression 1 of 4: 4 of 10 pictures"
    assert live["advice"] == "more light on your face" and live["bar"] == 0.1
    assert [row["text"] for row in live["rows"]] == ["happy: 4 + 0 of 20", "sad: 0 + 0 of 20"]
    html = signed_in.get("/").get_data(as_text=True)
    assert "Show a happy face and hold it" in html and 'id="teach-start" hidden' in html

    code, _ = post(signed_in, "/calibration/cancel", {"request": request.id})
    assert code == 302
    latest = contract.read_calibration_request(db)
    assert latest is not None and latest.cancelled_at is not None  # the daemon stops on its next tick
    contract.write_calibration_progress(db, CalibrationProgress(request.id, CalibrationPhase.CANCELLED,
                                                                message="Stopped. Nothing was kept."))
    ended = signed_in.get("/api/calibration").get_json()
    assert ended["active"] is False and ended["headline"] == "Cancelled"


def test_rollback_from_the_page(signed_in: FlaskClient, db: sqlite_utils.Database, config: Config) -> None:
    install_head(b"first", config.state_dir, "Anna")
    request = contract.request_calibration(db, "Anna", ["happy", "sad"])
    contract.write_calibration_progress(db, CalibrationProgress(
        request.id, CalibrationPhase.DONE, person="Anna", expressions=("happy", "sad"),
        result={"installed": True, "reason": "… so it cleared the rule; installed",
                "decision": {"n": 20, "after_right": 17, "before_right": 11}}))
    html = signed_in.get("/").get_data(as_text=True)
    assert "It read 17 of your 20 test pictures right, against 11 before." in html
    assert "Go back to no calibration: the general reading of faces." in html
    code, _ = post(signed_in, "/calibration/rollback", {"person": "Anna"})
    assert code == 302
    assert not head_path(config.state_dir, "Anna").exists()
    html = signed_in.get("/").get_data(as_text=True)
    assert "Back to the general reading of faces: no calibration is used now." in html
    code, _ = post(signed_in, "/calibration/rollback", {"person": "Anna"})  # again: undone
    assert head_path(config.state_dir, "Anna").read_bytes() == b"first"
    code, html = post(signed_in, "/calibration/rollback", {"person": "Bob"})
    assert code == 400 and "Nothing to roll back to for Bob" in html


def test_no_rollback_while_a_calibration_runs(signed_in: FlaskClient, db: sqlite_utils.Database,
                                              config: Config) -> None:
    install_head(b"first", config.state_dir)
    contract.request_calibration(db, "listener", ["happy", "sad"])
    code, html = post(signed_in, "/calibration/rollback", {"person": "listener"})
    assert code == 400 and "A calibration is running" in html
    assert head_path(config.state_dir).read_bytes() == b"first"


def test_forget_a_person_only_when_confirmed_and_only_them(signed_in: FlaskClient, config: Config) -> None:
    from device.calibration.store import people, person_faces_dir, remember_name

    for name in ("Anna", "Ben"):
        (person_faces_dir(config.state_dir, name) / "happy").mkdir(parents=True)
        remember_name(config.state_dir, name)
    html = signed_in.get("/").get_data(as_text=True)
    assert '<option value="Anna">Anna</option>' in html and '<option value="Ben">Ben</option>' in html
    code, html = post(signed_in, "/calibration/forget", {"person": "Anna"})
    assert code == 400 and "Tick the box to confirm" in html and "Anna" in people(config.state_dir)
    code, _ = post(signed_in, "/calibration/forget", {"person": "Anna", "sure": "yes"})
    assert code == 302
    assert people(config.state_dir) == ["Ben"]
    assert "Forgot Anna" in signed_in.get("/").get_data(as_text=True)
    code, html = post(signed_in, "/calibration/forget", {"person": "Anna", "sure": "yes"})
    assert code == 400 and "knows nobody called" in html
