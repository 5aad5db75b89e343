"""Training end to end on a tiny synthetic task: train → int8 export → the daemon's classifier.

Seven classes of simple drawn patterns (stripes, checkerboard, disc, ring, cross, frame) that survive
the training augmentation (mirror, small rotation, shift, zoom), 40 Training faces each, and a
width-8 model: a few epochs learn it, which is enough to check that the exported int8 model behaves
like the Keras model it came from.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from device import EMOTION_LABELS
from device.listener.fer2013 import DataError, load_fer2013
from device.training.commands import add_train_arguments, train_command

SIDE = 48


def draw_pattern(kind: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    cy, cx = SIDE / 2 + rng.uniform(-3, 3, size=2)
    r = np.hypot(yy - cy, xx - cx)
    period = rng.uniform(7, 9)
    if kind == 0:  # horizontal stripes
        pattern = np.sin(2 * np.pi * yy / period) > 0
    elif kind == 1:  # vertical stripes
        pattern = np.sin(2 * np.pi * xx / period) > 0
    elif kind == 2:  # checkerboard
        pattern = (np.sin(2 * np.pi * yy / 12) > 0) ^ (np.sin(2 * np.pi * xx / 12) > 0)
    elif kind == 3:  # filled disc
        pattern = r < rng.uniform(11, 15)
    elif kind == 4:  # ring
        radius = rng.uniform(12, 16)
        pattern = np.abs(r - radius) < 2.5
    elif kind == 5:  # plus-shaped cross
        pattern = (np.abs(yy - cy) < 3) | (np.abs(xx - cx) < 3)
    else:  # square frame
        half = rng.uniform(13, 17)
        box = np.maximum(np.abs(yy - cy), np.abs(xx - cx))
        pattern = np.abs(box - half) < 2.5
    low, high = rng.uniform(20, 80), rng.uniform(170, 235)
    image = np.where(pattern, high, low) + rng.normal(0, 12, pattern.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_dataset(per_class: tuple[int, int, int] = (40, 10, 10), seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    images, labels, usage = [], [], []
    for split, count in enumerate(per_class):
        for label in range(len(EMOTION_LABELS)):
            for _ in range(count):
                images.append(draw_pattern(label, rng))
                labels.append(label)
                usage.append(split)
    return {"images": np.stack(images), "labels": np.asarray(labels, np.uint8), "usage": np.asarray(usage, np.uint8)}


def parse_train_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(scope="module")
def synthetic_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "synthetic.npz"
    np.savez_compressed(path, **make_dataset())
    return path


@pytest.fixture(scope="module")
def trained(synthetic_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("tensorflow")
    from device.config import load_config

    base = tmp_path_factory.mktemp("train")
    paths = {"run_dir": base / "run", "output": base / "models" / "emotion.tflite", "report": base / "report"}
    args = parse_train_args(
        "--data",
        str(synthetic_npz),
        "--epochs",
        "8",
        "--batch-size",
        "16",
        "--width",
        "8",
        "--learning-rate",
        "3e-3",
        "--run-dir",
        str(paths["run_dir"]),
        "--output",
        str(paths["output"]),
        "--report",
        str(paths["report"]),
    )
    assert train_command(args, load_config(state_dir=base / "state")) == 0
    return paths


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


def test_resume_continues_at_the_next_epoch(trained: dict[str, Path], synthetic_npz: Path, tmp_path: Path) -> None:
    from device.training.train import TrainOptions, run_training

    run_dir = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run_dir)
    before = list(csv.DictReader((run_dir / "log.csv").open()))
    assert [row["epoch"] for row in before] == [str(epoch) for epoch in range(1, 9)]

    result = run_training(
        load_fer2013(synthetic_npz), TrainOptions(run_dir=run_dir, epochs=9, batch_size=16, verbose=0)
    )
    after = list(csv.DictReader((run_dir / "log.csv").open()))
    assert result.resumed_from == 8 and result.epochs_run == 9
    assert after[:8] == before and after[8]["epoch"] == "9"
    assert json.loads((run_dir / "state.json").read_text())["epoch"] == 9
    # run again with nothing left to do: no training, the same best model comes back
    again = run_training(load_fer2013(synthetic_npz), TrainOptions(run_dir=run_dir, epochs=9, verbose=0))
    assert again.resumed_from == 9 and len(again.history) == 9


def test_resume_refuses_a_different_model(trained: dict[str, Path], synthetic_npz: Path, tmp_path: Path) -> None:
    from device.errors import ModelError
    from device.training.model import ModelSpec
    from device.training.train import TrainOptions, run_training

    run_dir = tmp_path / "run"
    shutil.copytree(trained["run_dir"], run_dir)
    with pytest.raises(ModelError, match="different model"):
        run_training(
            load_fer2013(synthetic_npz), TrainOptions(run_dir=run_dir, epochs=10, spec=ModelSpec(width=12), verbose=0)
        )


def test_warm_restart_starts_from_the_given_model(
    trained: dict[str, Path], synthetic_npz: Path, tmp_path: Path
) -> None:
    import keras

    from device.errors import ModelError
    from device.training.model import ModelSpec, spec_of
    from device.training.train import TrainOptions, run_training

    start = trained["run_dir"] / "best.keras"
    start_model = keras.models.load_model(start)
    assert spec_of(start_model) == ModelSpec(width=8)
    data = load_fer2013(synthetic_npz)
    # no epochs to run: the new run's model is the starting model, not a fresh random one
    options = TrainOptions(run_dir=tmp_path / "warm", epochs=1, learning_rate=1e-9, init_from=start, verbose=0)
    result = run_training(data, options)
    assert result.resumed_from == 0 and result.epochs_run == 1
    # the learning rate is ~0, so the kernels are the starting model's (only batch-norm statistics move)
    for name in ("s1c1_conv", "s4c2_conv", "emotion"):
        np.testing.assert_allclose(
            result.model.get_layer(name).get_weights()[0], start_model.get_layer(name).get_weights()[0], atol=1e-6
        )
    from device.preprocess import preprocess_batch

    predicted = np.argmax(result.model.predict(preprocess_batch(data.private_test.images), verbose=0), axis=1)
    assert np.mean(predicted == data.private_test.labels) >= 0.6  # what it learned before, not chance (1/7)
    with pytest.raises(ModelError, match="not the requested"):
        run_training(
            data, TrainOptions(run_dir=tmp_path / "other", epochs=1, init_from=start, spec=ModelSpec(width=12))
        )
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"broken\.keras: cannot start training from it"):
        run_training(data, TrainOptions(run_dir=tmp_path / "broken", epochs=1, init_from=broken))


def test_missing_data_file_is_a_clear_error(tmp_path: Path, config) -> None:
    missing = tmp_path / "nowhere" / "fer2013.npz"
    args = parse_train_args("--data", str(missing), "--run-dir", str(tmp_path / "run"))
    with pytest.raises(DataError, match=r"not found; pass --data"):
        train_command(args, config)
    assert not (tmp_path / "run").exists()


def test_wrong_arrays_are_a_clear_error(tmp_path: Path, config) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, pixels=np.zeros((3, 48, 48), np.uint8), labels=np.zeros(3, np.uint8))
    with pytest.raises(DataError, match=r"missing array\(s\) images, usage"):
        train_command(parse_train_args("--data", str(bad)), config)
    wrong = tmp_path / "wrong.npz"
    np.savez(
        wrong, images=np.zeros((3, 48, 48), np.uint8), labels=np.array([0, 9, 1], np.uint8), usage=np.zeros(3, np.uint8)
    )
    with pytest.raises(DataError, match=r"'labels' must be 0\.\.6"):
        load_fer2013(wrong)


def test_limit_keeps_a_random_subset(synthetic_npz: Path) -> None:
    data = load_fer2013(synthetic_npz, limit=50)
    assert len(data.train) == 50 and data.train_total == 280
    assert len(data.public_test) == 70 and len(data.private_test) == 70
    with pytest.raises(DataError, match="--limit"):
        load_fer2013(synthetic_npz, limit=0)


def test_class_weights_soften_imbalance() -> None:
    pytest.importorskip("tensorflow")
    from device.training.train import class_weights

    labels = np.array([0] * 10 + [1] * 90)
    weights = class_weights(labels, power=0.5, num_classes=2)
    assert weights[0] > 1 > weights[1]
    assert (10 * weights[0] + 90 * weights[1]) / 100 == pytest.approx(1.0)
    assert class_weights(labels, power=0.0, num_classes=2) == {0: 1.0, 1: 1.0}


def test_importing_the_commands_does_not_load_tensorflow() -> None:
    import subprocess
    import sys

    code = (
        "import sys, device.training.commands, device.listener.evaluate; "
        "sys.exit(1 if 'tensorflow' in sys.modules or 'keras' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
