"""The one preprocessing function shared by training and inference, so both see the same pixels."""

from __future__ import annotations

import cv2
import numpy as np

INPUT_SIZE = 48  # FER2013's crops are 48×48 grey


def preprocess_face(grey_face: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """A grey face crop of any size (uint8, H×W) → float32 (size, size, 1) in [0, 1].

    FER2013 images are 48×48 uint8 already; camera crops are larger and get area-resampled, which
    averages pixels the way FER2013's own downscaling did.
    """
    if grey_face.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {grey_face.shape}")
    if grey_face.shape != (size, size):
        interpolation = cv2.INTER_AREA if grey_face.shape[0] > size else cv2.INTER_LINEAR
        grey_face = cv2.resize(grey_face, (size, size), interpolation=interpolation)
    return (grey_face.astype(np.float32) / 255.0)[..., None]


def preprocess_batch(grey_faces: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """(N, H, W) uint8 → (N, size, size, 1) float32, the same function applied to each face."""
    return np.stack([preprocess_face(face, size) for face in grey_faces]) if len(grey_faces) else (
        np.zeros((0, size, size, 1), np.float32)
    )
