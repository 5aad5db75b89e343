"""How the music emotion model is chosen: candidate models and the cross-validation that judges them.

A candidate is a feature set (names from device.music.features.FEATURE_NAMES) and one classifier of the
four quadrants (not one per axis: the cues that tell happy from calm music are not those that tell angry
from sad). It is fitted on the clips' parts, and a clip's decision is the mean of its parts', as the
device hears a track. The protocol predicts accuracy on artists never heard: 10 folds stratified by
quadrant with every artist on one side only (`StratifiedGroupKFold`), repeated over artist shuffles whose
spread is reported. The best mean wins; its estimate is a little optimistic, by about the spread among
the top candidates. Why this protocol, checked against held-out artists: models/README.md,
bench/mer_protocol_check.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from device.music.embedding import EMBEDDING_NAMES
from device.music.features import FEATURE_NAMES
from device.music.mer import PAIRS, QUADRANT_SIGNS, QUADRANTS, decide

FOLDS = 10
# Computed by audio_features but not given to the model. Spectral contrast in the top band (6.4 kHz up to
# the 11 kHz Nyquist) measures how the file was made, not the music: the training clips were resampled
# from 44.1 kHz, so that band ends in the resampler's cut-off and its contrast is ~55 dB, while a file made
# at 22.05 kHz has no cut-off there and reads ~15-25 dB, which swung the model's valence by itself. Key is
# a pitch-class index (C = 0 .. B = 11), not a quantity a model can weigh.
NOT_MODELLED = frozenset({"contrast6_mean", "contrast6_std", "key"})

# The hand-made features ("all": every one the model may read) and the learned embedding (musicnn's).
ALL_FEATURES = tuple(n for n in FEATURE_NAMES if n not in NOT_MODELLED and n not in EMBEDDING_NAMES)
# What audio features v2 added (the valence cues, 7 more MFCCs, the tonnetz spread); without them, the
# features of the model shipped before, computed the same way.
V2_ADDED = frozenset({
    "tempo_stability", "harmonic_change_mean", "harmonic_change_std", "dissonance_mean", "dissonance_std",
    "roughness_mean", "roughness_std", "register", "register_spread", "contour", "texture_change",
    "harmonic_centroid", *(f"mfcc{i}_{s}" for i in range(14, 21) for s in ("mean", "std")),
    *(f"tonnetz{i}_std" for i in range(6)),
})
V1_FEATURES = tuple(n for n in ALL_FEATURES if n not in V2_ADDED)
# The textbook set: means and SDs over the clip of 20 MFCCs, chroma, centroid, contrast, rolloff, RMS,
# ZCR, tempo and onset strength (what the 69 % baseline of issue 12 used).
TEXTBOOK_FEATURES = tuple(
    n for n in FEATURE_NAMES
    if (n.startswith(("mfcc", "chroma", "centroid", "rolloff", "zcr")) and n != "chroma_spread")
    or (n.startswith("contrast") and n not in NOT_MODELLED)
    or n in ("loudness", "loudness_std", "tempo", "onset_strength_mean", "onset_strength_std")
)
FEATURE_SETS = {"v1": V1_FEATURES, "textbook": TEXTBOOK_FEATURES, "all": ALL_FEATURES,
                "embedding": EMBEDDING_NAMES, "all+embedding": ALL_FEATURES + EMBEDDING_NAMES}
HAND_SETS = ("v1", "textbook", "all")


@dataclass(frozen=True)
class Candidate:
    """A feature set and a quadrant classifier: 'logistic' (multinomial, L2, C) or 'rbf_svm' (one-vs-one,
    C, gamma = gamma_scale / features used). `select` > 0 keeps only that many of the set's features: those
    whose quadrant means differ most on the training parts (ANOVA F), chosen anew in each fold."""

    feature_set: str
    classifier: str
    c: float
    gamma_scale: float = 1.0
    select: int = 0

    @property
    def features(self) -> tuple[str, ...]:
        return FEATURE_SETS[self.feature_set]

    @property
    def used(self) -> int:
        """How many features the classifier reads."""
        return min(self.select, len(self.features)) if self.select else len(self.features)

    @property
    def name(self) -> str:
        features = f"{self.feature_set}/top{self.select}" if self.select else self.feature_set
        if self.classifier == "logistic":
            return f"{features}/logistic C={self.c:g}"
        return f"{features}/rbf_svm C={self.c:g} gamma={self.gamma_scale:g}/d"

    @property
    def description(self) -> str:
        kind = ("multinomial L2 logistic regression" if self.classifier == "logistic"
                else f"one-vs-one RBF support vector machine, gamma {self.gamma_scale:g}/{self.used}")
        chosen = (f"the {self.used} of {len(self.features)} features ({self.feature_set}) whose quadrant means differ "
                  "most (ANOVA F)" if self.select else f"{len(self.features)} features ({self.feature_set})")
        return f"{chosen}, standardised; {kind}, C={self.c:g}; four quadrants"


CANDIDATES: tuple[Candidate, ...] = tuple(
    [Candidate(s, "logistic", c) for s in FEATURE_SETS for c in (0.01, 0.1)]
    + [Candidate(s, "rbf_svm", c, g) for s in (*HAND_SETS, "embedding") for c in (1.0, 3.0) for g in (0.5, 1.0)]
    + [Candidate("all+embedding", "rbf_svm", c, g) for c in (1.0, 3.0) for g in (0.25, 0.5)]
    # Feature selection within the fold, as Panda et al. (2018) selected theirs (with ReliefF): keeping the
    # 65-80 of the 112 with the largest F scored 67.2-67.6 % against 66.6 % for all (C 1-3, gamma 0.5/d, 5
    # repeats), and 30-50 scored 64.1-64.4 %.
    + [Candidate("all", "rbf_svm", c, 0.5, select=k) for k in (70, 80) for c in (1.0, 3.0)]
    # The 200 of the 312 hand-made and learned features with the largest F: 74.2 % against 73.9 % for all
    # (3 repeats; the 250 best 74.1 %).
    + [Candidate("all+embedding", "rbf_svm", 1.0, 0.5, select=200)]
)


def fit(x: np.ndarray, quadrant: np.ndarray, candidate: Candidate) -> Any:
    """A fitted sklearn Pipeline (StandardScaler, [SelectKBest,] classifier) of the quadrant; x (clips,
    features of candidate.features), quadrant (clips,) of "Q1".."Q4"."""
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    used = min(candidate.select, x.shape[1]) if candidate.select else x.shape[1]
    if candidate.classifier == "logistic":
        model: Any = LogisticRegression(C=candidate.c, max_iter=5000)
    else:
        model = SVC(C=candidate.c, kernel="rbf", gamma=candidate.gamma_scale / used, decision_function_shape="ovo")
    steps: list[Any] = [StandardScaler()]
    if candidate.select:
        steps.append(SelectKBest(f_classif, k=used))
    return make_pipeline(*steps, model).fit(x, quadrant)


def kept_mask(pipeline: Any) -> np.ndarray | None:
    """(features given,) bool: which features a fitted `fit` pipeline reads; None when it reads them all."""
    selector = pipeline.named_steps.get("selectkbest")
    return None if selector is None else selector.get_support()


def kept_features(pipeline: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    """The names of the features a fitted `fit` pipeline reads, from the `names` it was given."""
    mask = kept_mask(pipeline)
    return names if mask is None else tuple(np.array(names)[mask])


def _folds(quadrant: np.ndarray, groups: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(quadrant)), quadrant, groups))


def axis_signs(quadrant: np.ndarray) -> dict[str, np.ndarray]:
    """{"valence": (clips,) bool, "arousal": (clips,) bool}: which side of each axis a clip's quadrant is."""
    return {"valence": np.array([QUADRANT_SIGNS[q][0] > 0 for q in quadrant]),
            "arousal": np.array([QUADRANT_SIGNS[q][1] > 0 for q in quadrant])}


