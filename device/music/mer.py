"""Music emotion recognition: audio features → a point on the valence–arousal plane and a quadrant.

The model (`models/mer.json`, made by `python -m device.training.mer_train`) has one classifier per axis,
for the sign of valence and the sign of arousal, learned from the 4-quadrant MER clips: a standardised
logistic regression (`"type": "logistic"`: coef, intercept) or an RBF support vector machine
(`"type": "rbf_svm"`: support vectors in standardised units, dual coefficients, intercept, gamma). Each
axis' decision value d is calibrated to tanh(slope · d / 2) = 2·P(positive) − 1, so the point's sign is the
quadrant and its distance from an axis is how sure the model is. Reading it needs numpy only (no
scikit-learn, no pickle).

Quadrants (Russell): Q1 +valence +arousal, Q2 -valence +arousal, Q3 -valence -arousal, Q4 +valence -arousal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from device.config import PACKAGE_ROOT
from device.errors import ModelError

# Bump when audio_features changes what a feature means, so cached features and old models are redone.
FEATURES_VERSION = 2
DEFAULT_MODEL = PACKAGE_ROOT / "models" / "mer.json"
# Below this probability that the quadrant is right, a placement is called unsure (analyze says so).
UNSURE_BELOW = 0.5
QUADRANT_SIGNS = {"Q1": (1, 1), "Q2": (-1, 1), "Q3": (-1, -1), "Q4": (1, -1)}


def quadrant(valence: float, arousal: float) -> str:
    if arousal >= 0:
        return "Q1" if valence >= 0 else "Q2"
    return "Q4" if valence >= 0 else "Q3"


@dataclass(frozen=True)
class Placement:
    """Where a track sits: valence and arousal in [-1, 1] (sign = side of the axis, size = certainty), its
    quadrant, and `confidence`, the model's probability that the quadrant is right (0.25 .. 1)."""

    valence: float
    arousal: float
    quadrant: str
    confidence: float


def quadrant_confidence(valence: float, arousal: float) -> float:
    """P(quadrant right) from calibrated axes: P(valence sign right) * P(arousal sign right), 0.25 .. 1."""
    return (1 + abs(valence)) / 2 * (1 + abs(arousal)) / 2


@dataclass(frozen=True)
class AxisModel:
    """One axis' classifier over standardised features; `decision(x)` is its raw decision value."""

    columns: np.ndarray  # (features,) indices of this axis' features in the model's feature vector
    mean: np.ndarray
    scale: np.ndarray
    slope: float
    intercept: float
    coef: np.ndarray | None = None  # logistic: (features,)
    support_vectors: np.ndarray | None = None  # rbf_svm: (vectors, features), standardised units
    dual_coef: np.ndarray | None = None  # rbf_svm: (vectors,)
    gamma: float = 0.0

    def decision(self, x: np.ndarray) -> float:
        """The raw decision value for x, this axis' own features (len(columns),)."""
        z = (x - self.mean) / self.scale
        if self.coef is not None:
            return float(z @ self.coef + self.intercept)
        assert self.support_vectors is not None and self.dual_coef is not None
        kernel = np.exp(-self.gamma * np.sum((self.support_vectors - z) ** 2, axis=1))
        return float(kernel @ self.dual_coef + self.intercept)

    def position(self, x: np.ndarray) -> float:
        """2·P(positive) − 1 in [-1, 1] for the model's whole feature vector x."""
        own = x[self.columns]
        own = np.where(np.isfinite(own), own, self.mean)  # an unmeasurable feature counts as typical
        return math.tanh(max(-50.0, min(50.0, self.slope * self.decision(own) / 2)))

    @classmethod
    def from_json(cls, part: Mapping[str, Any], names: tuple[str, ...]) -> AxisModel:
        """From the model file's part for one axis; its "features" (default: all of `names`) must be among
        the model's feature `names`. ValueError/KeyError/TypeError when malformed."""
        own = [str(n) for n in part.get("features", names)]
        columns = np.array([names.index(n) for n in own], dtype=np.int64)  # ValueError when not a model feature
        features = len(own)
        def vector(key: str, shape: tuple[int, ...]) -> np.ndarray:
            array = np.asarray(part[key], dtype=np.float64)
            if array.shape != shape or not np.isfinite(array).all():
                raise ValueError(f"{key} must be {'x'.join(map(str, shape))} finite numbers")
            return array

        mean, scale = vector("mean", (features,)), vector("scale", (features,))
        scale = np.where(scale > 0, scale, 1.0)
        slope = float(part.get("calibration", {}).get("slope", 1.0))
        kind = part.get("type", "logistic")
        if kind == "logistic":
            return cls(columns, mean, scale, slope, float(part["intercept"]), coef=vector("coef", (features,)))
        if kind == "rbf_svm":
            vectors = np.asarray(part["support_vectors"], dtype=np.float64)
            if vectors.ndim != 2 or vectors.shape[1] != features:
                raise ValueError(f"support_vectors must have {features} columns")
            return cls(columns, mean, scale, slope, float(part["intercept"]), support_vectors=vector(
                "support_vectors", vectors.shape), dual_coef=vector("dual_coef", (vectors.shape[0],)),
                gamma=float(part["gamma"]))
        raise ValueError(f"unknown model type {kind!r}")


@dataclass(frozen=True)
class MerModel:
    feature_names: tuple[str, ...]
    valence: AxisModel
    arousal: AxisModel
    provenance: dict[str, Any]

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> MerModel:
        made_for = document.get("features_version", FEATURES_VERSION)
        if made_for != FEATURES_VERSION:
            raise ModelError(f"the music emotion model was made for audio features v{made_for}, this emotune "
                             f"computes v{FEATURES_VERSION}: rebuild it (python -m device.training.mer_train)")
        try:
            names = tuple(str(n) for n in document["feature_names"])
            valence = AxisModel.from_json(document["valence"], names)
            arousal = AxisModel.from_json(document["arousal"], names)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ModelError(f"music emotion model is malformed: {error}") from None
        return cls(names, valence, arousal, dict(document.get("provenance", {})))

    @classmethod
    def load(cls, path: Path | str = DEFAULT_MODEL) -> MerModel:
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"no music emotion model at {path} (make one: python -m device.training.mer_train)"
                             ) from None
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot read the music emotion model {path}: {error}") from None
        return cls.from_json(document)

    @property
    def version(self) -> str:
        """Names what a stored point was placed with: features version and the model's date."""
        return f"features v{FEATURES_VERSION}, model {self.provenance.get('date', 'undated')}"

    def place(self, features: Mapping[str, float]) -> Placement:
        """The Placement of a feature dict with (at least) this model's feature names."""
        try:
            x = np.array([float(features[n]) for n in self.feature_names], dtype=np.float64)
        except KeyError as error:
            raise ModelError(f"feature {error} missing: the model and audio_features disagree") from None
        v, a = self.valence.position(x), self.arousal.position(x)
        return Placement(v, a, quadrant(v, a), quadrant_confidence(v, a))

    def predict(self, features: Mapping[str, float]) -> tuple[float, float, str]:
        """(valence, arousal, quadrant) for a feature dict with (at least) this model's feature names."""
        placement = self.place(features)
        return placement.valence, placement.arousal, placement.quadrant


@lru_cache(maxsize=4)
def load_model(path: Path = DEFAULT_MODEL) -> MerModel:
    return MerModel.load(path)
