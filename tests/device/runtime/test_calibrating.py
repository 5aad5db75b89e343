"""The daemon's side of a calibration without a camera: requests taken, refused, cancelled, left behind by
an earlier run; the check's outcome or failure written for the page (fake faces, a fake fit)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sqlite_utils

from device import contract
from device.calibration.faces import PersonalDataError
from device.calibration.session import Timings
from device.config import Config, FacesConfig
from device.contract import CalibrationPhase, CalibrationProgress
from device.faces import FaceDetector
from device.runtime.calibrating import CAMERA_OFF, RESTARTED, Calibrating, face_lister
from device.tracking import TrackedFaceFinder
from tests.device.test_calibration_session import FakeFaces

QUICK = Timings(get_ready_s=0, per_round=2, interval_s=0, round_gap_s=1, step_timeout_s=5)
FRAME = np.zeros((480, 640, 3), np.uint8)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.25  # each look at the clock is a quarter second later: the daemon's tick
        return self.now


def calibrating(config: Config, db: sqlite_utils.Database, fit: Any = None) -> Calibrating:
    def fitted(config: Config, person: str) -> dict[str, Any]:
        return {"person": person, "installed": True, "reason": "it cleared the rule; installed"}

    return Calibrating(config, db, FakeFaces(), timings=QUICK, fit=fit or fitted, clock=Clock())


def run_to_the_end(runner: Calibrating, limit: int = 500) -> CalibrationProgress:
    request = runner.pending()
    assert request is not None and runner.start(request)
    for _ in range(limit):
        if not runner.step(FRAME):
            break
    progress = contract.read_calibration_progress(runner.db)
    assert progress is not None
    return progress


def test_a_request_runs_to_the_decision(config: Config, db: sqlite_utils.Database) -> None:
    contract.request_calibration(db, "Anna", ["happy", "sad"])
    progress = run_to_the_end(calibrating(config, db))
    assert progress.phase is CalibrationPhase.DONE and progress.result is not None
    assert progress.result["installed"] and progress.message == "it cleared the rule; installed"
    assert progress.kept == {"happy": [2, 2], "sad": [2, 2]}
    assert contract.new_calibration_request(db) is None  # taken once


def test_faces_that_do_not_do_end_as_failed_with_the_reason(config: Config, db: sqlite_utils.Database) -> None:
    def refuse(config: Config, person: str) -> dict[str, Any]:
        raise PersonalDataError("too few faces for some emotions (at least 10 each)")

    contract.request_calibration(db, "Anna", ["happy", "sad"])
    progress = run_to_the_end(calibrating(config, db, refuse))
    assert progress.phase is CalibrationPhase.FAILED and progress.message.startswith("too few faces")


def test_what_cannot_start_is_answered_at_once(config: Config, db: sqlite_utils.Database) -> None:
    runner = calibrating(config, db)
    request = contract.request_calibration(db, "Anna", ["happy", "sad"])
    assert not runner.start(request, camera_enabled=False)
    progress = contract.read_calibration_progress(db)
    assert progress is not None and progress.phase is CalibrationPhase.FAILED and progress.message == CAMERA_OFF
    bad = contract.request_calibration(db, "a/b", ["happy", "sad"])
    assert not runner.start(bad)
    progress = contract.read_calibration_progress(db)
    assert progress is not None and "cannot be used" in progress.message


def test_cancel_on_the_page_and_a_run_left_unfinished(config: Config, db: sqlite_utils.Database) -> None:
    runner = calibrating(config, db)
    request = contract.request_calibration(db, "Anna", ["happy", "sad"])
    assert runner.start(request) and runner.step(FRAME)
    contract.cancel_calibration(db, request.id)
    assert not runner.step(FRAME)
    progress = contract.read_calibration_progress(db)
    assert progress is not None and progress.phase is CalibrationPhase.CANCELLED

    again = contract.request_calibration(db, "Anna", ["happy", "sad"])
    assert runner.start(again) and runner.step(FRAME)  # and then the daemon died
    after_restart = calibrating(config, db)
    assert after_restart.pending() is None
    progress = contract.read_calibration_progress(db)
    assert progress is not None and progress.phase is CalibrationPhase.FAILED and progress.message == RESTARTED


def test_the_face_lister_behind_the_daemons_face_finder() -> None:
    detector = FaceDetector(FacesConfig())
    assert face_lister(detector) is detector
    assert face_lister(TrackedFaceFinder(detector)) is detector  # following one face cannot see a second
    with pytest.raises(TypeError, match="cannot list the faces"):
        face_lister(object())  # type: ignore[arg-type]
