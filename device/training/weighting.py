"""Per-class loss weights for the imbalanced FER2013 Training faces, shared by `emotune train` and the
PyTorch twin (numpy only, so the twin's GPU machine can import it without TensorFlow)."""

from __future__ import annotations

import numpy as np

from device import EMOTION_LABELS


def class_weights(labels: np.ndarray, power: float, num_classes: int = len(EMOTION_LABELS)) -> dict[int, float]:
    """(balanced weight) ** power, scaled so the average weight over the Training faces is 1."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    present = counts > 0
    weights = np.ones(num_classes)
    weights[present] = (counts.sum() / (present.sum() * counts[present])) ** power
    weights /= (weights * counts).sum() / counts.sum()
    return {i: float(w) for i, w in enumerate(weights)}
