"""Training on a tiny synthetic task (tests.synthetic): resuming a run, a warm restart, class weights.

Seven classes of simple drawn patterns, 40 Training faces each, and a width-8 model (the session's
`trained` run, tests/training/conftest.py): a few epochs learn it.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from collections.abc import Callable
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


def _detail(images: np.ndarray) -> np.ndarray:
    """Per image: mean absolute difference between neighbouring pixels (fine detail, and noise)."""
    return np.abs(np.diff(images, axis=1)).mean(axis=(1, 2, 3)) + np.abs(np.diff(images, axis=2)).mean(axis=(1, 2, 3))


def test_camera_like_augmentation_degrades_faces_the_way_a_camera_does() -> None:
    """Each camera-like change does what it says to real faces and keeps pixels in [0, 1]; off by default."""
    pytest.importorskip("tensorflow")
    import tensorflow as tf

    from device.demo.faces import load_fixture
    from device.preprocess import preprocess_batch
    from device.training.train import Augmentation, augment_batch, camera_degrade

    # the augmentation draws from TensorFlow's global generator unless given one; tf.random.set_seed does not
    # seed that generator
    tf.random.set_global_generator(tf.random.Generator.from_seed(0))
    faces = preprocess_batch(load_fixture().images)  # real FER2013 faces, (N, 48, 48, 1) in [0, 1]

    def degrade(**fields: float) -> np.ndarray:
        out = camera_degrade(tf.constant(faces), Augmentation(camera_probability=1.0, **fields)).numpy()
        assert out.shape == faces.shape and out.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 1.0
        return out

    detail = _detail(faces)
    # blur and a small face enlarged both take fine detail away, from (nearly) every face; the light stays
    for blurry in (degrade(blur_sigma=1.8), degrade(low_res_side=16)):
        assert (_detail(blurry) <= detail + 1e-6).all() and (_detail(blurry) < 0.9 * detail).mean() > 0.5
        assert np.abs(blurry.mean(axis=(1, 2, 3)) - faces.mean(axis=(1, 2, 3))).max() < 0.03
    noisy = degrade(noise=0.04)  # sensor noise adds grain, not light
    assert (_detail(noisy) > detail).mean() > 0.9
    assert np.abs(noisy.mean(axis=(1, 2, 3)) - faces.mean(axis=(1, 2, 3))).mean() < 0.01
    # exposure and gamma change the light but never the order of a face's pixels (darker stays darker)
    for relit in (degrade(exposure=0.5), degrade(gamma=0.5)):
        changed = np.abs(relit.mean(axis=(1, 2, 3)) - faces.mean(axis=(1, 2, 3))) > 0.01
        assert changed.mean() > 0.5
        for before, after in zip(faces[:20], relit[:20], strict=True):
            order = np.argsort(before.ravel(), kind="stable")
            assert (np.diff(after.ravel()[order]) >= -1e-6).all()
    # each change reaches about camera_probability of the faces
    some = camera_degrade(tf.constant(faces), Augmentation(camera_probability=0.4, blur_sigma=1.8)).numpy()
    share = (np.abs(some - faces).max(axis=(1, 2, 3)) > 0).mean()
    assert 0.2 < share < 0.6, share
    # the one preset the --camera-augmentation flag turns on; none of it unless asked for
    assert Augmentation.camera_like().camera and not Augmentation().camera
    preset = augment_batch(tf.constant(faces), Augmentation.camera_like()).numpy()
    assert preset.min() >= 0.0 and preset.max() <= 1.0 and preset.shape == faces.shape
    assert not Augmentation(blur_sigma=1.8).camera  # strengths without a probability change nothing


def test_the_camera_augmentation_flag(train_args: Callable[..., argparse.Namespace]) -> None:
    assert train_args("--camera-augmentation").camera_augmentation
    assert not train_args().camera_augmentation


def test_soft_targets_train_and_are_recorded(trained: dict[str, Path], tmp_path: Path) -> None:
    """A warm restart on FER+-style soft targets keeps what the model knew, and the run says how it trained."""
    import json as json_module

    from device.preprocess import preprocess_batch
    from device.training.train import TrainOptions, run_training
    from tests.synthetic import make_dataset

    arrays = make_dataset()
    # the annotators agree with the label 8 times in 10 and otherwise see the next class
    votes = np.zeros((len(arrays["labels"]), 10), np.uint8)
    columns = [0, 4, 5, 6, 1, 2, 3]  # FER+ column of each FER2013 class (neutral, happiness, ... order)
    for row, label in enumerate(arrays["labels"]):
        votes[row, columns[label]] += 8
        votes[row, columns[(label + 1) % 7]] += 2
    np.savez(tmp_path / "votes.npz", **arrays, ferplus_votes=votes)
    data = load_fer2013(tmp_path / "votes.npz")
    options = TrainOptions(run_dir=tmp_path / "soft", epochs=2, learning_rate=1e-3, batch_size=16,
                           init_from=trained["run_dir"] / "best.keras", ferplus_weight=0.3, verbose=0)
    result = run_training(data, options)
    predicted = np.argmax(result.model.predict(preprocess_batch(data.private_test.images), verbose=0), axis=1)
    assert np.mean(predicted == data.private_test.labels) >= 0.6
    state = json_module.loads((tmp_path / "soft" / "state.json").read_text())
    assert state["options"]["ferplus_weight"] == 0.3 and all(np.isfinite(r["loss"]) for r in state["history"])


def test_every_epoch_draws_new_augmentations(tmp_path: Path) -> None:
    """Each face is changed differently from one epoch to the next. (Random ops inside the pipeline once
    drew the same values every epoch, so a model saw the same augmented faces again and again.)"""
    from device.training.train import Augmentation, TrainOptions, training_dataset

    n = 256
    ramp = np.tile(np.linspace(0.0, 1.0, 48, dtype=np.float32), (48, 1))[None, :, :, None]  # dark left, light right
    faces = np.repeat(ramp, n, axis=0)
    options = TrainOptions(run_dir=tmp_path, batch_size=32, augmentation=Augmentation())

    def epoch_of(dataset) -> tuple[np.ndarray, np.ndarray]:
        mirrored, pictures = np.zeros(n, bool), np.zeros((n, 48, 48))
        for images, index in dataset:
            rows = images.numpy()[..., 0]
            mirrored[index.numpy()] = rows[:, 24, :4].mean(axis=1) > rows[:, 24, -4:].mean(axis=1)
            pictures[index.numpy()] = rows
        return mirrored, pictures

    def draws(pictures: np.ndarray) -> np.ndarray:
        """The epoch's augmented pictures as a set, whichever face each fell to: the faces are all the same
        ramp, so they differ only by what was drawn."""
        return np.sort(pictures.reshape(n, -1).mean(axis=1))

    import keras

    keras.utils.set_random_seed(0)  # as run_training seeds a run: the old pipeline repeated its draws under it
    dataset = training_dataset(faces, np.arange(n), options)
    (first, first_pictures), (second, second_pictures) = epoch_of(dataset), epoch_of(dataset)
    assert 0.35 < first.mean() < 0.65 and 0.35 < second.mean() < 0.65  # about half mirrored each epoch
    assert 0.3 < (first == second).mean() < 0.7  # ... and not the same half
    # new draws, not the same ones handed to other faces (what the old pipeline did)
    assert np.abs(draws(first_pictures) - draws(second_pictures)).max() > 1e-3
    # a resumed run does not replay the epochs before it
    resumed = epoch_of(training_dataset(faces, np.arange(n), options, first_epoch=1))[1]
    assert np.abs(draws(resumed) - draws(first_pictures)).max() > 1e-3


def test_a_warm_restart_does_not_replay_the_run_it_starts_from(trained: dict[str, Path], tmp_path: Path) -> None:
    """A run started from another run's model draws other face orders and augmentations than that run did
    (the model has learnt those), yet the same start gives the same draws again."""
    from device.training.train import TrainOptions, run_seed

    start, other = trained["run_dir"] / "best.keras", trained["run_dir"] / "last.keras"
    fresh = TrainOptions(run_dir=tmp_path / "a")
    warm = TrainOptions(run_dir=tmp_path / "b", init_from=start)
    assert run_seed(fresh) == fresh.seed
    assert run_seed(warm) != fresh.seed and run_seed(warm) == run_seed(TrainOptions(run_dir=tmp_path, init_from=start))
    assert run_seed(TrainOptions(run_dir=tmp_path, init_from=other)) != run_seed(warm) or (
        start.read_bytes() == other.read_bytes()
    )
    state = json.loads((trained["run_dir"] / "state.json").read_text())
    assert state["seed"] == 0  # the fixture's run started from random weights, with options.seed
