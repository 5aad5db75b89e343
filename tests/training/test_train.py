"""Training on a tiny synthetic task (tests.synthetic): resuming a run, a warm restart, class weights.

Seven classes of simple drawn patterns, 40 Training faces each, and a width-8 model (the session's
`trained` run, tests/training/conftest.py): a few epochs learn it.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from device.listener.fer2013 import load_fer2013

pytestmark = pytest.mark.slow  # every test trains or needs TensorFlow


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


def test_class_weights_soften_imbalance() -> None:
    pytest.importorskip("tensorflow")
    from device.training.train import class_weights

    labels = np.array([0] * 10 + [1] * 90)
    weights = class_weights(labels, power=0.5, num_classes=2)
    assert weights[0] > 1 > weights[1]
    assert (10 * weights[0] + 90 * weights[1]) / 100 == pytest.approx(1.0)
    assert class_weights(labels, power=0.0, num_classes=2) == {0: 1.0, 1: 1.0}
