"""Songs the daemon cannot play now: a pulled USB stick leaves out every song on it at once and gives them
back when it returns; a file that would not play is tried again when it changes or after a doubling
backoff; the message names the missing places. Real folders, real SQLite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlite_utils

from device import store
from device.catalog.tracks import upsert_track
from device.runtime.unplayable import RETRY_AFTER_S, Unplayable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def db(tmp_path: Path) -> sqlite_utils.Database:
    return store.open_database(tmp_path / "emotune.db")


def songs(db: sqlite_utils.Database, folder: Path, names: list[str]) -> dict[str, int]:
    ids = {}
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"audio")
        ids[name] = upsert_track(db, title=path.stem, artist="Band", path=str(path), valence=0.1, arousal=0.1,
                                 va_source="composed")
    return ids


def test_a_pulled_stick_leaves_out_every_song_on_it_at_once_and_gives_them_back(
        db: sqlite_utils.Database, tmp_path: Path) -> None:
    stick = tmp_path / "media" / "usb"
    on_stick = songs(db, stick, ["Album A/one.ogg", "Album A/two.ogg", "Album B/three.flac"])
    at_home = songs(db, tmp_path / "music", ["four.mp3"])
    shutil.move(str(stick), str(tmp_path / "away"))
    stick.mkdir()  # the mount point stays, empty
    unplayable = Unplayable(db)

    gone, count = unplayable.missing(on_stick["Album A/one.ogg"], str(stick / "Album A" / "one.ogg"))

    assert (gone, count) == (str(stick), 3)
    assert unplayable.ids() == frozenset(on_stick.values())
    assert at_home["four.mp3"] not in unplayable.ids()
    assert str(stick) in unplayable.describe() and "3 songs' files missing" in unplayable.describe()

    stick.rmdir()
    shutil.move(str(tmp_path / "away"), str(stick))  # plugged in again
    assert unplayable.ids() == frozenset()
    assert not unplayable


def test_a_file_gone_from_a_folder_that_is_still_there_leaves_out_that_song_only(
        db: sqlite_utils.Database, tmp_path: Path) -> None:
    ids = songs(db, tmp_path / "music", ["a.ogg", "b.ogg"])
    (tmp_path / "music" / "a.ogg").unlink()
    unplayable = Unplayable(db)
    assert unplayable.missing(ids["a.ogg"], str(tmp_path / "music" / "a.ogg")) == (str(tmp_path / "music" / "a.ogg"), 1)
    assert unplayable.ids() == {ids["a.ogg"]}
    (tmp_path / "music" / "a.ogg").write_bytes(b"copied back")
    assert unplayable.ids() == frozenset()


def test_a_file_that_would_not_play_is_tried_again_when_it_changes(db: sqlite_utils.Database, tmp_path: Path) -> None:
    ids = songs(db, tmp_path / "music", ["broken.mp3"])
    path = tmp_path / "music" / "broken.mp3"
    unplayable = Unplayable(db, Clock())
    unplayable.failed(ids["broken.mp3"], str(path))
    assert unplayable.ids() == {ids["broken.mp3"]}
    assert unplayable.ids() == {ids["broken.mp3"]}  # not retried by merely asking again
    assert f"1 would not play ({path})" in unplayable.describe()
    path.write_bytes(b"re-encoded, a different length")
    assert unplayable.ids() == frozenset()


def test_a_file_that_keeps_failing_waits_twice_as_long_each_time(db: sqlite_utils.Database, tmp_path: Path) -> None:
    ids = songs(db, tmp_path / "music", ["broken.mp3"])
    clock = Clock()
    unplayable = Unplayable(db, clock)
    track, path = ids["broken.mp3"], str(tmp_path / "music" / "broken.mp3")
    unplayable.failed(track, path)
    clock.now += RETRY_AFTER_S - 1
    assert track in unplayable.ids()
    clock.now += 1
    assert track not in unplayable.ids()  # retried
    unplayable.failed(track, path)  # and failed again: twice the wait
    clock.now += RETRY_AFTER_S
    assert track in unplayable.ids()
    clock.now += RETRY_AFTER_S
    assert track not in unplayable.ids()
