"""Faults a music folder meets (issue 28): a symbolic link loop, a link to nothing, a file gone mid-scan or an
I/O error is one unreadable entry with its real reason, never the end of the scan; a folder that cannot be
read keeps its songs; a full disk stops the scan, saying what was saved, with the catalog whole."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
from pathlib import Path

import pytest

from device import cli
from device.catalog import scan as scanning
from device.store import open_database
from tests.device.catalog.test_scan_accounting import adds_up, scan_json, write_audio


def test_a_link_loop_and_a_link_to_nothing_are_skipped_with_their_reason(tmp_path: Path, config, capsys) -> None:
    music = tmp_path / "music"
    (music / "album").mkdir(parents=True)
    write_audio(music / "album" / "song.flac", 6.0)
    (music / "a.mp3").symlink_to(music / "b.mp3")  # two links pointing at each other
    (music / "b.mp3").symlink_to(music / "a.mp3")
    (music / "gone.flac").symlink_to(music / "nowhere.flac")
    (music / "loop dir").symlink_to(music / "loop dir")  # a folder link to itself
    summary = scan_json(music, config, capsys)
    assert summary["added"] == 1 and adds_up(summary)
    reasons = {Path(f["file"]).name: f["error"] for f in summary["failed"]}
    assert reasons["a.mp3"] == reasons["b.mp3"] == reasons["loop dir"] == "a symbolic link loop"
    assert reasons["gone.flac"] == f"a symbolic link to nothing ({music / 'nowhere.flac'})"


def test_a_folder_that_cannot_be_read_keeps_its_songs(tmp_path: Path, config, monkeypatch) -> None:
    # As root (CI, the device's setup) chmod 000 does not stop reading, so the folder's listing fails the
    # way a permission error or a failing USB stick makes it fail: os.scandir raises for it.
    music = tmp_path / "music"
    for album in ("albumA", "albumB"):
        (music / album).mkdir(parents=True)
        for n in range(2):
            write_audio(music / album / f"{album} {n}.flac", 6.0, level_db=-10.0 - n - (5 if album == "albumB" else 0))
    db = open_database(config.database_path)
    assert scanning.scan(db, music, config.state_dir).added == 4
    real_scandir = os.scandir
    locked = music / "albumB"

    def scandir(path: object = ".") -> object:
        if Path(os.fsdecode(path)) == locked:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    summary = scanning.scan(db, music, config.state_dir)
    assert summary.removed == [] and summary.unchanged == 2
    assert summary.unreadable_folders == [(str(locked), "Permission denied", 2)]
    assert f"  cannot read {locked} (Permission denied): its 2 songs are kept as they were" in summary.describe()
    playable = db.execute("SELECT COUNT(*) FROM tracks WHERE path IS NOT NULL").fetchone()[0]
    assert playable == 4  # still offered: the songs are there, only the folder could not be listed



# ---- one file's fault: gone mid-scan, an I/O error ------------------------------------------------------


def no_traceback(caplog: pytest.LogCaptureFixture) -> bool:
    return not [record for record in caplog.records if record.exc_info]


def test_a_file_gone_between_listing_and_reading_is_skipped_with_why(tmp_path: Path, config, caplog) -> None:
    music = tmp_path / "music"
    music.mkdir()
    for n, name in enumerate(("a.flac", "b.flac")):
        write_audio(music / name, 6.0, level_db=-10.0 - n)
    db = open_database(config.database_path)
    assert scanning.scan(db, music, config.state_dir).added == 2
    new = write_audio(music / "c.flac", 6.0, level_db=-14.0)
    real_analyse = scanning.analyse_parts

    def deleted_as_it_is_read(path: Path, *args: object, **kwargs: object) -> object:
        path.unlink()  # the listener tidies up while the scan runs
        return real_analyse(path, *args, **kwargs)

    def progress(path: Path) -> None:
        if path.name == "b.flac":
            path.unlink()  # listed, then gone before the scan reaches it

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(scanning, "analyse_parts", deleted_as_it_is_read)
        summary = scanning.scan(db, music, config.state_dir, progress=progress)
    gone = "gone while the scan ran (deleted, moved or renamed): the next scan sees where it went"
    assert summary.failed == [(str(music / "b.flac"), gone), (str(new), gone)]
    assert summary.unchanged == 1 and adds_up(summary.to_json()) and no_traceback(caplog)
    assert db.execute("SELECT count(*) FROM files WHERE path = ?", [str(new.resolve())]).fetchone()[0] == 0
    assert scanning.scan(db, music, config.state_dir).removed == [str((music / "b.flac").resolve())]


def test_an_io_error_is_the_file_s_reason_and_it_is_tried_again(tmp_path: Path, config, caplog) -> None:
    """EIO (a failing card or USB stick) while a file is read: that file is unreadable with the system's
    words, nothing is stored of it (not "corrupt" for ever), the rest are scanned; the next scan reads it."""
    music = tmp_path / "music"
    music.mkdir()
    write_audio(music / "a.flac", 6.0, level_db=-10.0)
    bad_block = write_audio(music / "b.flac", 6.0, level_db=-12.0)
    broken = music / "c.flac"
    broken.write_bytes(b"fLaC" + bytes(range(256)) * 8)  # no decoder reads it: is it the file, or the disk?
    real_analyse = scanning.analyse_parts

    def eio_on(path: Path, *args: object, **kwargs: object) -> object:
        if path == bad_block:
            raise OSError(errno.EIO, "Input/output error", str(path))
        return real_analyse(path, *args, **kwargs)

    class FailingDisk(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError(errno.EIO, "Input/output error")

    def opened(file: object, *args: object, **kwargs: object) -> object:
        if Path(os.fsdecode(file)) == broken:  # type: ignore[arg-type]
            return FailingDisk()
        return open(file, *args, **kwargs)  # type: ignore[call-overload]

    db = open_database(config.database_path)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(scanning, "analyse_parts", eio_on)
        patched.setattr(scanning, "open", opened, raising=False)
        summary = scanning.scan(db, music, config.state_dir)
    eio = "Input/output error (the disk, card or USB stick it is on could not read it: failing, or pulled out?)"
    assert summary.failed == [(str(bad_block), eio), (str(broken), eio)]
    assert summary.added == 1 and adds_up(summary.to_json()) and no_traceback(caplog)
    assert db["files"].count == 1  # only a.flac: neither is stored as what it is not
    again = scanning.scan(db, music, config.state_dir)
    assert again.added == 1 and [why for _, why in again.failed] == [
        "cannot read audio (not a recognised audio format, or the file is corrupt)"]


def test_an_empty_file_says_so(tmp_path: Path, config) -> None:
    music = tmp_path / "music"
    music.mkdir()
    (music / "empty.mp3").write_bytes(b"")  # a copy that failed
    db = open_database(config.database_path)
    assert scanning.scan(db, music, config.state_dir).failed == [(str(music / "empty.mp3"), "an empty file (0 bytes)")]
    assert scanning.scan(db, music, config.state_dir).failed == [(str(music / "empty.mp3"), "an empty file (0 bytes)")]


# ---- a full disk: the scan stops, says what was saved, leaves the catalog whole ---------------------------


def test_a_full_database_stops_the_scan_with_what_was_saved(tmp_path: Path, config, caplog) -> None:
    music = tmp_path / "music"
    music.mkdir()
    for n in range(5):
        write_audio(music / f"{n} song.flac", 6.0, level_db=-10.0 - n)
    db = open_database(config.database_path)

    def fill_up_at_the_third(path: Path) -> None:
        if path.name == "2 song.flac":  # SQLite's own "database or disk is full" (SQLITE_FULL) from here on
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {pages}")

    summary = scanning.scan(db, music, config.state_dir, progress=fill_up_at_the_third)
    assert summary.stopped == ("disk full after 2 of 5 files: the 2 are in the catalog, the other 3 will be added "
                               "by the next scan once there is space")
    assert (summary.files, summary.added) == (2, 2) and adds_up(summary.to_json()) and no_traceback(caplog)
    assert summary.describe().splitlines()[1] == f"  stopped: {summary.stopped}"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT f.path, t.path FROM files AS f JOIN tracks AS t ON t.id = f.track_id").fetchall()
    assert len(rows) == db["files"].count == db["tracks"].count == 2 and all(f == t for f, t in rows)

    db.execute("PRAGMA max_page_count = 1073741823")  # space again
    again = scanning.scan(db, music, config.state_dir)
    assert (again.added, again.unchanged, again.stopped) == (3, 2, "")


def test_no_space_stops_the_timer_scan_and_the_next_folders_wait(tmp_path: Path, config, caplog) -> None:
    """ENOSPC from a write beside the database (a cache the analysis keeps): the same stop; the watched
    folders after it are not scanned."""
    first, second = tmp_path / "first", tmp_path / "second"
    for n, folder in enumerate((first, second)):
        folder.mkdir()
        write_audio(folder / "song.flac", 6.0, level_db=-10.0 - n)
        write_audio(folder / "other.flac", 6.0, level_db=-20.0 - n)
    real_analyse = scanning.analyse_parts

    def no_space_after_one(path: Path, *args: object, **kwargs: object) -> object:
        if path.name == "song.flac":
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "cache"))
        return real_analyse(path, *args, **kwargs)

    db = open_database(config.database_path)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(scanning, "analyse_parts", no_space_after_one)
        watched = scanning.scan_music_dirs(db, [first, second], config.state_dir)
    [one] = watched.scanned
    assert watched.stopped == one.stopped == ("disk full after 1 of 2 files: the 1 are in the catalog, the other 1 "
                                              "will be added by the next scan once there is space")
    assert watched.skipped == [(str(second), "not scanned: the disk is full")] and no_traceback(caplog)
    assert watched.to_json()["stopped"] == one.stopped and one.added == 1


def test_the_cli_says_what_a_full_disk_left_and_exits_one(tmp_path: Path, config, capsys, monkeypatch) -> None:
    music = tmp_path / "music"
    music.mkdir()
    for n in range(3):
        write_audio(music / f"{n} song.flac", 6.0, level_db=-10.0 - n)
    real_store = scanning._store_analysed
    stored: list[Path] = []

    def full_after_one(*args: object, **kwargs: object) -> bool:
        if stored:
            raise sqlite3.OperationalError("database or disk is full")
        stored.append(Path())
        return real_store(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scanning, "_store_analysed", full_after_one)
    assert cli.main(["catalog", "scan", str(music), "--state-dir", str(config.state_dir)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[1] == ("  stopped: disk full after 1 of 3 files: the 1 are in the catalog, the other 2 "
                                   "will be added by the next scan once there is space")
    assert "emotune: the scan stopped early: the disk is full" in err and "Traceback" not in err
