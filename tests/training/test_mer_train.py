"""The music emotion model's training (device.training.mer_train): what the device reads with numpy alone
gives the training library's answers, calibrated so the sign is the quadrant and the size the certainty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from device.music.features import FEATURE_NAMES
from device.music.mer import MerModel, quadrant, quadrant_confidence
from device.training.mer_protocol import Candidate, choose, fit_axis
from device.training.mer_train import build_document


def _clips(rng: np.random.Generator, n: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features that are noisy mixtures of three hidden qualities (as audio features are of a few musical
    ones), in each feature's own units; valence hangs non-linearly on the first two, arousal on the third."""
    hidden = rng.normal(size=(n, 3))
    mixing = rng.normal(size=(3, len(FEATURE_NAMES)))
    x = (hidden @ mixing + 0.3 * rng.normal(size=(n, len(FEATURE_NAMES)))) * rng.uniform(0.5, 50, len(FEATURE_NAMES))
    valence = hidden[:, 0] ** 2 - hidden[:, 1] ** 2 > 0
    arousal = hidden[:, 2] > 0
    quadrants = np.array([quadrant(1 if v else -1, 1 if a else -1) for v, a in zip(valence, arousal, strict=True)])
    groups = np.array([f"artist {i // 4}" for i in range(n)])  # four clips per artist
    return x, quadrants, groups


@pytest.mark.parametrize("candidate", [Candidate("all", "rbf_svm", 3.0, 1.0), Candidate("v1", "logistic", 0.1)],
                         ids=lambda c: c.classifier)
def test_the_device_reads_the_model_as_scikit_learn_predicts(candidate: Candidate) -> None:
    x, quadrants, groups = _clips(np.random.default_rng(7))
    document = build_document(x, quadrants, choose(x, quadrants, groups, (candidate,), repeats=1), repeats=1)
    model = MerModel.from_json(document)
    columns = [FEATURE_NAMES.index(n) for n in candidate.features]
    own = [model.feature_names.index(n) for n in candidate.features]
    v_true = np.isin(quadrants, ["Q1", "Q4"])
    a_true = np.isin(quadrants, ["Q1", "Q2"])
    sk_valence = fit_axis(x[:, columns], v_true, candidate)
    sk_arousal = fit_axis(x[:, columns], a_true, candidate)
    probe = x[:40] + np.random.default_rng(8).normal(size=(40, x.shape[1])) * x.std(axis=0)  # clips neither saw
    for row in probe:
        features = dict(zip(FEATURE_NAMES, row, strict=True))
        placement = model.place(features)
        d_valence = float(sk_valence.decision_function(row[columns][None])[0])
        d_arousal = float(sk_arousal.decision_function(row[columns][None])[0])
        vector = np.array([features[n] for n in model.feature_names])
        assert model.valence.decision(vector[own]) == pytest.approx(d_valence, rel=1e-4, abs=1e-5)
        assert model.arousal.decision(vector[own]) == pytest.approx(d_arousal, rel=1e-4, abs=1e-5)
        slope_v = document["valence"]["calibration"]["slope"]
        assert placement.valence == pytest.approx(math.tanh(slope_v * d_valence / 2), abs=1e-4)
        # calibrated, the sign is still the classifier's: the quadrant is what scikit-learn predicts
        sk_quadrant = quadrant(1 if sk_valence.predict(row[columns][None])[0] else -1,
                               1 if sk_arousal.predict(row[columns][None])[0] else -1)
        assert placement.quadrant == sk_quadrant
        assert placement.confidence == pytest.approx(quadrant_confidence(placement.valence, placement.arousal))
        assert 0.25 <= placement.confidence <= 1


def test_calibration_makes_certainty_mean_accuracy() -> None:
    """Clips the model places near the middle are right less often than those it places far out."""
    x, quadrants, groups = _clips(np.random.default_rng(11), n=400)
    candidate = Candidate("all", "rbf_svm", 3.0, 1.0)
    train, test = np.arange(300), np.arange(300, 400)
    choice = choose(x[train], quadrants[train], groups[train], (candidate,), repeats=1)
    document = build_document(x[train], quadrants[train], choice, repeats=1)
    model = MerModel.from_json(document)
    placements = [model.place(dict(zip(FEATURE_NAMES, row, strict=True))) for row in x[test]]
    v_true = np.isin(quadrants[test], ["Q1", "Q4"])
    sure = np.array([abs(p.valence) for p in placements])
    right = np.array([(p.valence > 0) == t for p, t in zip(placements, v_true, strict=True)])
    confident = sure >= np.median(sure)
    assert right[confident].mean() > right[~confident].mean()
    # and the stated probability is not far from the rate at which it is right
    assert abs(float(np.mean((1 + sure) / 2)) - float(right.mean())) < 0.15


def test_each_axis_gets_the_model_that_reads_it_best() -> None:
    """Valence here hangs on a non-linear pair of features, arousal on one feature linearly: the protocol
    picks per axis, and the device reads a file whose two axes use different features and classifiers."""
    x, quadrants, groups = _clips(np.random.default_rng(5), n=240)
    candidates = (Candidate("all", "rbf_svm", 3.0, 1.0), Candidate("all", "logistic", 0.1))
    choice = choose(x, quadrants, groups, candidates, repeats=2)
    assert choice.valence.classifier == "rbf_svm"
    table = choice.candidates
    assert choice.estimate["valence_accuracy"] == max(t["valence_accuracy"] for t in table.values())
    assert choice.estimate["arousal_accuracy"] == max(t["arousal_accuracy"] for t in table.values())
    model = MerModel.from_json(build_document(x, quadrants, choice, repeats=2))
    placement = model.place(dict(zip(FEATURE_NAMES, x[0], strict=True)))
    assert placement.quadrant == quadrant(placement.valence, placement.arousal)
