"""A camera that stops sending (a USB webcam unplugged) is closed and opened again, with backoff."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from device.errors import CameraError
from device.runtime.camera_watch import WatchedCamera

FRAME = np.zeros((48, 64, 3), np.uint8)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Plug:
    """A camera that can be unplugged: handles opened while plugged in send frames until it is pulled."""

    def __init__(self) -> None:
        self.plugged = True
        self.opens = 0
        self.closed = 0

    def open(self) -> Plug.Handle:
        self.opens += 1
        if not self.plugged:
            raise CameraError("cannot open camera '0' with OpenCV")
        return Plug.Handle(self)

    class Handle:
        def __init__(self, plug: Plug) -> None:
            self.plug = plug
            self.alive = True

        def read(self) -> np.ndarray | None:
            if not self.plug.plugged:
                self.alive = False  # a pulled camera's old handle never reads again
            return FRAME if self.alive else None

        def close(self) -> None:
            self.plug.closed += 1


def test_unplugged_and_replugged_camera_is_read_again(caplog: pytest.LogCaptureFixture) -> None:
    plug, clock = Plug(), Clock()
    camera = WatchedCamera(plug.open, reopen_after_s=5.0, first_retry_s=1.0, max_retry_s=4.0, clock=clock)
    assert camera.read() is FRAME
    plug.plugged = False
    caplog.set_level(logging.INFO)
    tries_at = []
    for step in range(60):  # 30 s of silence, read every 0.5 s
        clock.now = 1.0 + step * 0.5
        before = plug.opens
        assert camera.read() is None
        if plug.opens > before:
            tries_at.append(clock.now)
    # silent for 5 s → the first reopen; then backoff 1, 2, 4, 4, 4 … seconds between tries
    assert tries_at[0] == pytest.approx(5.0)  # the last frame came at 0 s
    gaps = np.diff(tries_at)
    assert list(gaps[:3]) == pytest.approx([1.0, 2.0, 4.0])
    assert all(gap == pytest.approx(4.0) for gap in gaps[3:])
    assert plug.closed == 1  # the dead handle was closed once
    assert "closing it and opening it again" in caplog.text

    plug.plugged = True
    frames = []
    for step in range(20):
        clock.now = 31.0 + step * 0.5
        frames.append(camera.read())
    assert any(frame is FRAME for frame in frames)
    assert frames[-1] is FRAME  # and it stays
    assert camera.reopened == 1
    assert "camera opened again" in caplog.text


def test_a_camera_that_sends_keeps_its_handle() -> None:
    plug, clock = Plug(), Clock()
    camera = WatchedCamera(plug.open, reopen_after_s=1.0, clock=clock)
    for step in range(100):
        clock.now = step * 0.5
        assert camera.read() is FRAME
    assert plug.opens == 1 and camera.reopened == 0


def test_a_camera_plugged_in_after_start_is_found(caplog: pytest.LogCaptureFixture) -> None:
    plug, clock = Plug(), Clock()
    plug.plugged = False
    caplog.set_level(logging.INFO)
    camera = WatchedCamera(plug.open, first_retry_s=1.0, clock=clock)  # no exception: the daemon starts
    assert "no camera yet" in caplog.text
    assert camera.read() is None
    plug.plugged = True
    clock.now = 2.0
    assert camera.read() is None  # opened now, read from the next tick
    clock.now = 2.5
    assert camera.read() is FRAME
