"""The sensing half of the loop, one frame per call: camera → face → emotion → mood.

It also knows whether faces can be expected at all: not with the camera switched off on the phone, and
not while the camera sends nothing (then nobody-there cannot be told from a dead camera, so the music
goes on and the device follows the seed song). The camera counts as silent after as long without a frame
as the listener takes to count as gone without a face (mood.absent_after_s): one value, so a camera that
dies in front of a listener is called silent in the same frame that would call them gone, and the music
never fades for a person who may still be there. On a frame with no face, a cheap check (at most every
PRESENCE_EVERY_S) tells someone whose face cannot be read from nobody (device.faces.PresenceCheck).
Reopening a stuck camera is another, shorter matter (device.runtime.camera_watch).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from device.camera import Camera
from device.emotion import Classifier
from device.faces import FaceFinder, PresenceCheck
from device.mood import Mood, MoodTracker

logger = logging.getLogger(__name__)

# The presence check runs on a frame with no face at most this often: it costs about a whole-frame search,
# and seen once a second, someone counts as there long before absent_after_s (20 s) runs out.
PRESENCE_EVERY_S = 1.0


class MoodSensor:
    """Reads one frame per `sense()` and returns the smoothed mood.

    Args:
        camera, detector, classifier, tracker: the stages, in flow order; the camera counts as silent
            after `tracker.config.absent_after_s` seconds without a frame.
        camera_name: how log lines name the camera ("opencv 0").
        presence: tells someone whose face cannot be read from nobody, on frames without a face (at most
            every PRESENCE_EVERY_S); None: a frame without a face is nobody.
    """

    def __init__(
        self,
        *,
        camera: Camera,
        detector: FaceFinder,
        classifier: Classifier,
        tracker: MoodTracker,
        camera_name: str,
        clock: Callable[[], float] = time.monotonic,
        presence: PresenceCheck | None = None,
    ) -> None:
        self.camera = camera
        self.detector = detector
        self.classifier = classifier
        self.tracker = tracker
        self.camera_name = camera_name
        self._clock = clock
        self._last_frame_at = clock()
        self.silent = False
        self.enabled = True
        self.presence = presence
        self._checked_at: float | None = None  # when the presence check last ran
        self.presence_checks = 0  # how many times it ran (the cost is one check each)

    @property
    def silent_after_s(self) -> float:
        """Seconds without a frame before the camera counts as silent: the listener's absence timeout."""
        return self.tracker.config.absent_after_s

    def restart_clock(self) -> None:
        """The loop starts now: silence is counted from here."""
        self._last_frame_at = self._clock()

    @property
    def faces_expected(self) -> bool:
        """False when the camera is off or silent: then nobody-there cannot be known."""
        return self.enabled and not self.silent

    def sense(self, enabled: bool = True) -> Mood:
        """One frame read (if the camera is on), the mood after it."""
        now = self._clock()
        self.enabled = enabled
        if not enabled:
            return self.tracker.current(now)
        frame = self.camera.read()
        if frame is None:
            self._note_silence(now)
            return self.tracker.current(now)
        if self.silent:
            logger.info("camera is sending frames again")
        self.silent = False
        self._last_frame_at = now
        face = self.detector.largest(frame)
        observe = getattr(self.classifier, "observe", None)
        if observe is not None:  # one that tells people apart needs the frame and the box (calibration.people)
            observe(frame, face)
        if face is None:
            return self.tracker.update(None, now, seen=self._someone(frame, now))
        if self.presence is not None:
            self.presence.face_read(frame, face)
        return self.tracker.update(self.classifier.classify(face.crop), now)

    def _someone(self, frame: np.ndarray, now: float) -> bool:
        """The presence check on a frame with no face, when one is due (else False: nothing new seen)."""
        if self.presence is None or (self._checked_at is not None and now - self._checked_at < PRESENCE_EVERY_S):
            return False
        self._checked_at = now
        self.presence_checks += 1
        seen = self.presence.someone(frame)
        if seen and not self.tracker.unreadable(now):
            logger.info("someone is in front of the camera but the face cannot be read")
        return seen

    def _note_silence(self, now: float) -> None:
        silent_for = now - self._last_frame_at
        if not self.silent and silent_for > self.silent_after_s:
            self.silent = True
            logger.warning("camera (%s) gave no frames for %.0f s: playing on without reading faces",
                           self.camera_name, silent_for)
