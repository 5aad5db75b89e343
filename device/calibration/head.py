"""A person's own last layer: softmax regression on the face model's penultimate features, fitted with
numpy in well under a second, starting from (and held near) the model's own last layer.

The fit minimises the mean cross-entropy of the person's faces plus `strength`·‖W − W₀‖² (a Gaussian
prior centred on the general model's weights W₀, b₀): with a few dozen faces the head moves only as far
as they justify, and an emotion the person did not calibrate keeps the general model's row. Full-batch
gradient descent with Nesterov momentum on a convex objective: the same faces give the same head.
"""

from __future__ import annotations

import functools
import hashlib
import json
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

from device.errors import ModelError

STRENGTH = 0.01  # the prior's weight per unit of squared weight change (see fit_head)
STEPS = 400  # gradient steps; the loss changes by < 1e-5 after about 250 on 280 faces
LEARNING_RATE = 0.5


@dataclass(frozen=True)
class LinearHead:
    """softmax(features @ weights.T + bias): weights (C, D), bias (C,), float32."""

    weights: np.ndarray
    bias: np.ndarray

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(C,) probabilities for one face read in one or more views (features (V, D)): their mean."""
        return softmax(np.atleast_2d(features) @ self.weights.T + self.bias).mean(axis=0)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(N,) classes for (N, V, D) features (each face's views averaged as `probabilities` does)."""
        return np.asarray([int(np.argmax(self.probabilities(views))) for views in features], np.int64)


def model_sha256(path: Path) -> str:
    """The sha256 of a face model file, which a head records as the model it was fitted on. Kept per
    file state (path, size, mtime): the daemon checks every person's head against the model in use when
    it reloads, and the file does not change between those checks."""
    info = Path(path).stat()
    return _digest(str(path), info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def fit_head(
    features: np.ndarray,
    labels: np.ndarray,
    prior: LinearHead,
    *,
    strength: float = STRENGTH,
    steps: int = STEPS,
    learning_rate: float = LEARNING_RATE,
) -> LinearHead:
    """The head fitted to faces: features (N, D) (every view a row), labels (N,) class indices.

    Only the rows of classes present in `labels` move; the others stay the prior's. ValueError on
    mismatched shapes or no faces.
    """
    x = np.asarray(features, np.float64)
    y = np.asarray(labels, np.int64)
    if x.ndim != 2 or len(x) != len(y) or not len(y) or x.shape[1] != prior.weights.shape[1]:
        raise ValueError(f"features {x.shape} and labels {y.shape} do not match a head of {prior.weights.shape}")
    classes = prior.weights.shape[0]
    moving = np.zeros(classes, bool)
    moving[np.unique(y)] = True
    w0, b0 = prior.weights.astype(np.float64), prior.bias.astype(np.float64)
    # features are post-ReLU averages of a few units in size: scale the step to their spread so one rate
    # suits any model (the Lipschitz constant of the mean cross-entropy is at most ‖x‖²/2 per face)
    step = learning_rate / max(float((x ** 2).sum(axis=1).mean()) / 2 + 2 * strength, 1e-6)
    target = np.eye(classes)[y]
    w, b = w0.copy(), b0.copy()
    w_prev, b_prev = w.copy(), b.copy()
    for k in range(steps):
        momentum = k / (k + 3)
        w_look, b_look = w + momentum * (w - w_prev), b + momentum * (b - b_prev)
        error = softmax(x @ w_look.T + b_look) - target  # (N, C): d(mean CE)/d(logits) × N
        grad_w = error.T @ x / len(y) + 2 * strength * (w_look - w0)
        grad_b = error.mean(axis=0)
        grad_w[~moving] = 0.0
        grad_b[~moving] = 0.0
        w_prev, b_prev = w, b
        w, b = w_look - step * grad_w, b_look - step * grad_b
    return LinearHead(w.astype(np.float32), b.astype(np.float32))


def head_bytes(head: LinearHead, meta: dict[str, Any]) -> bytes:
    """One .npz holding the head (weights, bias) and its description (meta, JSON text): one file, so
    installing it is one atomic rename and a reader never sees a head without its description."""
    buffer = BytesIO()
    np.savez(buffer, weights=head.weights, bias=head.bias, meta=np.asarray(json.dumps(meta, ensure_ascii=False)))
    return buffer.getvalue()


def load_head(path: Path) -> tuple[LinearHead, dict[str, Any]]:
    """The head at path and its description; ModelError naming the file when it is unusable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            head = LinearHead(np.asarray(data["weights"], np.float32), np.asarray(data["bias"], np.float32))
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:  # JSON errors are ValueErrors
        raise ModelError(f"{path}: cannot read the personal calibration ({error})") from None
    if head.weights.ndim != 2 or head.bias.shape != (head.weights.shape[0],) or not isinstance(meta, dict):
        raise ModelError(f"{path}: not a personal calibration (weights {head.weights.shape}, bias {head.bias.shape})")
    return head, meta
