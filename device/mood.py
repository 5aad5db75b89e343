"""The listener's mood: emotion readings smoothed over time, placed on the valence–arousal plane.

A label changes only when a new one wins several readings in a row, so one odd frame does not flip the
music. "Nobody" (no face for a while) is its own state, not a weak neutral; someone seen whose face cannot
be read (a mask, dark glasses, too dark) is not nobody: `Mood.unreadable`, and the music goes on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from device import EMOTION_LABELS
from device.circumplex import CIRCUMPLEX  # re-exported: callers read the face's points from here
from device.config import MoodConfig
from device.contract import NOBODY  # re-exported: the label is the history's too (a play with no face)
from device.emotion import EmotionReading


@dataclass(frozen=True)
class Mood:
    label: str  # an emotion label, or "nobody"
    confidence: float
    valence: float
    arousal: float
    present: bool
    readings: int = 0  # readings since the listener (re)appeared
    probabilities: dict[str, float] = field(default_factory=dict)
    # someone is in view whose face could not be read since the last reading: with `present`, the label is
    # that last reading's, fading as usual; without, no face was read for a while but someone is there
    unreadable: bool = False

    @property
    def someone_there(self) -> bool:
        """A listener in view, readable or not: what the music's fade for nobody asks."""
        return self.present or self.unreadable

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "confidence": round(self.confidence, 3),
            "valence": round(self.valence, 3),
            "arousal": round(self.arousal, 3),
            "present": self.present,
            "unreadable": self.unreadable,
        }


def va_point(probabilities: dict[str, float]) -> tuple[float, float]:
    """The probability-weighted point of a reading on the plane."""
    total = sum(probabilities.values()) or 1.0
    valence = sum(p * CIRCUMPLEX[label][0] for label, p in probabilities.items()) / total
    arousal = sum(p * CIRCUMPLEX[label][1] for label, p in probabilities.items()) / total
    return valence, arousal


ABSENT = Mood(label=NOBODY, confidence=0.0, valence=0.0, arousal=0.0, present=False)
UNREADABLE = dataclasses.replace(ABSENT, unreadable=True)  # someone there, no face read for a while


class MoodTracker:
    """Feed it one reading per analysed frame (None: no face); ask it for the mood at any time.

    A frame with no face may still show someone (device.faces.PresenceCheck): `update(None, now, seen=True)`.
    They count as there for `absent_after_s` after they were last seen, as a face does after its reading.
    """

    def __init__(self, config: MoodConfig) -> None:
        self.config = config
        self._smoothed: np.ndarray | None = None
        self._label = ""
        self._candidate = ""
        self._candidate_runs = 0
        self._readings = 0
        self._last_face_at: float | None = None
        self._last_seen_at: float | None = None  # someone seen without a readable face

    def update(self, reading: EmotionReading | None, now: float, seen: bool = False) -> Mood:
        """One analysed frame at `now` (seconds, the tracker's clock): its reading, or None with `seen` when
        no face was read but someone is there. The mood after it."""
        if reading is None and seen:
            self._last_seen_at = now
        if reading is not None:
            if self._last_face_at is None or now - self._last_face_at > self.config.absent_after_s:
                self._reset()  # someone (re)appeared: their old mood says nothing about now
            self._last_face_at = now
            self._add(reading)
        return self.current(now)

    def _reset(self) -> None:
        self._smoothed = None
        self._label = self._candidate = ""
        self._candidate_runs = self._readings = 0

    def _add(self, reading: EmotionReading) -> None:
        probs = np.array([reading.probabilities.get(label, 0.0) for label in EMOTION_LABELS], np.float64)
        alpha = self.config.smoothing
        self._smoothed = probs if self._smoothed is None else (1 - alpha) * self._smoothed + alpha * probs
        self._readings += 1
        top = EMOTION_LABELS[int(np.argmax(self._smoothed))]
        if not self._label:
            self._label = top
        if top == self._label:
            self._candidate, self._candidate_runs = "", 0
            return
        if top == self._candidate:
            self._candidate_runs += 1
        else:
            self._candidate, self._candidate_runs = top, 1
        if self._candidate_runs >= self.config.stable_readings:
            self._label, self._candidate, self._candidate_runs = top, "", 0

    def present(self, now: float) -> bool:
        return self._last_face_at is not None and now - self._last_face_at <= self.config.absent_after_s

    def unreadable(self, now: float) -> bool:
        """Someone seen since the last reading, within absent_after_s: there, but their face cannot be read."""
        seen = self._last_seen_at
        if seen is None or now - seen > self.config.absent_after_s:
            return False
        return self._last_face_at is None or seen > self._last_face_at

    def current(self, now: float) -> Mood:
        unreadable = self.unreadable(now)
        if not self.present(now) or self._smoothed is None:
            return UNREADABLE if unreadable else ABSENT
        probs = {label: float(p) for label, p in zip(EMOTION_LABELS, self._smoothed, strict=True)}
        valence, arousal = va_point(probs)
        return Mood(
            label=self._label,
            confidence=probs[self._label],
            valence=valence,
            arousal=arousal,
            present=True,
            readings=self._readings,
            probabilities=probs,
            unreadable=unreadable,
        )
