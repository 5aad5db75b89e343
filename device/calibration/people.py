"""Each face read with its person's calibration: the daemon's Classifier once anyone is calibrated.

Nobody calibrated: the general model reads everyone. One person: their head reads everyone, as on a
single-listener device, and nobody is identified (no descriptor is computed). Two or more: the face is
identified with dlib's descriptor (device.calibration.identity) when it is (re)acquired (`Recheck`),
the person is kept while the face is followed, and a face no identity matches (or a calibrated person
without an identity) is read with the general model. A descriptor costs about 75 ms on an x86 core and
an estimated 0.5–1 s on a Pi 4, so it is worth a few per minute and no more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.calibration.identity import Box, Identity, describer, match
from device.calibration.reader import CalibratedClassifier
from device.emotion import EmotionClassifier, EmotionReading
from device.errors import ModelError
from device.faces import Face, overlap

logger = logging.getLogger(__name__)

Describe = Callable[[np.ndarray, Box], np.ndarray]  # (frame, box) → descriptor (128,)


@dataclass(frozen=True)
class Recheck:
    """When a followed face counts as (re)acquired and is identified again; seconds of the daemon's clock.

    Nothing was followed; the face was gone for more than `lost_after_s` (someone else may have sat
    down); its box jumped, overlapping the last frame's box less than `same_face_overlap` (at 4 frames a
    second a moving head stays well above it; the tracker's whole-frame search finding another face does
    not); or `every_s` passed since the last identification (`unknown_every_s` while the face matched
    nobody: a poor first frame should not leave a known person unrecognised for long).
    """

    lost_after_s: float = 3.0  # longer than a blink or a turned head the tracker misses a frame or two for
    same_face_overlap: float = 0.3  # box overlap (IoU) with the last frame's below which it is another face
    every_s: float = 30.0  # a safety net: one person leaving and another sitting down in their place
    unknown_every_s: float = 10.0


class PeopleClassifier:
    """The Classifier protocol (`classify(grey_face)`) plus `observe(frame, face)`, which the mood sensor
    calls with every camera frame before `classify` (device.runtime.sensing).

    Args:
        base: the general model (the one the heads were fitted on).
        readers: calibrated person → their reader (device.calibration.reader.calibrated_reader).
        identities: person → their identity (device.calibration.identity.known_identities); used only
            with two or more readers.
        describe: (frame, box) → descriptor; default dlib's (loaded on the first identification).
        recheck: when a followed face is identified again.
    """

    def __init__(
        self,
        base: EmotionClassifier,
        readers: Mapping[str, CalibratedClassifier],
        identities: Mapping[str, Identity],
        *,
        describe: Describe | None = None,
        recheck: Recheck = Recheck(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.readers = dict(readers)
        self.identities = {person: identity for person, identity in identities.items() if person in self.readers}
        self.recheck = recheck
        self._describe = describe
        self._clock = clock
        self.identifies = len(self.readers) > 1
        # one calibrated person: theirs is every face (today's single-listener device)
        self._person: str | None = next(iter(self.readers)) if len(self.readers) == 1 else None
        self._box: Box | None = None  # the followed face's box in the last frame it was seen
        self._seen_at = 0.0
        self._identified_at = 0.0
        self.identifications = 0  # descriptors computed (the figure the recheck rules keep low)
        self._broken = False  # dlib's models are missing: everyone is read with the general model
        for person in self.readers:
            if self.identifies and person not in self.identities:
                logger.warning("%s is calibrated but the device does not know their face (calibrated over SSH, "
                               "or before people were told apart): they are read with the general model until "
                               "they calibrate on the page", person)

    @property
    def model_path(self) -> Path:
        return self.base.model_path

    @property
    def person(self) -> str | None:
        """Whose calibration reads the face now; None: the general model (nobody calibrated, a stranger,
        nobody identified yet)."""
        return self._person

    @property
    def recognised(self) -> str | None:
        """The person identified by their face (two or more calibrated); None otherwise, also with one
        person calibrated, where everyone is read with their head but nobody is told apart."""
        return self._person if self.identifies else None

    def observe(self, frame: np.ndarray, face: Face | None) -> None:
        """The camera frame (BGR or grey uint8) and the face the tracker follows in it (None: no face);
        identifies the face when it is (re)acquired. Never raises for a face it cannot describe."""
        if not self.identifies:
            return
        now = self._clock()
        if face is None:
            if self._box is not None and now - self._seen_at > self.recheck.lost_after_s:
                self._box, self._person = None, None  # gone: whoever comes next is identified
            return
        if self._acquired(face.box, now):
            self._identify(frame, face.box, now)
        self._box, self._seen_at = face.box, now

    def _acquired(self, box: Box, now: float) -> bool:
        if self._box is None or now - self._seen_at > self.recheck.lost_after_s:
            return True
        if overlap(box, self._box) < self.recheck.same_face_overlap:
            return True
        every = self.recheck.every_s if self._person is not None else self.recheck.unknown_every_s
        return now - self._identified_at >= every

    def _identify(self, frame: np.ndarray, box: Box, now: float) -> None:
        self._identified_at = now
        if self._broken:
            return
        try:
            describe = self._describe or describer().describe
            descriptor = describe(frame, box)
        except ModelError as error:
            logger.error("%s", error)
            self._broken, self._person = True, None
            return
        except RuntimeError as error:  # dlib on a face it cannot take (a box at the very edge)
            logger.warning("face not described (%s): read with the general model", error)
            self._person = None
            return
        self.identifications += 1
        person = match(descriptor, self.identities)
        if person != self._person:
            logger.info("listener: %s", person or "not recognised (the general model reads them)")
        self._person = person

    def reader(self) -> EmotionClassifier | CalibratedClassifier:
        """The reader of the face now: its person's, or the general model."""
        return self.readers.get(self._person, self.base) if self._person is not None else self.base

    def classify(self, grey_face: np.ndarray) -> EmotionReading:
        return self.reader().classify(grey_face)
