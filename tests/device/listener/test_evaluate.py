"""`emotune evaluate`: the design's JSON shape, consistent numbers, npz and folder data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from device import EMOTION_LABELS
from device.cli.parser import add_evaluate_arguments
from device.errors import EmotuneError, ModelError
from device.listener.evaluate import (
    classification_metrics,
    evaluate_command,
    evaluate_model,
    load_eval_data,
)

DESIGN_KEYS = {"accuracy", "macro_f1", "per_class", "confusion", "n"}


def faces(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 48, 48), dtype=np.uint8)
    # a gradient whose direction depends on the label gives the model something to react to
    labels = np.arange(count) % len(EMOTION_LABELS)
    ramp = np.linspace(0, 120, 48, dtype=np.float32)
    for i, label in enumerate(labels):
        images[i] = np.clip(images[i] * 0.5 + np.roll(ramp, label * 6)[None, :], 0, 255).astype(np.uint8)
    return images, labels.astype(np.uint8)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny untrained CNN, exported the way the shipped model is (int8 in and out)."""
    pytest.importorskip("tensorflow")
    import keras

    from device.training.export import convert_int8
    from device.training.model import ModelSpec, build_model

    keras.utils.set_random_seed(1)
    model = build_model(ModelSpec(width=4, convs=(1, 1, 1)))
    path = tmp_path_factory.mktemp("model") / "emotion.tflite"
    path.write_bytes(convert_int8(model, faces(64)[0]))
    path.with_suffix(".json").write_text(json.dumps({"labels": list(EMOTION_LABELS)}))
    return path


@pytest.fixture(scope="module")
def npz_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    images, labels = faces(84)
    path = tmp_path_factory.mktemp("data") / "faces.npz"
    np.savez(path, images=images, labels=labels, usage=np.repeat(np.array([0, 1, 2], np.uint8), 28))
    return path


def test_metrics_on_known_predictions() -> None:
    labels = [0, 0, 1, 1, 1, 2, 6, 6]
    predictions = [0, 1, 1, 1, 6, 2, 6, 0]
    result = classification_metrics(labels, predictions)
    assert set(result) == DESIGN_KEYS
    assert result["n"] == 8 and result["accuracy"] == pytest.approx(5 / 8)
    angry = result["per_class"]["angry"]
    assert angry["precision"] == pytest.approx(1 / 2) and angry["recall"] == pytest.approx(1 / 2)
    disgust = result["per_class"]["disgust"]
    assert disgust["precision"] == pytest.approx(2 / 3) and disgust["recall"] == pytest.approx(2 / 3)
    assert result["per_class"]["fear"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert result["per_class"]["happy"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}  # absent class
    assert result["confusion"][1] == [0, 2, 0, 0, 0, 0, 1]
    f1s = [v["f1"] for v in result["per_class"].values()]
    assert result["macro_f1"] == pytest.approx(sum(f1s) / 7)


@pytest.mark.slow
def test_evaluate_model_is_consistent(model_path: Path, npz_path: Path) -> None:
    images, labels = load_eval_data(npz_path)  # PrivateTest: the last 28
    assert len(images) == 28 and list(labels) == list(faces(84)[1][56:])
    result = evaluate_model(model_path, images, labels)
    assert set(result) == DESIGN_KEYS
    confusion = np.array(result["confusion"])
    assert confusion.shape == (7, 7) and confusion.sum() == result["n"] == 28
    assert result["accuracy"] == pytest.approx(np.trace(confusion) / 28)
    assert list(confusion.sum(axis=1)) == list(np.bincount(labels, minlength=7))
    assert list(result["per_class"]) == list(EMOTION_LABELS)
    for values in result["per_class"].values():
        assert set(values) == {"precision", "recall", "f1"}
        assert all(0.0 <= v <= 1.0 for v in values.values())
    assert 0.0 <= result["macro_f1"] <= 1.0
    json.dumps(result)  # plain JSON types only


@pytest.mark.slow
def test_evaluate_folder_of_label_folders(model_path: Path, tmp_path: Path) -> None:
    images, labels = faces(14, seed=3)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = tmp_path / EMOTION_LABELS[label]
        folder.mkdir(exist_ok=True)
        big = cv2.resize(image, (96, 96))  # camera crops are larger than 48×48
        cv2.imwrite(str(folder / f"{i}.png"), cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    (tmp_path / "notes.txt").write_text("ignored")
    loaded, loaded_labels = load_eval_data(tmp_path)
    assert len(loaded) == 14 and sorted(loaded_labels.tolist()) == sorted(labels.tolist())
    result = evaluate_model(model_path, loaded, loaded_labels)
    assert result["n"] == 14 and np.array(result["confusion"]).sum() == 14


def run_cli(*argv: str, config) -> int:
    parser = argparse.ArgumentParser()
    add_evaluate_arguments(parser)
    return evaluate_command(parser.parse_args(list(argv)), config)


@pytest.mark.slow
def test_evaluate_command_json(model_path: Path, npz_path: Path, config, capsys: pytest.CaptureFixture) -> None:
    assert (
        run_cli("--data", str(npz_path), "--model", str(model_path), "--split", "PublicTest", "--json", config=config)
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert set(result) == DESIGN_KEYS and result["n"] == 28
    assert run_cli("--data", str(npz_path), "--model", str(model_path), config=config) == 0
    table = capsys.readouterr().out
    assert "accuracy" in table and "confusion" in table and "surprise" in table


@pytest.mark.slow
def test_evaluate_errors(model_path: Path, npz_path: Path, tmp_path: Path, config) -> None:
    with pytest.raises(EmotuneError, match="not found"):
        load_eval_data(tmp_path / "missing.npz")
    with pytest.raises(EmotuneError, match="no images found"):
        load_eval_data(tmp_path)
    with pytest.raises(ModelError, match="not found"):
        run_cli("--data", str(npz_path), "--model", str(tmp_path / "none.tflite"), config=config)
    with pytest.raises(EmotuneError, match="images but"):
        evaluate_model(model_path, np.zeros((2, 48, 48), np.uint8), [0])
