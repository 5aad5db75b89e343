"""The GPU route for issue 16, the parts that run here: the faces packed for the GPU machine come back as
they were, the twin weighs classes as `emotune train` does, and weights in the twin's Keras layout load
into the Keras model and export like a model `emotune train` made. (The twin itself needs PyTorch, which
CI does not install; models/README.md gives its CPU rehearsal: the Keras model with its weights computes
its probabilities within 1e-7.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from device.errors import EmotuneError
from device.listener.fer2013 import load_split
from device.training.report import file_sha256
from device.training.torch_twin import class_weights, main, source_record, unpack


def test_packed_faces_come_back_as_they_were(synthetic_npz: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    both, training = tmp_path / "fer.npy.xz", tmp_path / "train.npy.xz"
    assert main(["pack", str(synthetic_npz), str(both)]) == 0
    assert main(["pack", "--training-only", str(synthetic_npz), str(training)]) == 0
    assert "'Training': 280" in capsys.readouterr().out
    unpacked = unpack(both)
    assert list(unpacked) == ["Training", "PublicTest"] and list(unpack(training)) == ["Training"]
    # what the faces were packed from travels beside them, for the run's provenance
    source = json.loads(source_record(training).read_text())
    assert source["sha256"] == file_sha256(synthetic_npz) and source["split_sizes"] == {"Training": 280}
    for name in ("Training", "PublicTest"):
        split = load_split(synthetic_npz, name)
        images, labels = unpacked[name]
        assert images.dtype == np.uint8 and np.array_equal(images, split.images)
        assert np.array_equal(labels, split.labels)


def test_packing_a_file_that_is_not_fer2013_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pack", str(tmp_path / "missing.npz"), str(tmp_path / "out.npy.xz")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("torch_twin: ") and "missing.npz" in error and len(error.strip().splitlines()) == 1


@pytest.mark.slow  # imports TensorFlow (seconds)
def test_a_run_packed_from_another_file_is_not_exported_as_this_ones(synthetic_npz: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tensorflow")
    from device.training.from_twin import main as from_twin

    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"width": 8, "convs": [1, 1, 1], "dropout": 0.3, "best_epoch": 1,
                                              "packed_from": {"file": "other.npz", "sha256": "0" * 64}}))
    output = tmp_path / "out" / "emotion.tflite"
    assert from_twin(["--run", str(run), "--output", str(output), "--data", str(synthetic_npz)]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("from_twin: ") and "other.npz" in error and str(synthetic_npz) in error
    assert len(error.splitlines()) == 1 and not output.exists()


@pytest.mark.slow  # imports TensorFlow (seconds)
def test_the_twin_weighs_classes_as_emotune_train_does() -> None:
    pytest.importorskip("tensorflow")
    from device.training.train import class_weights as keras_weights

    labels = np.random.default_rng(0).choice(7, size=5000, p=[0.14, 0.015, 0.14, 0.25, 0.17, 0.11, 0.175])
    expected = keras_weights(labels, 0.5)
    assert class_weights(labels, 0.5) == pytest.approx([expected[i] for i in range(7)])


def _as_twin_layout(model: object) -> dict[str, np.ndarray]:
    """A Keras model's weights under the names the twin writes them (layer/variable)."""
    from device.training.from_twin import WEIGHT_NAMES

    return {f"{layer.name}/{n}": w for layer in model.layers  # type: ignore[attr-defined]
            for n, w in zip(WEIGHT_NAMES.get(type(layer).__name__, ()), layer.get_weights(), strict=False)}


@pytest.mark.slow
def test_twin_weights_load_into_the_keras_model_and_export(synthetic_npz: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tensorflow")
    from device.training.from_twin import load_into_keras
    from device.training.from_twin import main as from_twin
    from device.training.model import ModelSpec, build_model

    source = build_model(ModelSpec(width=8, convs=(1, 1, 1)))
    rng = np.random.default_rng(1)
    for layer in source.layers:  # batch-norm statistics that are not the identity, so a mix-up shows
        if type(layer).__name__ == "BatchNormalization":
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in layer.get_weights()])
    weights = _as_twin_layout(source)
    faces = load_split(synthetic_npz, "PublicTest").images[:16, :, :, None].astype(np.float32) / 255.0
    loaded = load_into_keras(weights, 8, (1, 1, 1), 0.3)
    np.testing.assert_allclose(loaded.predict(faces, verbose=0), source.predict(faces, verbose=0), atol=1e-6)
    with pytest.raises(EmotuneError, match="s2c1_bn"):
        load_into_keras({k: v for k, v in weights.items() if not k.startswith("s2c1_bn")}, 8, (1, 1, 1), 0.3)

    run = tmp_path / "run"
    run.mkdir()
    np.savez(run / "weights.npz", **weights)
    # as the documented GPU route leaves them: trained without PublicTest, so its columns are empty
    (run / "run.json").write_text(json.dumps({"width": 8, "convs": [1, 1, 1], "dropout": 0.3, "epochs": 2,
                                              "best_epoch": 2, "best_public_test_accuracy": None,
                                              "device": "NVIDIA H200"}))
    (run / "log.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n"
                                 "1,1.9,0.2,,,0.001,1.0\n2,1.8,0.3,,,0.00001,1.0\n")
    np.savez(run / "weights-e1.npz", **_as_twin_layout(build_model(ModelSpec(width=8, convs=(1, 1, 1)))))
    output = tmp_path / "out" / "emotion.tflite"
    assert from_twin(["--run", str(run), "--output", str(output), "--data", str(synthetic_npz), "--pick"]) == 0
    printed = capsys.readouterr().out
    assert "weights.npz (epoch 2): PublicTest" in printed and "weights-e1.npz (epoch 1): PublicTest" in printed
    meta = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    training = meta["training"]
    assert training["trained_by"] == "device.training.torch_twin" and meta["architecture"]["width"] == 8
    # the provenance names the weights exported, their epoch and their PublicTest accuracy, measured here
    assert (training["weights"], training["best_epoch"]) in {("weights.npz", 2), ("weights-e1.npz", 1)}
    assert 0 <= training["best_public_test_accuracy"] <= 1
    # and the faces it was fit on, as `emotune train` records them: the file, its hash, the split sizes
    assert training["data"]["sha256"] == file_sha256(synthetic_npz) and training["data"]["limit"] is None
    assert training["data"]["split_sizes"]["Training"] == sum(training["data"]["training_class_counts"])
    assert output.with_suffix(".keras").is_file() and (output.parent / "report" / "curves.png").is_file()
    assert 0 <= meta["metrics"]["int8"]["accuracy"] <= 1
