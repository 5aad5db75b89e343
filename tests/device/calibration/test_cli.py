"""`emotune calibrate`, `emotune model status` and `model rollback --person` as a user runs them over SSH."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device.calibration.store import person_faces_dir
from tests.camera_faces import JAFFE
from tests.device.calibration.jaffe_crops import write_rounds
from tests.helpers import Emotune

pytestmark = pytest.mark.skipif(not (JAFFE / "labels.csv").is_file(), reason=f"{JAFFE} is not here")


def test_calibrate_installs_says_why_and_model_status_and_rollback_follow(tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    write_rounds(person_faces_dir(state, "Ελένη"), "KM")
    done = emotune("calibrate", "--person", "Ελένη", state_dir=state)
    assert done.returncode == 0, done.stderr
    assert "your own model reads your held-out faces" in done.stdout and "installed" in done.stdout
    status = emotune("model", "status", state_dir=state)
    assert "Ελένη: in use: calibrated" in status.stdout
    document = json.loads(emotune("model", "status", "--json", state_dir=state).stdout)
    assert [entry["person"] for entry in document["calibrations"] if entry["in_use"]] == ["Ελένη"]
    back = emotune("model", "rollback", "--person", "Ελένη", state_dir=state)
    assert back.returncode == 0 and "no calibration now" in back.stdout
    assert "Ελένη: not calibrated" in emotune("model", "status", state_dir=state).stdout


def test_calibrate_exit_codes_tell_refused_from_not_better(tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    refused = emotune("calibrate", state_dir=state)
    assert refused.returncode == 3 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().count("\n") == 0  # one line: what to capture
    write_rounds(state / "faces", "KA", shuffle_labels=True, seed=3)
    not_better = emotune("calibrate", state_dir=state)
    assert not_better.returncode == 4, not_better.stderr
    assert "not installed" in not_better.stdout


def test_a_name_that_cannot_be_a_person_is_one_line(tmp_path: Path, emotune: Emotune) -> None:
    done = emotune("calibrate", "--person", "../etc", state_dir=tmp_path / "state")
    assert done.returncode != 0 and "cannot be used" in done.stderr and "Traceback" not in done.stderr


def test_an_empty_person_is_a_bad_name_never_everyone(tmp_path: Path, emotune: Emotune) -> None:
    """`--person "$NAME"` with an empty variable must not fall through to the whole history, the face
    model's rollback or the default listener."""
    state = tmp_path / "state"
    for args in (("forget", "--person", "", "--yes"), ("model", "rollback", "--person", ""),
                 ("calibrate", "--person", "")):
        done = emotune(*args, state_dir=state)
        assert done.returncode == 1 and "cannot be used" in done.stderr, (args, done.stdout, done.stderr)
        assert "forgot" not in done.stdout


def test_hints_name_the_person_and_the_face_models_rollback_points_to_calibrations(
        tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    write_rounds(state / "faces", "KL")
    assert emotune("calibrate", state_dir=state).returncode == 0
    status = emotune("model", "status", state_dir=state).stdout
    assert '(emotune model rollback --person "listener")' in status
    wrong = emotune("model", "rollback", state_dir=state)
    assert wrong.returncode == 1 and 'a calibration is rolled back with --person "listener"' in wrong.stderr
    back = emotune("model", "rollback", "--person", "listener", state_dir=state)
    assert "'emotune model rollback --person \"listener\"' again undoes this" in back.stdout


def test_a_refusal_names_whose_pictures_and_json_gets_a_document(tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    done = emotune("calibrate", "--person", "Ζωή", "--json", state_dir=state)
    assert done.returncode == 3
    document = json.loads(done.stdout)
    assert document["installed"] is False and document["refused"].startswith("Ζωή (")


def test_with_two_people_one_without_an_identity_is_not_said_to_be_in_use(tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    for name, subject in (("Bob", "KA"), ("Анна", "KL")):
        write_rounds(person_faces_dir(state, name), subject)
        assert emotune("calibrate", "--person", name, "--force", state_dir=state).returncode == 0
    status = emotune("model", "status", state_dir=state).stdout
    assert "Bob: not used: no face identity" in status and "Анна: not used: no face identity" in status
