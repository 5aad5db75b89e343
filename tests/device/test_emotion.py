"""Emotion from a face crop (device.emotion): the shipped int8 model run by LiteRT on the fixture's real
FER2013 faces, and clear errors for model files that cannot be used."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from device import EMOTION_LABELS
from device.config import Config, load_config
from device.demo.faces import load_fixture
from device.emotion import SHIPPED_MODEL, EmotionClassifier, load_classifier, open_model
from device.errors import ModelError

MIN_FIXTURE_ACCURACY = 0.75  # measured 0.89 (132 of 148) with the shipped w16 model


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier(SHIPPED_MODEL)


def model_copy(folder: Path, tflite: bytes | None = None, **description: object) -> Path:
    """emotion.tflite + .json in `folder`: the shipped ones, with the bytes or JSON keys given instead."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "emotion.tflite"
    path.write_bytes(SHIPPED_MODEL.read_bytes() if tflite is None else tflite)
    meta = json.loads(SHIPPED_MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    path.with_suffix(".json").write_text(json.dumps({**meta, **description}), encoding="utf-8")
    return path


def test_a_reading_has_every_label_and_probabilities_that_sum_to_one(classifier: EmotionClassifier) -> None:
    assert classifier.labels == list(EMOTION_LABELS) and classifier.input_size == 48
    for face in load_fixture().images[::10]:
        reading = classifier.classify(face)
        assert list(reading.probabilities) == list(EMOTION_LABELS)
        assert sum(reading.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert all(0.0 <= p <= 1.0 for p in reading.probabilities.values())
        assert reading.label == max(reading.probabilities, key=reading.probabilities.__getitem__)
        assert reading.confidence == reading.probabilities[reading.label]
        np.testing.assert_allclose(classifier.probabilities(face), list(reading.probabilities.values()), atol=1e-6)


def test_the_shipped_model_reads_the_fixture_faces_with_their_labels(classifier: EmotionClassifier) -> None:
    fixture = load_fixture()
    right, shown = Counter(), Counter(fixture.labels)
    for face, label in zip(fixture.images, fixture.labels, strict=True):
        right[label] += classifier.classify(face).label == label
    assert sum(right.values()) >= MIN_FIXTURE_ACCURACY * len(fixture.labels), right
    for label, count in shown.items():
        assert right[label] > count / 2, f"{label}: only {right[label]} of {count}"  # each mostly right


def test_a_crop_of_any_size_gets_the_label_of_the_48px_face(classifier: EmotionClassifier) -> None:
    face = load_fixture().of("happy")[0]
    assert classifier.classify(face).label == "happy"
    for side in (32, 96, 150):  # camera crops are larger than 48×48, sometimes smaller
        assert classifier.classify(cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)).label == "happy"


def test_a_corrupt_model_file_is_one_line_naming_it(tmp_path: Path) -> None:
    broken = model_copy(tmp_path / "broken", tflite=b"half a model")
    with pytest.raises(ModelError) as error:
        EmotionClassifier(broken)
    message = str(error.value)
    assert str(broken) in message and "not a usable TFLite model" in message and "\n" not in message


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("missing-model", "not found; reinstall emotune or run 'emotune train'"),
        ("missing-json", "is missing: every model needs its labels"),
        ("bad-json", "cannot read model description"),
        ("no-labels", "'labels' must be a non-empty list"),
        ("three-labels", "model has 7 outputs but its JSON lists 3 labels"),
    ],
)
def test_an_unusable_model_is_a_model_error_naming_the_file(tmp_path: Path, change: str, problem: str) -> None:
    path = model_copy(tmp_path / change)
    named = path
    if change == "missing-model":
        path.unlink()
    elif change == "missing-json":
        named = path.with_suffix(".json")
        named.unlink()
    elif change == "bad-json":
        named = path.with_suffix(".json")
        named.write_text("{labels: [", encoding="utf-8")
    elif change == "no-labels":
        named = model_copy(tmp_path / change, labels=[]).with_suffix(".json")
    else:
        model_copy(tmp_path / change, labels=["happy", "sad", "neutral"])
    with pytest.raises(ModelError) as error:
        EmotionClassifier(path)
    message = str(error.value)
    assert str(named) in message and problem in message and "\n" not in message


