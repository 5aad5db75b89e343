"""The calibration session as a state machine: a fake clock, a fake face detector, real crops on disk."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from device.calibration.capture import ADVICE, HINTS, CaptureOptions, judge
from device.calibration.faces import capture_rounds, holdout_split, load_personal_faces
from device.calibration.session import CalibrationSession, Timings
from device.contract import CalibrationPhase as Phase
from device.contract import CalibrationProgress
from device.contract.calibration import check_expressions
from device.demo.faces import load_fixture
from device.faces import Face

TIMINGS = Timings(get_ready_s=3.0, per_round=10, interval_s=0.5, round_gap_s=60.0, step_timeout_s=20.0)
FRAME = np.zeros((480, 640, 3), np.uint8)  # the fake detector does not look at it
TICK_S = 0.25  # the daemon's tick at 4 frames a second


class FakeFaces:
    """detect_all: one clear face (the next of the fixture's faces capture keeps), or as `mode` says:
    "none" (nobody there), "dark" (a face lit at a tenth), "two" (two clear faces)."""

    def __init__(self) -> None:
        options = CaptureOptions(emotion="happy")
        big = [cv2.resize(face, (144, 144), interpolation=cv2.INTER_CUBIC) for face in load_fixture().images[:60]]
        self.crops = [crop for crop in big if judge([self._face(crop)], None, options)[0] is not None]
        self.mode = "face"
        self.calls = 0

    @staticmethod
    def _face(crop: np.ndarray) -> Face:
        return Face(box=(100, 100, 244, 244), score=1.2, crop=crop)

    def detect_all(self, frame: np.ndarray) -> list[Face]:
        self.calls += 1
        crop = self.crops[self.calls % len(self.crops)]
        if self.mode == "none":
            return []
        if self.mode == "dark":
            return [self._face((crop * 0.1).astype(np.uint8))]
        if self.mode == "two":
            return [self._face(crop), self._face(crop)]
        return [self._face(crop)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def stamp(self) -> str:
        """A round's name from this clock, as capture's wall-clock stamp would be (one per second)."""
        return time.strftime("%Y%m%d-%H%M%S", time.localtime(1_780_000_000 + self.now))


def run(session: CalibrationSession, clock: Clock, until: set[Phase], limit_s: float = 600.0,
        seen: list[tuple[float, Phase]] | None = None) -> Phase:
    """Tick the session every TICK_S of the fake clock until its phase is in `until`."""
    end = clock.now + limit_s
    while clock.now < end:
        phase = session.tick(FRAME, clock.now)
        if seen is not None and (not seen or seen[-1][1] is not phase):
            seen.append((clock.now, phase))
        if phase in until:
            return phase
        clock.now += TICK_S
    raise AssertionError(f"still {session.phase} after {limit_s} s")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def faces() -> FakeFaces:
    return FakeFaces()


def new_session(tmp_path: Path, clock: Clock, faces: FakeFaces, expressions: list[str],
                timings: Timings = TIMINGS) -> CalibrationSession:
    return CalibrationSession("Anna", expressions, tmp_path / "faces", faces, clock.now, timings=timings,
                              stamp=clock.stamp)


def test_two_rounds_of_each_expression_a_minute_apart_then_checking(tmp_path: Path, clock: Clock,
                                                                   faces: FakeFaces) -> None:
    session = new_session(tmp_path, clock, faces, ["sad", "happy"])
    assert [(step.expression, step.round) for step in session.plan] == [
        ("happy", 1), ("sad", 1), ("happy", 2), ("sad", 2)]  # the page's order does not matter
    seen: list[tuple[float, Phase]] = []
    assert run(session, clock, {Phase.CHECKING}, seen=seen) is Phase.CHECKING
    phases = [phase for _, phase in seen]
    assert phases[:4] == [Phase.GET_READY, Phase.COLLECTING, Phase.GET_READY, Phase.COLLECTING]
    assert Phase.RESTING in phases  # two expressions take well under a minute: a rest before round 2
    assert session.kept == {"happy": [10, 10], "sad": [10, 10]}

    collecting = [at for at, phase in seen if phase is Phase.COLLECTING]
    assert collecting[2] - collecting[0] >= 60.0  # happy's round 2 began a minute after its round 1
    assert collecting[3] - collecting[1] >= 60.0

    found = load_personal_faces(tmp_path / "faces")
    assert found.counts()["happy"] == found.counts()["sad"] == 20
    rounds = capture_rounds(found.paths)
    assert len(set(rounds.tolist())) == 4  # one capture round per expression per round
    split = holdout_split(np.asarray(found.labels), rounds, 0.25)
    assert len(split.held) == 20  # each expression's second round is held out whole


def test_countdown_rest_and_what_the_page_reads(tmp_path: Path, clock: Clock, faces: FakeFaces) -> None:
    session = new_session(tmp_path, clock, faces, ["happy", "neutral"])
    progress = session.progress("r1", clock.now)
    assert progress.phase is Phase.GET_READY and progress.seconds_left == 3.0
    assert progress.expression == "happy" and progress.hint == HINTS["happy"]
    assert (progress.round, progress.rounds, progress.step, progress.steps) == (1, 2, 1, 4)
    run(session, clock, {Phase.RESTING})
    rest = session.progress("r1", clock.now)
    assert rest.expression == "happy" and rest.round == 2  # what comes after the rest
    assert rest.seconds_left is not None and 30 < rest.seconds_left < 60
    assert rest.kept == {"happy": [10, 0], "neutral": [10, 0]}
    assert CalibrationProgress.from_json(rest.to_json()) == rest  # through the contract's JSON unchanged


def test_advice_while_frames_are_rejected_then_cleared_by_a_kept_face(tmp_path: Path, clock: Clock,
                                                                      faces: FakeFaces) -> None:
    session = new_session(tmp_path, clock, faces, ["happy", "sad"])
    run(session, clock, {Phase.COLLECTING})
    faces.mode = "dark"
    for _ in range(TIMINGS.advice_after):
        session.tick(FRAME, clock.now)
        clock.now += TICK_S
    assert session.progress("r").advice == ADVICE["too dark"] == "more light on your face"
    faces.mode = "two"
    for _ in range(6):
        session.tick(FRAME, clock.now)
        clock.now += TICK_S
    assert session.progress("r").advice == ADVICE["several faces"]
    faces.mode = "face"
    session.tick(FRAME, clock.now)
    assert session.progress("r").advice == ""
    assert session.kept["happy"][0] == 1


def test_no_face_for_the_timeout_fails_with_advice_and_keeps_nothing(tmp_path: Path, clock: Clock,
                                                                     faces: FakeFaces) -> None:
    session = new_session(tmp_path, clock, faces, ["happy", "sad"])
    while session.step is not None and session.step.expression == "happy":  # happy's round 1
        session.tick(FRAME, clock.now)
        clock.now += TICK_S
    assert len(load_personal_faces(tmp_path / "faces").labels) == 10  # happy's round 1
    faces.mode = "none"
    started = clock.now
    assert run(session, clock, {Phase.FAILED}) is Phase.FAILED
    assert clock.now - started == pytest.approx(TIMINGS.get_ready_s + TIMINGS.step_timeout_s, abs=2 * TICK_S)
    assert "face the camera" in session.message and "20 seconds" in session.message
    assert load_personal_faces(tmp_path / "faces").labels == []  # nothing half-done is left to fit on


def test_cancel_removes_this_sessions_crops_only(tmp_path: Path, clock: Clock, faces: FakeFaces) -> None:
    earlier = tmp_path / "faces" / "happy" / "20260101-120000-001.png"
    earlier.parent.mkdir(parents=True)
    cv2.imwrite(str(earlier), faces.crops[0][:48, :48])
    session = new_session(tmp_path, clock, faces, ["happy", "sad"])
    run(session, clock, {Phase.RESTING})
    assert len(load_personal_faces(tmp_path / "faces").labels) == 21
    session.cancel()
    assert session.phase is Phase.CANCELLED and "Nothing was kept" in session.message
    assert load_personal_faces(tmp_path / "faces").paths == [earlier]
    session.tick(FRAME, clock.now + 100)
    assert session.phase is Phase.CANCELLED  # finished stays finished


def test_the_checks_outcome(tmp_path: Path, clock: Clock, faces: FakeFaces) -> None:
    quick = Timings(get_ready_s=0, per_round=2, interval_s=0, round_gap_s=1, step_timeout_s=5)
    session = new_session(tmp_path, clock, faces, ["happy", "sad"], quick)
    run(session, clock, {Phase.CHECKING})
    session.cancel()
    assert session.phase is Phase.CHECKING  # too late to cancel: the fit is running
    session.fail("too few faces for some emotions")
    assert session.phase is Phase.FAILED and session.message == "too few faces for some emotions"
    assert len(load_personal_faces(tmp_path / "faces").labels) == 8  # collected whole: kept for next time

    again = new_session(tmp_path, clock, faces, ["happy", "sad"], quick)
    run(again, clock, {Phase.CHECKING})
    again.finish({"installed": True, "reason": "your own model reads … installed"})
    progress = again.progress("r2")
    assert progress.phase is Phase.DONE and progress.result == {"installed": True,
                                                                "reason": "your own model reads … installed"}
    assert progress.message.endswith("installed") and progress.expression is None


def test_bad_choices_are_one_line_errors() -> None:
    assert check_expressions(["surprise", "angry", "angry"]) == ["angry", "surprise"]
    with pytest.raises(ValueError, match="at least 2 expressions"):
        check_expressions(["happy"])
    with pytest.raises(ValueError, match="unknown expression 'joy'"):
        check_expressions(["happy", "joy"])
    with pytest.raises(ValueError, match="round_gap_s must be at least 1 s"):
        Timings(round_gap_s=0.5).validate()
    with pytest.raises(ValueError, match="per_round must be at least 1"):
        Timings(per_round=0).validate()
