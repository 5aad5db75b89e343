"""A camera that comes back: reopened after a stretch of silence, with backoff, without a restart.

A USB webcam that is unplugged and plugged in again, or a Pi camera whose pipeline stalls, sends no more
frames through the handle that was opened; only a new handle reads it again (Frigate's CameraWatchdog
does the same for its streams). `WatchedCamera` wraps the opener of any `device.camera.Camera`, so the
daemon keeps calling `read()` and never sees the difference. Whether faces can be expected meanwhile is
decided apart, after the longer mood.absent_after_s (device.runtime.sensing): this module only repairs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from device.camera import Camera
from device.errors import CameraError

logger = logging.getLogger(__name__)

# No frame for this long: the handle is dead, open a new one. Far shorter than the listener's absence
# timeout (mood.absent_after_s, 20 s by default), so a replugged camera is read again before the loop
# would stop expecting faces.
REOPEN_AFTER_S = 5.0
FIRST_RETRY_S = 1.0  # a failed reopen is tried again after this, doubling each time ...
MAX_RETRY_S = 30.0  # ... up to this, so a camera that is gone for good costs a try every 30 s


class WatchedCamera:
    """`read()` as the wrapped camera's, reopening it (via `open_camera`) when it falls silent.

    Args:
        open_camera: makes a new handle on the camera; raises CameraError when it cannot (unplugged).
        reopen_after_s: seconds without a frame before the handle is closed and a new one opened.
        clock: monotonic seconds (tests pass a fake one).

    A camera missing at start-up is logged and looked for again, like one unplugged later.
    """

    def __init__(
        self,
        open_camera: Callable[[], Camera],
        *,
        reopen_after_s: float = REOPEN_AFTER_S,
        first_retry_s: float = FIRST_RETRY_S,
        max_retry_s: float = MAX_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_camera = open_camera
        self.reopen_after_s = reopen_after_s
        self.first_retry_s = first_retry_s
        self.max_retry_s = max_retry_s
        self._clock = clock
        self._camera: Camera | None = None
        self._last_frame_at = clock()
        self._retry_s = first_retry_s
        self._next_try_at = 0.0
        self.reopened = 0  # how many times a new handle was opened (for logs and tests)
        try:
            self._camera = open_camera()
        except CameraError as error:
            # An appliance powered on before its camera is plugged in still plays (following the seed
            # song); the camera is looked for again with backoff, as after an unplug.
            logger.warning("no camera yet (%s); playing on and looking again in %.0f s", error, first_retry_s)
            self._next_try_at = clock() + first_retry_s

    def read(self) -> np.ndarray | None:
        now = self._clock()
        if self._camera is None:
            self._try_reopen(now)
            return None
        frame = self._camera.read()
        if frame is not None:
            self._last_frame_at = now
            self._retry_s = self.first_retry_s
            return frame
        if now - self._last_frame_at >= self.reopen_after_s:
            silent_s = now - self._last_frame_at
            logger.warning("camera sent no frame for %.0f s: closing it and opening it again", silent_s)
            self._close_handle()
            self._try_reopen(now)
        return None

    def close(self) -> None:
        self._close_handle()

    def _close_handle(self) -> None:
        camera, self._camera = self._camera, None
        if camera is None:
            return
        try:
            camera.close()
        except Exception as error:  # a dead handle may fail to close in any way; it is dropped anyway
            logger.debug("closing the silent camera failed: %s", error)

    def _try_reopen(self, now: float) -> None:
        if now < self._next_try_at:
            return
        try:
            self._camera = self._open_camera()
        except CameraError as error:
            self._next_try_at = now + self._retry_s
            logger.warning("camera not back yet (%s); trying again in %.0f s", error, self._retry_s)
            self._retry_s = min(self.max_retry_s, self._retry_s * 2)
            return
        self.reopened += 1
        self._last_frame_at = now  # the new handle gets the full grace period to send its first frame
        self._next_try_at = 0.0
        logger.info("camera opened again")