def test_open_model_refuses_labels_that_are_not_emotunes(tmp_path: Path) -> None:
    foreign = [f"mood{i}" for i in range(len(EMOTION_LABELS))]
    path = model_copy(tmp_path / "foreign", labels=foreign)
    assert EmotionClassifier(path).labels == foreign  # a model of its own labels loads …
    with pytest.raises(ModelError, match="are not emotune's") as error:
        open_model(path)  # … but the mood stage could not place them on the plane
    assert str(path) in str(error.value)
    reordered = model_copy(tmp_path / "reordered", labels=list(reversed(EMOTION_LABELS)))
    with pytest.raises(ModelError, match="are not emotune's"):
        open_model(reordered)
    assert open_model(model_copy(tmp_path / "same")).labels == list(EMOTION_LABELS)


def test_the_model_in_use_is_configured_else_personal_else_shipped(config: Config, tmp_path: Path) -> None:
    assert load_classifier(config).model_path == SHIPPED_MODEL
    personal = model_copy(config.state_dir / "models")
    assert load_classifier(config).model_path == personal
    configured = model_copy(tmp_path / "configured")
    assert load_classifier(config.replace_section("model", path=str(configured))).model_path == configured
    shutil.rmtree(personal.parent)
    assert load_classifier(config).model_path == SHIPPED_MODEL


def test_a_face_and_its_mirror_image_get_the_same_reading(config: Config, tmp_path: Path) -> None:
    """[model] flip_average (on by default) reads each face and its mirror image and averages the two, so
    which way the listener turns no longer changes the reading; off, the model reads each face once."""
    assert config.model.flip_average
    device = load_classifier(config)
    fixture = load_fixture()
    for face in fixture.images[::7]:
        mirror = np.ascontiguousarray(face[:, ::-1])
        reading, mirrored = device.classify(face), device.classify(mirror)
        assert mirrored.label == reading.label
        assert mirrored.probabilities == pytest.approx(reading.probabilities, abs=1e-6)
        assert sum(reading.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        # a camera-sized crop (3× the model's side) and its mirror image too
        big = cv2.resize(face, (144, 144), interpolation=cv2.INTER_CUBIC)
        assert device.classify(np.ascontiguousarray(big[:, ::-1])).label == device.classify(big).label
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'state_dir = "{config.state_dir}"\n[model]\nflip_average = false\n', encoding="utf-8")
    once = load_classifier(load_config(config_file))
    assert not once.flip_average
    differ = sum(
        once.probabilities(face) != pytest.approx(once.probabilities(np.ascontiguousarray(face[:, ::-1])), abs=1e-3)
        for face in fixture.images
    )
    assert differ > len(fixture.images) // 2  # read once, a face and its mirror image mostly read differently


# ---- an arm64 process shown a /proc/cpuinfo with no ARM core (qemu-user 7.2) ---------------------------

PI4_CPUINFO = Path(__file__).resolve().parents[2] / "deploy" / "arm64" / "cpuinfo-pi4"
X86_CPUINFO = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu sse2\n"


def test_an_arm64_process_shown_an_x86_cpuinfo_is_one_line_not_a_crash(tmp_path: Path) -> None:
    from device.emotion import arm_cpuinfo_problem

    x86 = tmp_path / "cpuinfo"
    x86.write_text(X86_CPUINFO, encoding="utf-8")
    problem = arm_cpuinfo_problem(x86, machine="aarch64")
    assert "names no ARM core" in problem and "\n" not in problem
    assert arm_cpuinfo_problem(PI4_CPUINFO, machine="aarch64") == ""  # a Raspberry Pi 4's own file
    assert arm_cpuinfo_problem(x86, machine="x86_64") == ""  # x86 itself is not affected
