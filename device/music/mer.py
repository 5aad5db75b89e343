"""Music emotion recognition: audio features → a quadrant of the valence–arousal plane and a point in it.

`models/mer.json` (made by `python -m device.training.mer_train`) holds one classifier of the four
quadrants, a standardised RBF SVM (one-vs-one vote, as libsvm decides) or a multinomial logistic
regression, whose decision values, averaged over a track's parts, are calibrated to quadrant
probabilities. Reading it needs numpy only (no scikit-learn, no pickle). The point's signs are the
quadrant; each coordinate's size is 2·P(that side) − 1, at least MIN_CERTAINTY so the sign survives when
the calibration leans the other way; `confidence` is the quadrant's probability. Quadrants (Russell):
Q1 +valence +arousal, Q2 -valence +arousal, Q3 -valence -arousal, Q4 +valence -arousal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from device.config import PACKAGE_ROOT
from device.errors import ModelError

# Bump when audio_features changes what a feature means, so cached features and old models are redone.
FEATURES_VERSION = 3
DEFAULT_MODEL = PACKAGE_ROOT / "models" / "mer.json"
# Below this probability that the quadrant is right, a placement is called unsure (analyze says so).
UNSURE_BELOW = 0.5
QUADRANT_SIGNS = {"Q1": (1, 1), "Q2": (-1, 1), "Q3": (-1, -1), "Q4": (1, -1)}
QUADRANTS = tuple(QUADRANT_SIGNS)
# The pairs of a one-vs-one classifier, in libsvm's (and scikit-learn's) order: (Q1,Q2), (Q1,Q3) .. (Q3,Q4).
PAIRS = tuple(combinations(range(len(QUADRANTS)), 2))
# The smallest size of a coordinate, so a point never leaves its quadrant for the axis.
MIN_CERTAINTY = 0.01


def quadrant(valence: float, arousal: float) -> str:
    if arousal >= 0:
        return "Q1" if valence >= 0 else "Q2"
    return "Q4" if valence >= 0 else "Q3"


@dataclass(frozen=True)
class Placement:
    """Where a track sits: valence and arousal in [-1, 1] (sign = side of the axis, size = certainty), its
    quadrant, and `confidence`, the model's probability that the quadrant is right (0 .. 1)."""

    valence: float
    arousal: float
    quadrant: str
    confidence: float


def point_in(quadrant_name: str, probabilities: np.ndarray) -> tuple[float, float]:
    """(valence, arousal) in the quadrant, each of size 2·P(that side) − 1 (at least MIN_CERTAINTY);
    probabilities: (4,) over QUADRANTS."""
    p = dict(zip(QUADRANTS, probabilities.tolist(), strict=True))
    sign_v, sign_a = QUADRANT_SIGNS[quadrant_name]
    p_valence = p["Q1"] + p["Q4"] if sign_v > 0 else p["Q2"] + p["Q3"]
    p_arousal = p["Q1"] + p["Q2"] if sign_a > 0 else p["Q3"] + p["Q4"]
    return (sign_v * min(1.0, max(MIN_CERTAINTY, 2 * p_valence - 1)),
            sign_a * min(1.0, max(MIN_CERTAINTY, 2 * p_arousal - 1)))


def decide(decisions: np.ndarray) -> np.ndarray:
    """Quadrant indices (n,) (0..3 over QUADRANTS) from decision values (n, 4) (logits: the largest) or
    (n, 6) (one-vs-one: the vote, ties to the first quadrant, as libsvm decides)."""
    if decisions.shape[1] == len(QUADRANTS):
        return np.argmax(decisions, axis=1)
    votes = np.zeros((decisions.shape[0], len(QUADRANTS)))
    for k, (i, j) in enumerate(PAIRS):
        votes[:, i] += decisions[:, k] > 0
        votes[:, j] += decisions[:, k] <= 0
    return np.argmax(votes, axis=1)


