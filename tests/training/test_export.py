"""The int8 export of a model trained on tests.synthetic: it behaves like the Keras model it came from, and
describes itself in the JSON beside it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from device import EMOTION_LABELS
from device.listener.fer2013 import load_fer2013

pytestmark = pytest.mark.slow  # the session's training run (tests/training/conftest.py) takes ~15 s


def test_int8_model_learned_and_agrees_with_float(trained: dict[str, Path], synthetic_npz: Path) -> None:
    import keras

    from device.emotion import EmotionClassifier
    from device.preprocess import preprocess_batch

    test = load_fer2013(synthetic_npz).private_test
    float_model = keras.models.load_model(trained["run_dir"] / "best.keras")
    float_pred = np.argmax(float_model.predict(preprocess_batch(test.images), verbose=0), axis=1)
    classifier = EmotionClassifier(trained["output"])
    int8_pred = np.array([np.argmax(classifier.probabilities(image)) for image in test.images])
    assert classifier.labels == list(EMOTION_LABELS)
    assert np.mean(int8_pred == float_pred) >= 0.9
    assert np.mean(int8_pred == test.labels) >= 0.6  # chance is 1/7
    assert classifier._input["dtype"] == np.int8 and classifier._output["dtype"] == np.int8


def test_export_writes_its_description(trained: dict[str, Path]) -> None:
    meta = json.loads(trained["output"].with_suffix(".json").read_text())
    assert meta["labels"] == list(EMOTION_LABELS)
    assert meta["input"] == {
        "size": 48,
        "channels": 1,
        "range": [0, 1],
        "dtype": "int8",
        "preprocessing": "device.preprocess.preprocess_face",
    }
    assert meta["file_size"] == trained["output"].stat().st_size <= 2_000_000
    assert meta["metrics"]["split"] == "PrivateTest"
    for kind in ("float", "int8"):
        result = meta["metrics"][kind]
        assert result["n"] == 70 and set(result["per_class"]) == set(EMOTION_LABELS)
        assert 0 <= result["accuracy"] <= 1 and 0 <= result["macro_f1"] <= 1
    assert abs(meta["metrics"]["float"]["accuracy"] - meta["metrics"]["int8"]["accuracy"]) <= 0.1
    training = meta["training"]
    assert training["data"]["file"] == "synthetic.npz"
    assert training["data"]["split_sizes"] == {"Training": 280, "PublicTest": 70, "PrivateTest": 70}
    assert training["epochs"] == 8 and 1 <= training["best_epoch"] <= 8
    assert meta["command"] and meta["date"]
    assert {p.name for p in trained["report"].iterdir()} >= {"curves.png", "confusion.png", "metrics.json", "log.csv"}
    assert not list(trained["output"].parent.glob(".*"))  # no temporary files left beside the model
