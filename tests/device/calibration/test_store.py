"""Where people live: names in any script, one folder per person, install keeps the previous, rollback
swaps, forget erases only that person."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.calibration.store import (
    PersonError,
    calibrated,
    check_person,
    forget_person,
    head_path,
    install_head,
    people,
    person_faces_dir,
    person_root,
    remember_name,
    rollback_head,
)


@pytest.mark.parametrize("name", ["Anna", "Ελένη", "Дмитрий", "José María", "O'Brien", "李雷", "Anne-Marie 2"])
def test_names_in_any_script_are_people(tmp_path: Path, name: str) -> None:
    remember_name(tmp_path, name)
    assert name in people(tmp_path)
    assert person_root(tmp_path, name).parent == tmp_path / "people"


@pytest.mark.parametrize("name", ["", "   ", "..", "../etc", "a/b", "_x", "x" * 41, "a\nb", "-x"])
def test_names_that_cannot_be_a_folder_are_refused_with_what_a_name_may_hold(name: str) -> None:
    with pytest.raises(PersonError, match="cannot be used: 1–40 letters"):
        check_person(name)


def test_case_does_not_make_another_person(tmp_path: Path) -> None:
    assert person_root(tmp_path, "ANNA") == person_root(tmp_path, "anna")
    assert person_root(tmp_path, "ΕΛΈΝΗ") == person_root(tmp_path, "ελένη")


def test_the_default_listener_keeps_the_state_dirs_own_folders(tmp_path: Path) -> None:
    assert person_faces_dir(tmp_path) == tmp_path / "faces"
    assert head_path(tmp_path) == tmp_path / "models" / "calibration.npz"


def test_install_keeps_the_previous_and_rollback_swaps_both_ways(tmp_path: Path) -> None:
    install_head(b"first", tmp_path, "Anna")
    install_head(b"second", tmp_path, "Anna")
    assert head_path(tmp_path, "Anna").read_bytes() == b"second"
    assert not rollback_head(tmp_path, "Anna").to_none
    assert head_path(tmp_path, "Anna").read_bytes() == b"first"
    rollback_head(tmp_path, "Anna")
    assert head_path(tmp_path, "Anna").read_bytes() == b"second"


def test_rolling_back_the_first_calibration_returns_to_none_and_again_restores_it(tmp_path: Path) -> None:
    install_head(b"only", tmp_path)
    assert rollback_head(tmp_path).to_none
    assert not head_path(tmp_path).exists() and calibrated(tmp_path) == []
    rollback_head(tmp_path)
    assert head_path(tmp_path).read_bytes() == b"only"


def test_rollback_with_nothing_replaced_says_so(tmp_path: Path) -> None:
    with pytest.raises(PersonError, match="nothing to roll back to for Anna"):
        rollback_head(tmp_path, "Anna")


def test_forget_erases_one_person_and_leaves_the_others(tmp_path: Path) -> None:
    for name in ("Anna", "Ben"):
        (person_faces_dir(tmp_path, name) / "happy").mkdir(parents=True)
        remember_name(tmp_path, name)
        install_head(b"head", tmp_path, name)
    (tmp_path / "catalog.db").write_bytes(b"the device's")
    forget_person(tmp_path, "anna")
    assert people(tmp_path) == ["Ben"] and (tmp_path / "catalog.db").exists()
    with pytest.raises(PersonError, match="nobody called 'Anna'"):
        forget_person(tmp_path, "Anna")


def test_forgetting_the_default_listener_keeps_the_devices_files(tmp_path: Path) -> None:
    (person_faces_dir(tmp_path) / "sad").mkdir(parents=True)
    install_head(b"head", tmp_path)
    (tmp_path / "models" / "emotion.tflite").write_bytes(b"a TensorFlow personal model")
    forget_person(tmp_path, "listener")
    assert not (tmp_path / "faces").exists() and not head_path(tmp_path).exists()
    assert (tmp_path / "models" / "emotion.tflite").exists()


def test_the_name_shown_is_the_one_first_typed(tmp_path: Path) -> None:
    remember_name(tmp_path, "Zoë")
    remember_name(tmp_path, "ZOË")
    assert people(tmp_path) == ["Zoë"]