def decision_width(candidate: Candidate) -> int:
    """How many decision values the classifier gives: 4 logits, or 6 one-vs-one pairs."""
    return len(QUADRANTS) if candidate.classifier == "logistic" else len(PAIRS)


@dataclass(frozen=True)
class Clips:
    """The training set: x (parts, len(FEATURE_NAMES)) the features of every part of every clip, clip
    (parts,) which clip each part is of (0..clips-1), quadrant (clips,) "Q1".."Q4", groups (clips,) the
    artist; scored (clips,) bool: False for a clip that is always learnt from and never judged (emotune's
    own pieces), None when every clip is judged."""

    x: np.ndarray
    clip: np.ndarray
    quadrant: np.ndarray
    groups: np.ndarray
    scored: np.ndarray | None = None

    def parts_of(self, clips: np.ndarray) -> np.ndarray:
        """Indices of the parts of `clips`."""
        return np.flatnonzero(np.isin(self.clip, clips))

    @property
    def judged(self) -> np.ndarray:
        """Indices of the clips the protocol judges (sorted)."""
        return np.arange(len(self.quadrant)) if self.scored is None else np.flatnonzero(self.scored)

    @property
    def always_learnt(self) -> np.ndarray:
        """Indices of the clips every fold learns from and none judges."""
        return np.zeros(0, dtype=np.int64) if self.scored is None else np.flatnonzero(~self.scored)


def clip_decisions(model: Any, x: np.ndarray, clip: np.ndarray, clips: np.ndarray) -> np.ndarray:
    """(len(clips), decision_width) each clip's decision values averaged over its parts (x (parts, d), clip
    (parts,) among `clips`), as the device averages a track's."""
    per_part = np.asarray(model.decision_function(x))
    row = np.searchsorted(clips, clip)
    total = np.zeros((len(clips), per_part.shape[1]))
    np.add.at(total, row, per_part)
    return total / np.bincount(row, minlength=len(clips))[:, None]


