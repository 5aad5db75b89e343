"""A jaffe-dev person's captured faces, as capture would save them, for calibration tests.

../shared/data/jaffe-dev is read in place (evaluation only: never copied into the repository); tests
that use it skip when it is absent. Crops: each photo's face found once (as `emotune classify` finds it),
then re-cut with small shifts and light changes, the way a few seconds of video vary.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

from device import EMOTION_LABELS
from device.calibration.capture import save_crop
from device.config import FacesConfig
from device.faces import StillPhotoDetector, square_crop
from tests.camera_faces import jaffe_photos

ROUND_STAMPS = ("20261206-100000", "20261206-100200")


def photos(subject: str) -> dict[int, list[np.ndarray]]:
    """class → the subject's grey photos (tests/camera_faces.py reads them)."""
    return {EMOTION_LABELS.index(label): images for label, images in jaffe_photos(subject).items()}


@functools.cache
def _detector() -> StillPhotoDetector:
    return StillPhotoDetector(FacesConfig())


def jittered_crops(photo: np.ndarray, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`count` 48×48 crops of the photo's face, each shifted up to 4 % and lit ×0.9–1.1."""
    face = _detector().largest(photo)
    assert face is not None, "jaffe-dev photos all hold one findable face"
    left, top, right, bottom = face.box
    side = right - left
    crops = []
    for _ in range(count):
        dx, dy = (rng.uniform(-0.04, 0.04, 2) * side).astype(int)
        crop = square_crop(photo, (left + dx, top + dy, right + dx, bottom + dy), FacesConfig().margin)
        lit = np.clip(cv2.resize(crop, (48, 48), interpolation=cv2.INTER_AREA) * rng.uniform(0.9, 1.1), 0, 255)
        crops.append(lit.astype(np.uint8))
    return crops


def write_rounds(faces_dir: Path, subject: str, per_round: int = 10, classes: list[int] | None = None,
                 rounds: int = 2, seed: int = 0, shuffle_labels: bool = False) -> dict[int, np.ndarray]:
    """Save the subject's crops in `rounds` capture rounds (round r from their photo r, so rounds differ as
    two sittings do); the last photo of each class is kept back and returned (class → photo).
    `shuffle_labels` files every crop under a random emotion: faces that teach nothing."""
    rng = np.random.default_rng(seed)
    kept_back: dict[int, np.ndarray] = {}
    for label, images in photos(subject).items():
        if classes is not None and label not in classes:
            continue
        kept_back[label] = images[-1]
        for number in range(rounds):
            for crop in jittered_crops(images[number % max(1, len(images) - 1)], per_round, rng):
                folder_label = int(rng.integers(0, 7)) if shuffle_labels else label
                save_crop(faces_dir / EMOTION_LABELS[folder_label], ROUND_STAMPS[number % 2] if number < 2
                          else f"20261206-10{number:02d}00", 1, crop)
    return kept_back
