"""`emotune forget --person NAME` as a user runs it over SSH: one person's faces, calibration, identity
and plays go, everyone else's stay; the page's button calls the same function (forget_listener)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from device import contract, store
from device.calibration.forgetting import forget_listener
from device.calibration.identity import Identity, identity_path, save_identity
from device.calibration.store import head_path, install_head, person_faces_dir, remember_name
from device.catalog.tracks import upsert_track
from device.contract import Intent, Outcome
from tests.helpers import Emotune


def known(state: Path, person: str) -> None:
    """A person as a calibration leaves them: a face, a head, an identity."""
    remember_name(state, person)
    faces = person_faces_dir(state, person) / "happy"
    faces.mkdir(parents=True)
    (faces / "20260101-100000-001.png").write_bytes(b"png")
    install_head(b"head", state, person)
    save_identity(Identity(np.zeros(128, np.float32), 3), state, person)


def plays(state: Path, *people: str | None) -> None:
    db = store.open_database(state / "emotune.db")
    try:
        track = upsert_track(db, title="Song", artist="A", path=str(state / "song.mp3"), valence=0.1, arousal=0.1,
                             va_source="composed", duration_s=60.0)
        for person in people:
            play = contract.start_play(db, track, emotion="sad", valence=-0.4, arousal=-0.2, intent=Intent.ENHANCE,
                                       reason="r", person=person)
            contract.end_play(db, play, Outcome.ENDED)
            contract.record_feedback(db, play, 1)
    finally:
        db.conn.close()


def people_in_history(state: Path) -> list[str | None]:
    db = store.open_database(state / "emotune.db")
    try:
        return [play.person for play in contract.recent_plays(db, 100)]
    finally:
        db.conn.close()


def test_forget_person_erases_them_and_only_them(tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    known(state, "Anna")
    known(state, "Ben")
    plays(state, "Anna", "Ben", None, "anna")
    done = emotune("forget", "--person", "ANNA", "--yes", state_dir=state)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("forgot ANNA: their faces, calibration and face identity, and 2 plays; the device "
                                   "reads them with the general model from now on")
    assert not (state / "people" / "anna").exists()
    assert head_path(state, "Ben").is_file() and identity_path(state, "Ben").is_file()
    assert sorted(people_in_history(state), key=str) == ["Ben", None]  # another's plays and unknown ones stay

    again = emotune("forget", "--person", "Anna", "--yes", state_dir=state)
    assert again.returncode == 1 and "knows nobody called 'Anna'" in again.stderr
    assert again.stderr.strip().count("\n") == 0 and "Traceback" not in again.stderr


def test_forget_person_asks_first(tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    known(state, "Anna")
    done = emotune("forget", "--person", "Anna", state_dir=state)  # no terminal to ask on: nothing erased
    assert done.returncode == 1 and "--yes" in done.stderr and "Traceback" not in done.stderr
    assert head_path(state, "Anna").is_file()
    bad = emotune("forget", "--person", "../x", "--yes", state_dir=state)
    assert bad.returncode == 1 and "cannot be used" in bad.stderr


def test_forget_the_default_listener_keeps_the_devices_files_and_json_says_what_went(
        tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    known(state, "listener")
    plays(state, None, None)
    done = emotune("forget", "--person", "listener", "--yes", "--json", state_dir=state)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["person"] == "listener" and document["plays"] == 0
    assert str(state / "identity.npy") in document["removed"]
    assert (state / "emotune.db").is_file() and people_in_history(state) == [None, None]


def test_forget_without_a_person_is_still_the_whole_history(tmp_path: Path, emotune: Emotune) -> None:
    state = tmp_path / "state"
    known(state, "Anna")
    plays(state, "Anna", None)
    done = emotune("forget", state_dir=state)
    assert done.returncode == 0 and "forgot 2 plays" in done.stdout
    assert head_path(state, "Anna").is_file()  # faces and calibrations are not the history


def test_the_page_button_function_forgets_plays_of_a_person_without_files(tmp_path: Path) -> None:
    state = tmp_path / "state"
    plays(state, "Cleo")
    db = store.open_database(state / "emotune.db")
    try:
        forgotten = forget_listener(state, "cleo", db)
        assert forgotten.plays == 1 and forgotten.removed == []
        assert contract.recent_plays(db) == []
    finally:
        db.conn.close()
