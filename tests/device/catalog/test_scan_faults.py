"""Faults a music folder meets (issue 28): a symbolic link loop or a link to nothing is one unreadable entry
with its real reason, never the end of the scan; a folder that cannot be read keeps its songs."""

from __future__ import annotations

import os
from pathlib import Path

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

