"""Telling people apart (device.calibration.identity): dlib's descriptor of a face on a camera frame, a
person's identity collected while they calibrate, and `match` on real people (jaffe-dev)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from device.calibration.identity import (
    MARGIN,
    MATCH_DISTANCE,
    MEAN_DISTANCE,
    Identity,
    IdentityCollector,
    describer,
    distance,
    identity_path,
    load_identity,
    match,
)
from device.calibration.store import forget_person, person_root
from device.config import FacesConfig
from device.faces import FaceDetector
from tests.camera_faces import camera_frame, have_jaffe, jaffe_photos

needs_jaffe = pytest.mark.skipif(not have_jaffe(), reason="../shared/data/jaffe-dev is not here")


def unit(seed: int, scale: float = 1.0) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128)
    return (vector / np.linalg.norm(vector) * scale).astype(np.float32)


def test_match_takes_the_nearest_person_only_when_near_and_clearly_nearest() -> None:
    anna, ben = unit(1, 0.5), unit(2, 0.5)
    people = {"Anna": Identity(anna, 20), "Ben": Identity(ben, 20)}
    assert match(anna + unit(3, 0.2), people) == "Anna"
    assert match(ben, people) == "Ben"
    assert match(anna + unit(4, MEAN_DISTANCE + 0.01), people) is None  # too far from anyone
    # near two people, and about as near one as the other: not a guess, the general model reads them
    twins = {"Anna": Identity(anna + unit(6, 0.10), 1), "Ben": Identity(anna + unit(7, 0.10 + MARGIN / 2), 1)}
    assert match(anna, twins) is None
    assert match(anna, {}) is None
    assert abs(MEAN_DISTANCE - MATCH_DISTANCE / np.sqrt(2)) < 1e-12


def test_a_collection_is_saved_as_the_mean_and_a_second_calibration_adds_to_it(tmp_path: Path) -> None:
    class Fixed:
        def __init__(self, vectors: list[np.ndarray]) -> None:
            self.vectors = iter(vectors)

        def describe(self, frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
            return next(self.vectors)

    frame = np.zeros((480, 640, 3), np.uint8)
    first = IdentityCollector(tmp_path, "Anna", Fixed([unit(1), unit(2)]))  # type: ignore[arg-type]
    assert first.save() is None  # nothing collected: nothing written
    first.add(frame, (0, 0, 10, 10))
    first.add(frame, (0, 0, 10, 10))
    path = first.save()
    assert path == person_root(tmp_path, "Anna") / "identity.npy" == identity_path(tmp_path, "anna")
    saved = load_identity(path)
    assert saved is not None and saved.count == 2
    np.testing.assert_allclose(saved.mean, (unit(1) + unit(2)) / 2, atol=1e-6)
    second = IdentityCollector(tmp_path, "Anna", Fixed([unit(3)]))  # type: ignore[arg-type]
    second.add(frame, (0, 0, 10, 10))
    second.save()
    both = load_identity(path)
    assert both is not None and both.count == 3
    np.testing.assert_allclose(both.mean, (unit(1) + unit(2) + unit(3)) / 3, atol=1e-6)
    assert path in forget_person(tmp_path, "Anna") or not path.exists()
    assert not path.exists()


def test_an_unreadable_identity_is_nobody(tmp_path: Path) -> None:
    path = tmp_path / "identity.npy"
    path.write_bytes(b"not numpy")
    assert load_identity(path) is None
    np.save(path, np.zeros(3))
    assert load_identity(path) is None
    assert load_identity(tmp_path / "missing.npy") is None


@needs_jaffe
def test_real_people_on_camera_frames_are_told_apart_and_a_stranger_is_nobody() -> None:
    """KA's and KL's identities from frames of their first photos; their last photos are named, KM's none."""
    rng = np.random.default_rng(0)
    detector = FaceDetector(FacesConfig())

    def descriptors(subject: str, which: slice) -> list[np.ndarray]:
        found = []
        for shots in jaffe_photos(subject).values():
            for photo in shots[which]:
                frame = camera_frame(photo, rng)
                face = detector.largest(frame)
                assert face is not None
                found.append(describer().describe(frame, face.box))
        return found

    known = {subject: descriptors(subject, slice(0, 2)) for subject in ("KA", "KL")}
    identities = {subject: Identity(np.mean(rows, axis=0), len(rows)) for subject, rows in known.items()}
    for subject in ("KA", "KL"):
        assert [match(d, identities) for d in descriptors(subject, slice(-1, None))] == [subject] * 7
    assert [match(d, identities) for d in descriptors("KM", slice(-1, None))] == [None] * 7
    # dlib's pairwise rule holds for these faces of one person; between people it does not separate them
    same = [distance(a, b) for a, b in itertools.combinations(known["KA"], 2)]
    assert max(same) < MATCH_DISTANCE


def test_a_calibration_describes_every_third_kept_crop_and_two_dozen_at_most(tmp_path: Path) -> None:
    class Counting:
        calls = 0

        def describe(self, frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
            Counting.calls += 1
            return unit(Counting.calls)

    collector = IdentityCollector(tmp_path, "Anna", Counting())  # type: ignore[arg-type]
    frame = np.zeros((480, 640, 3), np.uint8)
    described = [collector.offer(frame, (0, 0, 10, 10)) is not None for _ in range(140)]
    assert described[:7] == [True, False, False, True, False, False, True]
    assert sum(described) == len(collector.descriptors) == Counting.calls == 24
