"""The calibration contract: the page's request and cancel, the daemon's progress, both ways through SQLite."""

from __future__ import annotations

import sqlite_utils

from device import contract
from device.contract import CalibrationPhase, CalibrationProgress
from device.contract.keyvalue import write_values


def test_a_request_is_taken_once_and_its_progress_is_read_back(db: sqlite_utils.Database) -> None:
    assert contract.read_calibration(db) == (None, None)
    assert contract.new_calibration_request(db) is None
    request = contract.request_calibration(db, "Anna", ["happy", "sad"])
    assert contract.read_calibration(db) == (request, None)  # the page says "waiting for the device"
    assert contract.new_calibration_request(db) == request
    progress = CalibrationProgress(request.id, CalibrationPhase.COLLECTING, person="Anna", expressions=("happy", "sad"),
                                   expression="happy", hint="smile", round=1, step=1, steps=4, per_round=10,
                                   kept={"happy": [3, 0], "sad": [0, 0]}, advice="more light on your face")
    contract.write_calibration_progress(db, progress)
    assert contract.new_calibration_request(db) is None  # taken: its progress names it
    _, read = contract.read_calibration(db)
    assert read is not None and read.written_at > 0
    assert read == CalibrationProgress(**{**progress.__dict__, "written_at": read.written_at})

    newer = contract.request_calibration(db, "listener", ["angry", "fear"])
    assert newer.id != request.id
    assert contract.read_calibration(db) == (newer, None)  # the old progress belongs to the old request
    assert contract.new_calibration_request(db) == newer


def test_cancel_before_and_after_the_daemon_took_it(db: sqlite_utils.Database) -> None:
    request = contract.request_calibration(db, "Anna", ["happy", "sad"])
    assert not contract.cancel_calibration(db, "another id")
    assert contract.cancel_calibration(db, request.id)
    assert contract.new_calibration_request(db) is None  # never started
    latest, progress = contract.read_calibration(db)
    assert latest is not None and latest.cancelled_at is not None
    assert progress is not None and progress.phase is CalibrationPhase.CANCELLED

    second = contract.request_calibration(db, "Anna", ["happy", "sad"])
    contract.write_calibration_progress(db, CalibrationProgress(second.id, CalibrationPhase.GET_READY))
    assert contract.cancel_calibration(db, second.id)
    read = contract.read_calibration_request(db)
    assert read is not None and read.cancelled_at is not None  # the daemon sees it on its next tick


def test_what_the_other_process_wrote_badly_reads_as_absent(db: sqlite_utils.Database) -> None:
    write_values(db, "calibration", {"request": {"id": "x", "person": "Anna", "expressions": "happy"},
                                     "progress": {"request_id": "x", "phase": "dancing"}})
    assert contract.read_calibration_request(db) is None
    assert contract.read_calibration_progress(db) is None
    assert contract.new_calibration_request(db) is None
