"""Music emotion recognition: audio features → a point on the valence–arousal plane and a quadrant.

The model (`models/mer.json`, made by `python -m device.training.mer_train`) is two standardised
logistic regressions over `device.music.features.FEATURE_NAMES`: one for P(valence > 0), one for
P(arousal > 0), learned from the 4-quadrant MER clips. The point is v = 2p - 1, a = 2q - 1, so its
distance from an axis says how sure the model is. Reading it needs numpy only (no scikit-learn, no pickle).

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
FEATURES_VERSION = 1
DEFAULT_MODEL = PACKAGE_ROOT / "models" / "mer.json"
QUADRANT_SIGNS = {"Q1": (1, 1), "Q2": (-1, 1), "Q3": (-1, -1), "Q4": (1, -1)}


def quadrant(valence: float, arousal: float) -> str:
    if arousal >= 0:
        return "Q1" if valence >= 0 else "Q2"
    return "Q4" if valence >= 0 else "Q3"


@dataclass(frozen=True)
class _Logistic:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, x: np.ndarray) -> float:
        z = float(((x - self.mean) / self.scale) @ self.coef + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, z))))


@dataclass(frozen=True)
class MerModel:
    feature_names: tuple[str, ...]
    valence: _Logistic
    arousal: _Logistic
    provenance: dict[str, Any]

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> MerModel:
        made_for = document.get("features_version", FEATURES_VERSION)
        if made_for != FEATURES_VERSION:
            raise ModelError(f"the music emotion model was made for audio features v{made_for}, this emotune "
                             f"computes v{FEATURES_VERSION}: rebuild it (python -m device.training.mer_train)")
        try:
            names = tuple(str(n) for n in document["feature_names"])
            parts = []
            for key in ("valence", "arousal"):
                part = document[key]
                arrays = [np.asarray(part[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
                if any(a.shape != (len(names),) for a in arrays) or not all(np.isfinite(a).all() for a in arrays):
                    raise ValueError(f"{key}: mean/scale/coef must be {len(names)} finite numbers")
                arrays[1] = np.where(arrays[1] > 0, arrays[1], 1.0)
                parts.append(_Logistic(arrays[0], arrays[1], arrays[2], float(part["intercept"])))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"music emotion model is malformed: {error}") from None
        return cls(names, parts[0], parts[1], dict(document.get("provenance", {})))

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

    def predict(self, features: Mapping[str, float]) -> tuple[float, float, str]:
        """(valence, arousal, quadrant) for a feature dict with (at least) this model's feature names."""
        try:
            x = np.array([float(features[n]) for n in self.feature_names], dtype=np.float64)
        except KeyError as error:
            raise ModelError(f"feature {error} missing: the model and audio_features disagree") from None
        x = np.where(np.isfinite(x), x, self.valence.mean)
        v = 2.0 * self.valence.probability(x) - 1.0
        a = 2.0 * self.arousal.probability(x) - 1.0
        return v, a, quadrant(v, a)


@lru_cache(maxsize=4)
def load_model(path: Path = DEFAULT_MODEL) -> MerModel:
    return MerModel.load(path)
