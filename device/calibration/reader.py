"""Reading a calibrated person's face: the model in use for the features, their head for the emotion.

A head is fitted on one face model's features; read on another it means nothing. Its description names
the model it was fitted on (sha256), and a head whose model is no longer the one in use is passed over,
with the reason, for the general reading (the person is asked to calibrate again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.calibration.head import LinearHead, load_head, model_sha256
from device.calibration.store import head_path
from device.emotion import EmotionClassifier, EmotionReading, reading_from
from device.errors import ModelError

logger = logging.getLogger(__name__)


class CalibratedClassifier:
    """The Classifier protocol for one person: `classify(grey_face)` as their head reads it.

    Args:
        base: the model in use, opened with features=True (its flip_average decides the views read).
        head: the person's head; person: their name (for logs and the page).
    """

    def __init__(self, base: EmotionClassifier, head: LinearHead, person: str) -> None:
        self.base = base
        self.head = head
        self.person = person
        self.model_path = base.model_path

    def probabilities(self, grey_face: np.ndarray) -> np.ndarray:
        return self.head.probabilities(self.base.features(grey_face))

    def classify(self, grey_face: np.ndarray) -> EmotionReading:
        return reading_from(self.base.labels, self.probabilities(grey_face))


@dataclass(frozen=True)
class HeadChoice:
    head: LinearHead | None
    problem: str = ""  # why an installed head is not used; "" when it is, or when there is none


def usable_head(path: Path, base: EmotionClassifier) -> HeadChoice:
    """The head at path if it fits `base` (same model file, same shape); else None and why."""
    if not path.is_file():
        return HeadChoice(None)
    try:
        head, meta = load_head(path)
    except ModelError as error:
        return HeadChoice(None, str(error))
    fitted_on = (meta.get("base_model") or {}).get("sha256")
    weights, _ = base.last_layer()
    if head.weights.shape != weights.shape:
        return HeadChoice(None, f"{path}: fitted for a model of another shape; calibrate again")
    if fitted_on != model_sha256(base.model_path):
        return HeadChoice(None, f"{path}: fitted on another face model than {base.model_path}; calibrate again")
    return HeadChoice(head)


def calibrated_reader(state_dir: Path, person: str, base: EmotionClassifier) -> CalibratedClassifier | None:
    """The person's reader, or None (logged) when they have no usable head."""
    choice = usable_head(head_path(state_dir, person), base)
    if choice.problem:
        logger.warning("calibration of %s not used: %s", person, choice.problem)
    return CalibratedClassifier(base, choice.head, person) if choice.head is not None else None
