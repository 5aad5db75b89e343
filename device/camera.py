"""Camera sources behind one interface: `read()` returns the next frame (BGR uint8) or None.

- picamera2: the Pi camera (libcamera); OpenCV cannot open it. Only imports on a Pi.
- opencv: a USB webcam (index) or a video file.
- replay: a folder of images (sorted by name) or a video, for the demo and tests.
The frame is copied out of the camera's buffer at once, so the camera can reuse it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from device import IMAGE_SUFFIXES
from device.config import CameraConfig
from device.errors import CameraError

logger = logging.getLogger(__name__)



class Camera(Protocol):
    def read(self) -> np.ndarray | None:
        """The next frame, or None if the source has nothing (end of a replay, a dropped frame)."""

    def close(self) -> None: ...


class ReplayCamera:
    """Frames from a folder of images or a video file, in order; loops when `loop` is set."""

    def __init__(self, source: Path, loop: bool = True) -> None:
        self.source = Path(source)
        self.loop = loop
        self._index = 0
        self._video: cv2.VideoCapture | None = None
        self._files: list[Path] = []
        if self.source.is_dir():
            self._files = sorted(p for p in self.source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._files:
                raise CameraError(f"replay folder {self.source} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        elif self.source.is_file():
            self._video = cv2.VideoCapture(str(self.source))
            if not self._video.isOpened():
                raise CameraError(f"cannot open replay video {self.source}")
        else:
            raise CameraError(f"replay source {self.source} does not exist")

    def read(self) -> np.ndarray | None:
        if self._video is not None:
            ok, frame = self._video.read()
            if not ok and self.loop:
                self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._video.read()
            return frame if ok else None
        if self._index >= len(self._files):
            if not self.loop:
                return None
            self._index = 0
        path = self._files[self._index]
        self._index += 1
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            logger.warning("replay: cannot read image %s, skipping it", path)
        return image

    def close(self) -> None:
        if self._video is not None:
            self._video.release()


class OpenCVCamera:
    """A USB webcam (device index) or a video file, through OpenCV."""

    def __init__(self, config: CameraConfig) -> None:
        target: int | str = int(config.device) if config.device.isdigit() else config.device
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            raise CameraError(
                f"cannot open camera {config.device!r} with OpenCV; check it is plugged in "
                "(ls /dev/video*) and that the user is in the 'video' group"
            )
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, config.width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, config.height)

    def read(self) -> np.ndarray | None:
        ok, frame = self._capture.read()
        return frame if ok else None

    def close(self) -> None:
        self._capture.release()


class Picamera2Camera:
    """The Raspberry Pi camera through picamera2 (from Raspberry Pi OS: python3-picamera2)."""

    def __init__(self, config: CameraConfig) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError:
            raise CameraError(
                "picamera2 is not available: on a Pi install python3-picamera2 (apt) and create the venv "
                "with --system-site-packages; elsewhere set camera.source to 'opencv' or 'replay'"
            ) from None
        try:
            self._camera = Picamera2()
            # BGR888 on the main stream gives the same layout as OpenCV's frames.
            video = self._camera.create_video_configuration(
                main={"size": (config.width, config.height), "format": "BGR888"}
            )
            self._camera.configure(video)
            self._camera.start()
        except (RuntimeError, IndexError) as error:
            raise CameraError(
                f"cannot start the Pi camera: {error}; check the ribbon cable and that "
                "'rpicam-hello --list-cameras' lists it"
            ) from None

    def read(self) -> np.ndarray | None:
        # capture_array copies the frame out and releases the request at once.
        frame = self._camera.capture_array("main")
        return np.ascontiguousarray(frame) if frame is not None else None

    def close(self) -> None:
        self._camera.stop()
        self._camera.close()


def open_camera(config: CameraConfig) -> Camera:
    if config.source == "replay":
        return ReplayCamera(Path(config.device), loop=config.loop)
    if config.source == "opencv":
        return OpenCVCamera(config)
    if config.source == "picamera2":
        return Picamera2Camera(config)
    raise CameraError(f"unknown camera source {config.source!r} (picamera2, opencv, replay)")
