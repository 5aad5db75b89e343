"""Fit a person's head from their captured faces and install it only when it reads their held-out
rounds better than the general model, by more than those faces' noise (device.calibration.decision).

One call, no TensorFlow, seconds on a Pi: features of every face (and its mirror image) from the model in
use (read with LiteRT), a head fitted on the rounds not held out, the decision on the held-out rounds,
then, when it clears, the head refitted on all rounds (the same settings, more variety) and installed.
Used by the daemon after a calibration from the page and by `emotune calibrate` over SSH.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from device import EMOTION_LABELS
from device.calibration.decision import Decision, decide
from device.calibration.faces import (
    MIN_FACES,
    PersonalDataError,
    capture_rounds,
    holdout_split,
    load_personal_faces,
    usable_classes,
)
from device.calibration.head import STRENGTH, LinearHead, fit_head, head_bytes, model_sha256
from device.calibration.store import check_person, head_path, install_head, person_faces_dir, remember_name
from device.config import Config
from device.emotion import EmotionClassifier, choose_model, open_model

logger = logging.getLogger(__name__)

HOLDOUT = 0.25  # of each emotion's faces, by whole capture rounds (device.calibration.faces.holdout_split)
EXIT_NOT_BETTER = 4  # as `train --personal`: 0 installed, 3 refused (PersonalDataError), 4 not better
BASELINE = "the general model"  # what the held-out check compares a person's head with


@dataclass(frozen=True)
class CalibrationResult:
    person: str
    decision: Decision
    installed: bool
    forced: bool
    fit_s: float  # features, both fits and the decision, wall clock
    faces: dict[str, int]  # per emotion, used
    held_out: dict[str, int]  # per emotion, faces held out
    path: Path | None  # the installed head
    had_calibration: bool = False  # the person had a head installed before this check

    def reason(self) -> str:
        """The decision in words, for the page and the CLI. The candidate is compared with the general
        model (the head starts from its last layer), whatever the person had before."""
        stays = "your calibration before this one stays" if self.had_calibration else "the general model stays"
        verdict = ("installed: from now on the device reads this face with it" if self.installed and not self.forced
                   else "installed because you asked (--force)" if self.installed
                   else f"not installed: {stays}; calibrate again with more light and stronger expressions, or "
                        "more of them")
        return f"{self.decision.reason(BASELINE)}; {verdict}"

    def as_json(self) -> dict[str, Any]:
        return {"person": self.person, "installed": self.installed, "forced": self.forced,
                "fit_s": round(self.fit_s, 3), "faces": self.faces, "held_out": self.held_out,
                "decision": self.decision.as_json(BASELINE), "reason": self.reason(),
                "path": str(self.path) if self.path else None}


def base_classifier(config: Config) -> EmotionClassifier:
    """The model in use (configured, TensorFlow-personal or shipped) opened to read its features."""
    choice = choose_model(config)
    return open_model(choice.path, threads=config.model.threads, flip_average=config.model.flip_average,
                      features=True)


def face_features(base: EmotionClassifier, images: list[np.ndarray]) -> np.ndarray:
    """(N, 2, D): each face's features and its mirror image's."""
    return np.stack([base.features(image, mirror=True) for image in images]) if images else np.zeros((0, 2, 0))


def calibrate(
    config: Config,
    person: str,
    *,
    force: bool = False,
    base: EmotionClassifier | None = None,
    strength: float = STRENGTH,
    say: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Fit, decide and (when it clears, or `force`) install the person's head.

    Raises PersonalDataError (exit 3) when the faces cannot be used (too few, one emotion, one round
    each), PersonError for a bad name, ModelError when the model in use cannot be read for features.
    """
    person = check_person(person)
    started = time.perf_counter()
    folder = person_faces_dir(config.state_dir, person)
    faces = load_personal_faces(folder)
    for line in faces.skipped:
        logger.warning("skipped %s", line)
    try:
        classes = usable_classes(faces, MIN_FACES)
    except PersonalDataError as error:
        raise PersonalDataError(f"{person} ({folder}): {error}") from None
    labels = np.asarray(faces.labels, np.int64)
    keep = np.flatnonzero(np.isin(labels, classes))
    split = holdout_split(labels[keep], capture_rounds([faces.paths[i] for i in keep]), HOLDOUT)
    base = base or base_classifier(config)
    features = face_features(base, [faces.images[i] for i in keep])
    labels = labels[keep]
    prior = LinearHead(*base.last_layer())
    views = 2 if base.flip_average else 1  # read as the device reads: the mirror too when it averages

    def fit(indices: np.ndarray) -> LinearHead:
        rows = features[indices].reshape(-1, features.shape[-1])  # both views train: mirror augmentation
        return fit_head(rows, np.repeat(labels[indices], 2), prior, strength=strength)

    held = split.held
    candidate = fit(split.train)
    decision = decide(labels[held], prior.predict(features[held, :views]), candidate.predict(features[held, :views]))
    if say:
        say(decision.reason())
    installed_path: Path | None = None
    had_calibration = head_path(config.state_dir, person).is_file()
    if decision.clears or force:
        final = fit(np.arange(len(labels)))
        meta = _description(config, person, base, decision, labels, held, strength, time.perf_counter() - started)
        remember_name(config.state_dir, person)
        installed_path = install_head(head_bytes(final, meta), config.state_dir, person)
    return CalibrationResult(
        person=person, decision=decision, installed=installed_path is not None, forced=not decision.clears and force,
        fit_s=time.perf_counter() - started,
        faces={EMOTION_LABELS[c]: int((labels == c).sum()) for c in classes},
        held_out={EMOTION_LABELS[c]: int((labels[held] == c).sum()) for c in classes if (labels[held] == c).any()},
        path=installed_path, had_calibration=had_calibration)


def _description(config: Config, person: str, base: EmotionClassifier, decision: Decision, labels: np.ndarray,
                 held: np.ndarray, strength: float, seconds: float) -> dict[str, Any]:
    return {
        "kind": "personal head (softmax regression on the face model's penultimate features)",
        "person": person,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "base_model": {"path": str(base.model_path), "sha256": model_sha256(base.model_path)},
        "labels": list(EMOTION_LABELS),
        "faces": {EMOTION_LABELS[c]: int(n) for c, n in enumerate(np.bincount(labels, minlength=7)) if n},
        "held_out": len(held),
        "decision": decision.as_json(BASELINE),
        "fit": {"strength": strength, "views": "face and mirror image",
                "refit_on": "all rounds, once the check cleared", "seconds": round(seconds, 3)},
        "command": " ".join(["emotune", *sys.argv[1:]]) if sys.argv and "emotune" in sys.argv[0] else "calibration",
    }
