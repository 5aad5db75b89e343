from pathlib import Path

import cv2
import numpy as np
import pytest

from device.camera import ReplayCamera, open_camera
from device.config import CameraConfig
from device.errors import CameraError


def write_frames(folder: Path, count: int) -> None:
    folder.mkdir()
    for i in range(count):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((48, 64, 3), i * 10, np.uint8))


def test_replay_folder_in_order_and_loops(tmp_path: Path) -> None:
    write_frames(tmp_path / "f", 3)
    camera = ReplayCamera(tmp_path / "f", loop=True)
    values = [int(camera.read()[0, 0, 0]) for _ in range(5)]
    assert values == [0, 10, 20, 0, 10]


def test_replay_without_loop_ends_with_none(tmp_path: Path) -> None:
    write_frames(tmp_path / "f", 2)
    camera = ReplayCamera(tmp_path / "f", loop=False)
    assert camera.read() is not None
    assert camera.read() is not None
    assert camera.read() is None


def test_replay_video_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
    for i in range(4):
        writer.write(np.full((48, 64, 3), 60 * i, np.uint8))
    writer.release()
    camera = open_camera(CameraConfig(source="replay", device=str(path), loop=False))
    frames = [camera.read() for _ in range(5)]
    assert [f is None for f in frames] == [False, False, False, False, True]
    assert frames[0].shape == (48, 64, 3)


def test_bad_sources_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CameraError, match="holds no images"):
        ReplayCamera(tmp_path / "empty")
    with pytest.raises(CameraError, match="does not exist"):
        ReplayCamera(tmp_path / "missing")
    with pytest.raises(CameraError, match="cannot open camera"):
        open_camera(CameraConfig(source="opencv", device="/dev/video99"))


def test_picamera2_missing_says_what_to_do() -> None:
    with pytest.raises(CameraError, match="python3-picamera2"):
        open_camera(CameraConfig(source="picamera2"))


@pytest.mark.picamera
def test_real_pi_camera_gives_frames() -> None:  # pragma: no cover - only on a Raspberry Pi
    pytest.importorskip("picamera2")
    camera = open_camera(CameraConfig(source="picamera2"))
    frame = camera.read()
    camera.close()
    assert frame is not None and frame.shape == (480, 640, 3)