def _array(part: Mapping[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(part[key], dtype=np.float64)
    if array.shape != shape or not np.isfinite(array).all():
        raise ValueError(f"{key} must be {'x'.join(map(str, shape))} finite numbers, got shape {array.shape}")
    return array


@dataclass(frozen=True)
class QuadrantClassifier:
    """The classifier over standardised features: `decisions(x)` its raw decision values, `vote` its
    quadrant index (0..3 over QUADRANTS)."""

    mean: np.ndarray  # (features,)
    scale: np.ndarray  # (features,)
    coef: np.ndarray | None = None  # logistic: (4, features)
    intercept: np.ndarray | None = None  # logistic: (4,); rbf_svm: (6,) one per pair
    support_vectors: np.ndarray | None = None  # rbf_svm: (vectors, features), standardised units
    n_support: tuple[int, ...] = ()  # rbf_svm: support vectors per class, in order
    dual_coef: np.ndarray | None = None  # rbf_svm: (3, vectors)
    gamma: float = 0.0

    def decisions(self, x: np.ndarray) -> np.ndarray:
        """(6,) one-vs-one decision values (positive: the pair's first quadrant) or (4,) logits for the
        model's feature vector x (features,)."""
        z = (x - self.mean) / self.scale
        assert self.intercept is not None
        if self.coef is not None:
            return self.coef @ z + self.intercept
        assert self.support_vectors is not None and self.dual_coef is not None
        kernel = np.exp(-self.gamma * np.sum((self.support_vectors - z) ** 2, axis=1))
        starts = np.concatenate([[0], np.cumsum(self.n_support)])
        out = np.empty(len(PAIRS))
        for k, (i, j) in enumerate(PAIRS):
            # libsvm's layout: class i's vectors weigh with row j-1, class j's with row i.
            si, sj = slice(starts[i], starts[i + 1]), slice(starts[j], starts[j + 1])
            out[k] = (self.dual_coef[j - 1, si] @ kernel[si] + self.dual_coef[i, sj] @ kernel[sj]
                      + self.intercept[k])
        return out

    def vote(self, decisions: np.ndarray) -> int:
        """The quadrant index the classifier decides for decision values (4,) or (6,)."""
        return int(decide(decisions[None])[0])

    @classmethod
    def from_json(cls, part: Mapping[str, Any], features: int) -> QuadrantClassifier:
        """ValueError/KeyError/TypeError when malformed."""
        mean, scale = _array(part, "mean", (features,)), _array(part, "scale", (features,))
        scale = np.where(scale > 0, scale, 1.0)
        kind = part.get("type")
        if kind == "logistic":
            return cls(mean, scale, coef=_array(part, "coef", (len(QUADRANTS), features)),
                       intercept=_array(part, "intercept", (len(QUADRANTS),)))
        if kind == "rbf_svm":
            n_support = tuple(int(n) for n in part["n_support"])
            if len(n_support) != len(QUADRANTS) or min(n_support) < 1:
                raise ValueError(f"n_support must be {len(QUADRANTS)} positive counts")
            vectors = sum(n_support)
            return cls(mean, scale, intercept=_array(part, "intercept", (len(PAIRS),)),
                       support_vectors=_array(part, "support_vectors", (vectors, features)), n_support=n_support,
                       dual_coef=_array(part, "dual_coef", (len(QUADRANTS) - 1, vectors)),
                       gamma=float(part["gamma"]))
        raise ValueError(f"unknown model type {kind!r}")


@dataclass(frozen=True)
class Calibration:
    """Quadrant probabilities softmax(decisions @ weights + bias): weights (decisions, 4), bias (4,)."""

    weights: np.ndarray
    bias: np.ndarray

    def probabilities(self, decisions: np.ndarray) -> np.ndarray:
        logits = decisions @ self.weights + self.bias
        e = np.exp(logits - logits.max())
        return e / e.sum()

    @classmethod
    def from_json(cls, part: Mapping[str, Any], decisions: int) -> Calibration:
        return cls(_array(part, "weights", (decisions, len(QUADRANTS))), _array(part, "bias", (len(QUADRANTS),)))


@dataclass(frozen=True)
class MerModel:
    feature_names: tuple[str, ...]
    classifier: QuadrantClassifier
    calibration: Calibration
    provenance: dict[str, Any]

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> MerModel:
        made_for = document.get("features_version", FEATURES_VERSION)
        if made_for != FEATURES_VERSION:
            raise ModelError(f"the music emotion model was made for audio features v{made_for}, this emotune "
                             f"computes v{FEATURES_VERSION}: rebuild it (python -m device.training.mer_train)")
        if "classifier" not in document and "valence" in document:
            raise ModelError("the music emotion model has one classifier per axis, a format this emotune no "
                             "longer reads: rebuild it (python -m device.training.mer_train)")
        try:
            names = tuple(str(n) for n in document["feature_names"])
            classifier = QuadrantClassifier.from_json(document["classifier"], len(names))
            outputs = len(QUADRANTS) if classifier.coef is not None else len(PAIRS)
            calibration = Calibration.from_json(document["calibration"], outputs)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ModelError(f"music emotion model is malformed: {error}") from None
        return cls(names, classifier, calibration, dict(document.get("provenance", {})))

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
        model = cls.from_json(document)
        _check_embedding(document.get("embedding"), path)
        return model

    @property
    def version(self) -> str:
        """Names what a stored point was placed with: features version and the model's date."""
        return f"features v{FEATURES_VERSION}, model {self.provenance.get('date', 'undated')}"

    def vector(self, features: Mapping[str, float]) -> np.ndarray:
        """(features,) this model's features from a feature dict; one that cannot be measured counts as
        typical (the training mean)."""
        try:
            x = np.array([float(features[n]) for n in self.feature_names], dtype=np.float64)
        except KeyError as error:
            raise ModelError(f"feature {error} missing: the model and audio_features disagree") from None
        return np.where(np.isfinite(x), x, self.classifier.mean)

    def place(self, parts: Mapping[str, float] | Sequence[Mapping[str, float]]) -> Placement:
        """The Placement of a track from the feature dicts of its parts (device.music.features.AudioAnalysis
        .parts; one dict: one part), each with (at least) this model's feature names: the classifier's
        decision values are averaged over the parts, then voted and calibrated."""
        if isinstance(parts, Mapping):
            parts = [parts]
        if not parts:
            raise ModelError("nothing to place: no analysed part")
        decisions = np.mean([self.classifier.decisions(self.vector(p)) for p in parts], axis=0)
        name = QUADRANTS[self.classifier.vote(decisions)]
        probabilities = self.calibration.probabilities(decisions)
        v, a = point_in(name, probabilities)
        return Placement(v, a, name, float(probabilities[QUADRANTS.index(name)]))

    def predict(self, parts: Mapping[str, float] | Sequence[Mapping[str, float]]) -> tuple[float, float, str]:
        """(valence, arousal, quadrant) of `place(parts)`."""
        placement = self.place(parts)
        return placement.valence, placement.arousal, placement.quadrant


def _check_embedding(learnt_with: Any, path: Path) -> None:
    """ModelError unless the learned embedding this device computes is the one the model learnt from (its
    file's sha256, kept in the model as "embedding"): another network's 200 values would be read as if
    they were musicnn's, and no error would show."""
    if not isinstance(learnt_with, Mapping) or "sha256" not in learnt_with:
        return
    from device.music.embedding import MODEL

    try:
        installed = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    except OSError:
        return  # the analysis says what is missing, with what to do
    if installed != learnt_with["sha256"]:
        raise ModelError(f"{path} learnt from the audio embedding {str(learnt_with['sha256'])[:12]}…, but "
                         f"{MODEL} is {installed[:12]}…: reinstall emotune, or rebuild the music model "
                         "(python -m device.training.mer_train)")


@lru_cache(maxsize=4)
def load_model(path: Path = DEFAULT_MODEL) -> MerModel:
    return MerModel.load(path)
