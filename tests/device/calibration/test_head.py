"""The personal head: fitted near the general model's last layer, from a person's features alone."""

from __future__ import annotations

import numpy as np
import pytest

from device.calibration.head import LinearHead, fit_head, head_bytes, load_head
from device.emotion import SHIPPED_MODEL, open_model
from device.errors import ModelError


def _general() -> LinearHead:
    return LinearHead(*open_model(SHIPPED_MODEL, features=True).last_layer())


def _person(prior: LinearHead, rng: np.random.Generator, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Features the general head reads as neutral (6) although the person means happy (3) or sad (4):
    a listener whose resting face looks flat to the general model."""
    base = np.maximum(rng.normal(1.0, 0.6, (1, prior.weights.shape[1])), 0)
    labels = np.array([3, 4] * (n // 2))
    lean = rng.normal(0, 0.3, (2, base.shape[1]))
    x = np.maximum(base + lean[labels - 3] + rng.normal(0, 0.05, (n, base.shape[1])), 0).astype(np.float32)
    return x, labels


def test_the_head_learns_the_persons_expressions_and_leaves_the_rest_as_they_were() -> None:
    prior = _general()
    x, labels = _person(prior, np.random.default_rng(0))
    head = fit_head(x, labels, prior)
    assert (head.predict(x[:, None]) == labels).mean() >= 0.95
    untouched = [c for c in range(7) if c not in (3, 4)]
    np.testing.assert_array_equal(head.weights[untouched], prior.weights[untouched])
    np.testing.assert_array_equal(head.bias[untouched], prior.bias[untouched])
    np.testing.assert_array_equal(fit_head(x, labels, prior).weights, head.weights)  # the same faces, the same head


def test_a_stronger_prior_keeps_the_head_nearer_the_general_one() -> None:
    prior = _general()
    x, labels = _person(prior, np.random.default_rng(1))
    near = fit_head(x, labels, prior, strength=1.0)
    far = fit_head(x, labels, prior, strength=0.001)
    assert np.abs(near.weights - prior.weights).sum() < np.abs(far.weights - prior.weights).sum()


def test_mismatched_features_are_refused() -> None:
    prior = _general()
    with pytest.raises(ValueError, match="do not match"):
        fit_head(np.zeros((4, 10)), np.zeros(4, int), prior)
    with pytest.raises(ValueError, match="do not match"):
        fit_head(np.zeros((0, 192)), np.zeros(0, int), prior)


def test_a_saved_head_reads_back_with_its_description_and_a_damaged_one_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prior = _general()
    path = tmp_path / "calibration.npz"
    path.write_bytes(head_bytes(prior, {"person": "Ελένη", "decision": {"n": 20}}))
    head, meta = load_head(path)
    np.testing.assert_array_equal(head.weights, prior.weights)
    assert meta["person"] == "Ελένη"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelError, match=r"calibration\.npz: cannot read"):
        load_head(path)


def test_the_head_reads_as_the_model_does() -> None:
    """softmax(features · W + b) of the model's own last layer is the model's own output (int8 rounding
    aside): the penultimate layer is read from the same file, not a look-alike."""
    from device.listener.fer2013 import load_split

    model = open_model(SHIPPED_MODEL, flip_average=True, features=True)
    prior = LinearHead(*model.last_layer())
    faces = load_split(None, "PublicTest").images[:60] if _fer_here() else _noise_faces()
    same = sum(int(np.argmax(prior.probabilities(model.features(f)))) == int(np.argmax(model.probabilities(f)))
               for f in faces)
    assert same >= 0.95 * len(faces)


def _fer_here() -> bool:
    from device.config import default_fer2013_path

    return default_fer2013_path().is_file()


def _noise_faces() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (48, 48), dtype=np.uint8) for _ in range(60)]
