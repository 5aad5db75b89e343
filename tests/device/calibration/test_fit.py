"""The light calibration end to end on a real person's faces (jaffe-dev): fit, decide, install, read."""

from __future__ import annotations

import numpy as np
import pytest

from device.calibration.faces import PersonalDataError
from device.calibration.fit import base_classifier, calibrate
from device.calibration.reader import calibrated_reader
from device.calibration.store import head_path, person_faces_dir
from device.config import Config, FacesConfig
from device.faces import StillPhotoDetector
from tests.camera_faces import JAFFE
from tests.device.calibration.jaffe_crops import write_rounds

pytestmark = pytest.mark.skipif(not (JAFFE / "labels.csv").is_file(), reason=f"{JAFFE} is not here")


def test_a_calibration_on_two_rounds_installs_and_reads_the_kept_back_photos_better(config: Config) -> None:
    kept_back = write_rounds(person_faces_dir(config.state_dir, "KM"), "KM")
    result = calibrate(config, "KM")
    assert result.installed and result.decision.clears
    assert result.decision.after > result.decision.before
    assert "reads your held-out faces" in result.reason() and "installed" in result.reason()
    base = base_classifier(config)
    reader = calibrated_reader(config.state_dir, "KM", base)
    assert reader is not None
    detector = StillPhotoDetector(FacesConfig())
    general = calibrated = 0
    for label, photo in kept_back.items():
        face = detector.largest(photo)
        assert face is not None
        general += int(np.argmax(base.probabilities(face.crop))) == label
        calibrated += int(np.argmax(reader.probabilities(face.crop))) == label
    assert calibrated > general  # photos it never saw, of the same person


def test_faces_that_teach_nothing_are_not_installed(config: Config) -> None:
    write_rounds(config.state_dir / "faces", "KA", shuffle_labels=True, seed=3)
    result = calibrate(config, "listener")
    assert not result.installed and not head_path(config.state_dir).exists()
    assert "not installed" in result.reason()


def test_one_round_per_expression_is_refused_with_what_to_do(config: Config) -> None:
    write_rounds(person_faces_dir(config.state_dir, "KL"), "KL", rounds=1)
    with pytest.raises(PersonalDataError, match="capture a second round") as caught:
        calibrate(config, "KL")
    assert caught.value.exit_code == 3
    assert not head_path(config.state_dir, "KL").exists()


def test_a_head_fitted_on_another_face_model_is_passed_over(config: Config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    write_rounds(person_faces_dir(config.state_dir, "KM"), "KM", per_round=6)
    assert calibrate(config, "KM", force=True).installed
    other = tmp_path / "other.tflite"
    shutil.copy(base_classifier(config).model_path, other)
    shutil.copy(base_classifier(config).model_path.with_suffix(".json"), other.with_suffix(".json"))
    other.write_bytes(other.read_bytes() + b"\0")  # another file: another sha256
    moved = config.replace_section("model", path=str(other))
    assert calibrated_reader(moved.state_dir, "KM", base_classifier(moved)) is None