@dataclass(frozen=True)
class OutOfFold:
    """Each judged clip's decision values and predicted quadrant from the model of the fold that did not hear its
    artist, one row per artist shuffle: decisions (repeats, clips, decision_width), predicted (repeats,
    clips) of "Q1".."Q4"."""

    decisions: np.ndarray
    predicted: np.ndarray


def out_of_fold(data: Clips, candidate: Candidate, repeats: int, x: np.ndarray | None = None) -> OutOfFold:
    """Out-of-fold decisions of `candidate` for the judged clips (data.judged, in that order), fitted on the
    parts of the fold's training clips and of the clips always learnt from. `x`: (parts, d) features to
    use instead of data.x's columns named by candidate.features (bench/mer_embeddings_experiment.py)."""
    if x is None:
        x = data.x[:, [FEATURE_NAMES.index(n) for n in candidate.features]]
    judged, always = data.judged, data.always_learnt
    decisions = np.zeros((repeats, len(judged), decision_width(candidate)))
    for seed in range(repeats):
        for train, unsorted_test in _folds(data.quadrant[judged], data.groups[judged], seed):
            test = np.sort(unsorted_test)
            fitted = data.parts_of(np.concatenate([judged[train], always]))
            tested = data.parts_of(judged[test])
            model = fit(x[fitted], data.quadrant[data.clip[fitted]], candidate)
            decisions[seed, test] = clip_decisions(model, x[tested], data.clip[tested], judged[test])
    predicted = np.array(QUADRANTS)[decide(decisions.reshape(-1, decisions.shape[2]))].reshape(repeats, len(judged))
    return OutOfFold(decisions, predicted)


def score(predicted: np.ndarray, quadrant: np.ndarray) -> dict[str, Any]:
    """Accuracy of out-of-fold quadrants predicted (repeats, clips): quadrant, valence and arousal sign
    accuracy (means over repeats), their SDs over repeats, and per-quadrant recall."""
    truth, guess = axis_signs(quadrant), {k: np.array([axis_signs(row)[k] for row in predicted])
                                         for k in ("valence", "arousal")}
    right = predicted == quadrant
    v_right, a_right = guess["valence"] == truth["valence"], guess["arousal"] == truth["arousal"]
    return {
        "quadrant_accuracy": round(float(right.mean()), 4),
        "quadrant_accuracy_sd": round(float(right.mean(axis=1).std()), 4),
        "valence_accuracy": round(float(v_right.mean()), 4),
        "valence_accuracy_sd": round(float(v_right.mean(axis=1).std()), 4),
        "arousal_accuracy": round(float(a_right.mean()), 4),
        "arousal_accuracy_sd": round(float(a_right.mean(axis=1).std()), 4),
        "recall": {q: round(float(right[:, quadrant == q].mean()), 4) for q in QUADRANT_SIGNS},
    }


@dataclass(frozen=True)
class Choice:
    """The chosen candidate, its estimate, every candidate's, and its out-of-fold decisions (for
    calibration)."""

    candidate: Candidate
    estimate: dict[str, Any]
    candidates: dict[str, dict[str, Any]]
    decisions: np.ndarray  # (repeats, clips, decision_width)


def complexity(candidate: Candidate) -> tuple[bool, int, float, float]:
    """Orders candidates from the simplest: linear before RBF, fewer features, then stronger regularisation
    (smaller C) and a smoother kernel (smaller gamma)."""
    return candidate.classifier == "rbf_svm", len(candidate.features), candidate.c, candidate.gamma_scale


def choose(data: Clips, candidates: tuple[Candidate, ...], repeats: int) -> Choice:
    """The candidate with the best mean quadrant accuracy over the repeated grouped folds (a tie goes to the
    simplest)."""
    runs = {c: out_of_fold(data, c, repeats) for c in candidates}
    table = {c.name: score(runs[c].predicted, data.quadrant[data.judged]) for c in candidates}
    best = min(candidates, key=lambda c: (-table[c.name]["quadrant_accuracy"], complexity(c)))
    return Choice(best, table[best.name], table, runs[best].decisions)


def calibration(decisions: np.ndarray, quadrant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weights (decision_width, 4), bias (4,)) of a multinomial logistic regression from out-of-fold
    decisions (repeats, clips, decision_width) to the quadrant, columns in QUADRANTS order."""
    from sklearn.linear_model import LogisticRegression

    repeats, _, width = decisions.shape
    model = LogisticRegression(C=1.0, max_iter=5000).fit(decisions.reshape(-1, width), np.tile(quadrant, repeats))
    order = [list(model.classes_).index(q) for q in QUADRANTS]
    return model.coef_[order].T, model.intercept_[order]
