"""The music emotion model's training (device.training.mer_train): what the device reads with numpy alone
gives the training library's answers, calibrated so the sign is the quadrant and the size the certainty."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.music.features import FEATURE_NAMES
from device.music.mer import QUADRANT_SIGNS, QUADRANTS, MerModel, quadrant
from device.training.mer_protocol import Candidate, Clips, choose, fit
from device.training.mer_train import _read_cache, _save_cache, build_document


def _whole(x: np.ndarray, quadrants: np.ndarray, groups: np.ndarray) -> Clips:
    """Clips heard as one part each."""
    return Clips(x, np.arange(len(x)), quadrants, groups)


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


@pytest.mark.parametrize("candidate", [Candidate("all", "rbf_svm", 3.0, 1.0), Candidate("v1", "logistic", 0.1),
                                       Candidate("all", "rbf_svm", 1.0, 0.5, select=40)],
                         ids=lambda c: c.name)
def test_the_device_reads_the_model_as_scikit_learn_predicts(candidate: Candidate) -> None:
    x, quadrants, groups = _clips(np.random.default_rng(7))
    data = _whole(x, quadrants, groups)
    document = build_document(data, choose(data, (candidate,), repeats=1), repeats=1)
    model = MerModel.from_json(document)
    columns = [FEATURE_NAMES.index(n) for n in candidate.features]
    trained = fit(x[:, columns], quadrants, candidate)
    probe = x[:40] + np.random.default_rng(8).normal(size=(40, x.shape[1])) * x.std(axis=0)  # clips neither saw
    if candidate.select:  # the device reads only the chosen features: a change to another moves nothing
        assert len(model.feature_names) == candidate.select and set(model.feature_names) < set(candidate.features)
        left_out = next(n for n in candidate.features if n not in model.feature_names)
        features = dict(zip(FEATURE_NAMES, probe[0], strict=True))
        assert model.place({**features, left_out: 1e9}) == model.place(features)
    seen = set()
    for row in probe:
        features = dict(zip(FEATURE_NAMES, row, strict=True))
        placement = model.place(features)
        expected = trained.decision_function(row[columns][None])[0]
        assert model.classifier.decisions(model.vector(features)) == pytest.approx(expected, rel=1e-4, abs=1e-5)
        # calibrated, the quadrant is still the classifier's: what scikit-learn predicts
        assert placement.quadrant == trained.predict(row[columns][None])[0]
        assert placement.quadrant == quadrant(placement.valence, placement.arousal)
        assert 0 < placement.confidence <= 1
        seen.add(placement.quadrant)
    assert len(seen) >= 3  # the probes reach most of the plane, so every branch of the vote is compared


def test_calibration_makes_certainty_mean_accuracy() -> None:
    """Clips the model places near the middle are right less often than those it places far out, and the
    stated probability of the quadrant is near the rate at which it is right."""
    x, quadrants, groups = _clips(np.random.default_rng(11), n=480)
    candidate = Candidate("all", "rbf_svm", 3.0, 1.0)
    train, test = np.arange(360), np.arange(360, 480)
    data = _whole(x[train], quadrants[train], groups[train])
    model = MerModel.from_json(build_document(data, choose(data, (candidate,), repeats=2), repeats=2))
    placements = [model.place(dict(zip(FEATURE_NAMES, row, strict=True))) for row in x[test]]
    right = np.array([p.quadrant == t for p, t in zip(placements, quadrants[test], strict=True)])
    confidence = np.array([p.confidence for p in placements])
    confident = confidence >= np.median(confidence)
    assert right[confident].mean() > right[~confident].mean()
    assert abs(float(confidence.mean()) - float(right.mean())) < 0.12
    # each coordinate's size says how sure the valence (arousal) side is: larger when that side is right
    v_right = np.array([(p.valence > 0) == (QUADRANT_SIGNS[t][0] > 0)
                        for p, t in zip(placements, quadrants[test], strict=True)])
    size = np.abs([p.valence for p in placements])
    assert size[v_right].mean() > size[~v_right].mean()


def test_the_protocol_picks_the_model_that_reads_the_quadrants_best() -> None:
    """Valence here hangs on a non-linear pair of features: the RBF machine reads it, the linear model
    cannot, and the protocol picks by out-of-fold quadrant accuracy."""
    x, quadrants, groups = _clips(np.random.default_rng(5), n=240)
    candidates = (Candidate("all", "rbf_svm", 3.0, 1.0), Candidate("all", "logistic", 0.1))
    choice = choose(_whole(x, quadrants, groups), candidates, repeats=2)
    assert choice.candidate.classifier == "rbf_svm"
    table = choice.candidates
    assert table[candidates[0].name]["quadrant_accuracy"] > table[candidates[1].name]["quadrant_accuracy"] + 0.1
    assert choice.estimate == table[candidates[0].name]
    assert set(choice.estimate["recall"]) == set(QUADRANTS)


def test_a_track_is_placed_from_all_its_parts() -> None:
    """Fitted on the parts of clips (three each, as a 30-second clip is cut), the model places a track
    from the mean of its parts' decisions, as the protocol scored it: a track with one part unlike the
    others goes where most of its evidence is, though that part alone is placed elsewhere."""
    rng = np.random.default_rng(3)
    x, quadrants, groups = _clips(rng, n=120)
    parts = np.repeat(x, 3, axis=0) + 0.3 * rng.normal(size=(360, x.shape[1])) * x.std(axis=0)
    data = Clips(parts, np.repeat(np.arange(120), 3), quadrants, groups)
    candidate = Candidate("all", "rbf_svm", 3.0, 1.0)
    model = MerModel.from_json(build_document(data, choose(data, (candidate,), repeats=1), repeats=1))
    columns = [FEATURE_NAMES.index(n) for n in candidate.features]
    trained = fit(parts[:, columns], quadrants[data.clip], candidate)

    def placed(row: np.ndarray) -> str:
        return model.place(dict(zip(FEATURE_NAMES, row, strict=True))).quadrant

    odd_placed_elsewhere = 0
    for clip in range(40):
        other = next(j for j in range(clip + 1, clip + 120) if placed(x[j % 120]) != placed(x[clip]))
        rows = np.stack([x[clip], x[clip], x[other % 120]])  # two parts of one clip, one of another
        mean = trained.decision_function(rows[:, columns]).mean(axis=0)
        votes = np.zeros(4)
        for k, (i, j) in enumerate([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]):
            votes[i if mean[k] > 0 else j] += 1
        track = model.place([dict(zip(FEATURE_NAMES, row, strict=True)) for row in rows])
        assert track.quadrant == QUADRANTS[int(np.argmax(votes))]
        odd_placed_elsewhere += placed(rows[2]) != track.quadrant
    assert odd_placed_elsewhere >= 30  # most tracks follow their two like parts


def test_clips_always_learnt_are_in_every_fold_and_never_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    """emotune's own pieces are learnt in every fold, and the estimate is the clips' alone."""
    from device.training import mer_protocol

    rng = np.random.default_rng(3)
    x, quadrants, groups = _clips(rng, 80)
    own = x[:10] + 0.1 * rng.normal(size=(10, x.shape[1]))
    own[:, 0] = 12345.0  # a mark the spy can find them by
    data = Clips(np.vstack([x, own]), np.arange(90), np.concatenate([quadrants, ["Q1"] * 10]),
                 np.concatenate([groups, ["emotune"] * 10]), scored=np.arange(90) < 80)
    fits: list[int] = []
    real_fit = mer_protocol.fit

    def spy(features: np.ndarray, labels: np.ndarray, candidate: Candidate) -> object:
        fits.append(int(np.sum(features[:, 0] == 12345.0)))
        return real_fit(features, labels, candidate)

    monkeypatch.setattr(mer_protocol, "fit", spy)
    candidate = Candidate("all", "rbf_svm", 1.0, 0.5)
    run = mer_protocol.out_of_fold(data, candidate, repeats=2)
    assert run.decisions.shape == (2, 80, 6) and run.predicted.shape == (2, 80)
    assert fits == [10] * 20  # 10 folds × 2 repeats, each with all ten pieces
    choice = choose(data, (candidate,), repeats=2)
    assert choice.decisions.shape[1] == 80
    document = build_document(data, choice, repeats=2)
    data_note = document["provenance"]["data"]
    assert "80 clips" in data_note and "10 of emotune's own pieces" in data_note


def test_the_feature_cache_is_replaced_whole_and_read_back(tmp_path: Path) -> None:
    cache = tmp_path / "mer4q-parts.npz"
    one_part, two_parts = [[1.0] * len(FEATURE_NAMES)], [[2.0] * len(FEATURE_NAMES), [3.0] * len(FEATURE_NAMES)]
    _save_cache(cache, ["a.mp3"], [one_part])
    _save_cache(cache, ["a.mp3", "b.mp3"], [one_part, two_parts])  # saved as it goes: replaces the last
    assert _read_cache(cache) == {"a.mp3": one_part, "b.mp3": two_parts}
    assert [p.name for p in tmp_path.iterdir()] == ["mer4q-parts.npz"]  # no temporary file left
