"""The music emotion model (device.music.mer): the shipped model, quadrants, malformed model files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.errors import ModelError
from device.music.features import FEATURE_NAMES
from device.music.mer import DEFAULT_MODEL, MIN_CERTAINTY, QUADRANT_SIGNS, MerModel, point_in, quadrant


def test_shipped_model_loads_and_maps_to_the_plane(features: dict[str, dict[str, float]]) -> None:
    model = MerModel.load(DEFAULT_MODEL)
    # The features it reads, in the order audio_features computes them; the top band's contrast (a trace of
    # how the file was made) and the key index are computed but not modelled.
    assert model.feature_names == tuple(n for n in FEATURE_NAMES if n in model.feature_names)
    assert not {"contrast6_mean", "contrast6_std", "key"} & set(model.feature_names)
    assert "grouped by artist" in model.provenance["protocol"]
    for values in features.values():
        v, a, q = model.predict(values)
        assert -1 <= v <= 1 and -1 <= a <= 1 and q == quadrant(v, a)
        placement = model.place(values)
        assert 0 < placement.confidence <= 1 and placement.quadrant == q
    extreme = {name: 1e6 for name in FEATURE_NAMES}
    assert all(-1 <= x <= 1 for x in model.predict(extreme)[:2])


def test_quadrants_and_malformed_models(tmp_path: Path) -> None:
    for name, (v, a) in QUADRANT_SIGNS.items():
        assert quadrant(0.5 * v, 0.5 * a) == name
    with pytest.raises(ModelError, match="malformed"):
        MerModel.from_json({"feature_names": ["tempo"], "classifier": {"mean": [0, 1]}})
    svm = {"type": "rbf_svm", "mean": [0.0], "scale": [1.0], "intercept": [0.0] * 6, "gamma": 1.0,
           "n_support": [1, 1, 1, 1], "support_vectors": [[0.0], [1.0], [2.0], [3.0]],
           "dual_coef": [[1.0] * 4] * 2}  # one row of dual coefficients short
    calibration = {"weights": [[0.0] * 4] * 6, "bias": [0.0] * 4}
    document = {"feature_names": ["tempo"], "classifier": svm, "calibration": calibration}
    with pytest.raises(ModelError, match="dual_coef"):
        MerModel.from_json(document)
    with pytest.raises(ModelError, match="unknown model type"):
        MerModel.from_json({**document, "classifier": {**svm, "type": "forest"}})
    with pytest.raises(ModelError, match="rebuild"):
        MerModel.from_json({"features_version": 0})
    with pytest.raises(ModelError, match=r"one classifier per axis.*rebuild"):
        MerModel.from_json({"feature_names": ["tempo"], "valence": svm, "arousal": svm})
    with pytest.raises(ModelError, match="no music emotion model"):
        MerModel.load(tmp_path / "missing.json")


def test_a_point_keeps_its_quadrant_and_says_how_sure_each_side_is() -> None:
    # probabilities that lean to Q1 on valence but were voted Q4: the point stays in Q4, on the axis' edge
    v, a = point_in("Q4", np.array([0.5, 0.1, 0.1, 0.3]))
    assert quadrant(v, a) == "Q4" and v == pytest.approx(0.6) and a == -MIN_CERTAINTY
    v, a = point_in("Q2", np.array([0.0, 1.0, 0.0, 0.0]))
    assert (v, a) == (-1.0, 1.0)


def test_a_model_learnt_beside_another_audio_embedding_is_refused(tmp_path: Path) -> None:
    """The shipped model names the embedding it learnt from; beside another network's file it would read
    that network's 200 values as musicnn's and place every song wrong without a word."""
    import hashlib
    import json

    from device.music.embedding import MODEL

    document = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    assert document["embedding"]["sha256"] == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    document["embedding"]["sha256"] = "0" * 64
    other = tmp_path / "mer.json"
    other.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ModelError, match=r"learnt from the audio embedding 000000000000…, but .*music_embedding"):
        MerModel.load(other)
