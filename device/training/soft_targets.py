"""Soft training targets from the FER+ relabelling of FER2013 (Barsoum et al. 2016, "Training deep
networks for facial expression recognition with crowd-sourced label distribution").

FER2013's labels are noisy (FER+'s majority agrees with them on about 63 % of faces); FER+ had ten
annotators vote on each face. A soft target keeps the FER2013 label as the main answer (the model is still
judged on it) and spreads the rest of the target over what the annotators saw: an informed label
smoothing. Numpy only, so it is tested without TensorFlow.
"""

from __future__ import annotations

import numpy as np

from device import EMOTION_LABELS
from device.listener.fer2013 import FERPLUS_VOTE_NAMES

# each FER2013 class's FER+ vote column; contempt (FER2013 has no such class), unknown and not-a-face
# (NF) carry no emotion and are left out
FERPLUS_COLUMN: dict[str, str] = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "sad": "sadness",
    "surprise": "surprise",
    "neutral": "neutral",
}


def ferplus_distribution(votes: np.ndarray) -> np.ndarray:
    """(N, 10) FER+ vote counts → (N, 7) share of each face's emotion votes per class in EMOTION_LABELS
    order; a row of zeros where no annotator saw one of the seven emotions."""
    columns = [FERPLUS_VOTE_NAMES.index(FERPLUS_COLUMN[label]) for label in EMOTION_LABELS]
    counts = np.asarray(votes, dtype=np.float64)[:, columns]
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def soft_targets(labels: np.ndarray, votes: np.ndarray | None, weight: float) -> np.ndarray:
    """(N,) FER2013 labels and (N, 10) FER+ votes → (N, 7) float32 targets summing to 1:
    (1 − weight) · one-hot(label) + weight · FER+ distribution. A face without emotion votes keeps its
    one-hot label. weight 0 (or no votes) gives the one-hot labels. ValueError for a weight outside [0, 1]."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the FER+ weight must be between 0 and 1, got {weight}")
    labels = np.asarray(labels, dtype=np.int64)
    one_hot = np.eye(len(EMOTION_LABELS))[labels]
    if votes is None or weight == 0.0:
        return one_hot.astype(np.float32)
    spread = ferplus_distribution(votes)
    voted = spread.sum(axis=1, keepdims=True) > 0
    mixed = np.where(voted, (1.0 - weight) * one_hot + weight * spread, one_hot)
    return mixed.astype(np.float32)
