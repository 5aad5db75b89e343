"""When faces can be expected: a camera that sends nothing counts as silent after the listener's absence
timeout, so a camera that dies in front of a listener never reads as nobody there."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from device.config import MoodConfig
from device.emotion import EmotionReading
from device.faces import Face
from device.mood import MoodTracker
from device.runtime.camera_watch import REOPEN_AFTER_S
from device.runtime.sensing import MoodSensor

FRAME = np.zeros((48, 64, 3), np.uint8)
FACE = Face(box=(0, 0, 48, 48), score=2.0, crop=np.zeros((48, 48), np.uint8))
HAPPY = EmotionReading("happy", 0.9, {"happy": 0.9, "neutral": 0.1})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Camera:
    """Sends a frame while `sending`; a dead camera reads None."""

    def __init__(self) -> None:
        self.sending = True

    def read(self) -> np.ndarray | None:
        return FRAME if self.sending else None

    def close(self) -> None:
        pass


class Detector:
    def largest(self, frame: np.ndarray) -> Face | None:
        return FACE


class Classifier:
    def classify(self, grey_face: np.ndarray) -> EmotionReading:
        return HAPPY


def sensor(absent_after_s: float = 20.0) -> tuple[MoodSensor, Camera, Clock]:
    camera, clock = Camera(), Clock()
    made = MoodSensor(camera=camera, detector=Detector(), classifier=Classifier(),
                      tracker=MoodTracker(MoodConfig(absent_after_s=absent_after_s)), camera_name="fake 0", clock=clock)
    return made, camera, clock


def test_the_camera_counts_as_silent_after_the_listeners_absence_timeout() -> None:
    made, _, _ = sensor(absent_after_s=7.5)
    assert made.silent_after_s == 7.5  # one value: mood.absent_after_s


def test_a_camera_that_dies_in_front_of_the_listener_never_reads_as_nobody_there(
    caplog: pytest.LogCaptureFixture,
) -> None:
    made, camera, clock = sensor()
    assert made.sense().present and made.faces_expected
    camera.sending = False
    caplog.set_level(logging.INFO)
    for step in range(1, 120):  # 30 s without frames, read at 4 fps
        clock.now = step * 0.25
        mood = made.sense()
        assert mood.present or not made.faces_expected, f"faded for nobody at {clock.now} s"
    assert made.silent and not made.faces_expected
    assert "camera (fake 0) gave no frames for 20 s: playing on without reading faces" in caplog.text
    camera.sending = True
    clock.now += 0.25
    assert made.sense().present and made.faces_expected
    assert "camera is sending frames again" in caplog.text


def test_a_reopen_shorter_than_the_absence_timeout_goes_unnoticed(caplog: pytest.LogCaptureFixture) -> None:
    made, camera, clock = sensor()
    made.sense()
    camera.sending = False
    caplog.set_level(logging.INFO)
    for step in range(1, int(REOPEN_AFTER_S / 0.25) + 4):  # a stuck handle, reopened a little after REOPEN_AFTER_S
        clock.now = step * 0.25
        made.sense()
        assert made.faces_expected
    camera.sending = True
    clock.now += 0.25
    assert made.sense().present and made.faces_expected
    assert caplog.text == ""


def test_a_camera_switched_off_on_the_phone_expects_no_faces() -> None:
    made, _, clock = sensor()
    clock.now = 1.0
    made.sense(enabled=False)
    assert not made.faces_expected and not made.silent
