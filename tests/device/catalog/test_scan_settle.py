"""A file still being copied in when the scan runs (issue 28) is left for the next scan, with its reason:
never added half, never marked broken or too short, a row it had kept as it was; once settled, it is added."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from device import cli
from device.catalog import recordings
from device.catalog import scan as scanning
from device.store import open_database
from tests.device.catalog.test_scan_accounting import adds_up, write_audio

LAST_MINUTE = "changed in the last minute"
WHILE_READ = "changed while it was read"


def age(path: Path, seconds: float) -> Path:
    """The file as if written `seconds` ago (negative: in the future)."""
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def files_row(db, path: Path) -> dict | None:
    return next(db["files"].rows_where("path = ?", [str(path.resolve())]), None)


def test_a_file_written_in_the_last_minute_is_left_for_the_next_scan(tmp_path: Path, config) -> None:
    music = tmp_path / "music"
    music.mkdir()
    done = age(write_audio(music / "done.flac", 6.0, level_db=-10.0), 120)
    copying = age(write_audio(music / "copying.flac", 6.0, level_db=-14.0), 0)  # scp, SMB: mtime is now
    ahead = age(write_audio(music / "camera.flac", 6.0, level_db=-18.0), -3600)  # a clock set wrong: no copy
    db = open_database(config.database_path)

    summary = scanning.scan(db, music, config.state_dir, settle_s=scanning.SETTLE_S)
    assert summary.added == 2 and summary.copying == [(str(copying), LAST_MINUTE)]
    assert summary.failed == summary.too_short == [] and adds_up(summary.to_json())
    assert files_row(db, copying) is None and files_row(db, done) and files_row(db, ahead)
    lines = summary.describe().splitlines()
    assert "2 added, 0 updated, 0 unchanged, 1 skipped; 0 removed" in lines[0]
    assert lines[1] == f"  still being copied ({LAST_MINUTE}), left for the next scan: 1: {copying}"
    last = db.execute("SELECT reasons FROM imports WHERE kind = 'scan' ORDER BY id DESC").fetchone()[0]
    assert json.loads(last) == {"still being copied (left for the next scan)": 1}  # the page's words

    age(copying, 61)  # the copy ended a minute ago: the next run adds it
    again = scanning.scan(db, music, config.state_dir, settle_s=scanning.SETTLE_S)
    assert (again.added, again.unchanged, again.copying) == (1, 2, [])
    assert files_row(db, copying)["error"] is None


def test_a_file_that_grows_while_it_is_read_keeps_its_old_row(tmp_path: Path, config, monkeypatch) -> None:
    """A better rip copied over a song the catalog has, while a person's scan (no settle time) reads it:
    the song stays as it was (playable, not removed, not broken), and the next scan takes the new file."""
    music = tmp_path / "music"
    music.mkdir()
    song = age(write_audio(music / "song.flac", 6.0, level_db=-10.0), 120)
    db = open_database(config.database_path)
    assert scanning.scan(db, music, config.state_dir).added == 1
    before = files_row(db, song)
    track = db["tracks"].get(before["track_id"])
    write_audio(song, 7.0, level_db=-12.0)  # the copy has begun
    real_key = recordings.audio_key

    def key_then_more_bytes(path: Path) -> str | None:
        key = real_key(path)
        with open(path, "ab") as file:  # the copy goes on while the scan reads
            file.write(b"\0" * 4096)
        return key

    monkeypatch.setattr(recordings, "audio_key", key_then_more_bytes)
    summary = scanning.scan(db, music, config.state_dir)
    assert summary.copying == [(str(song), WHILE_READ)] and (summary.added, summary.updated) == (0, 0)
    assert summary.removed == summary.failed == [] and adds_up(summary.to_json())
    assert files_row(db, song) == before and db["tracks"].get(track["id"])["path"] == track["path"]

    monkeypatch.setattr(recordings, "audio_key", real_key)
    write_audio(song, 7.0, level_db=-12.0)  # the copy ended
    assert scanning.scan(db, music, config.state_dir).updated == 1  # the same row, the new file's analysis
    assert files_row(db, song)["size"] == song.stat().st_size


def test_a_half_copied_file_is_never_stored_as_too_short_or_broken(tmp_path: Path, config, monkeypatch) -> None:
    music = tmp_path / "music"
    music.mkdir()
    whole = write_audio(tmp_path / "whole.flac", 8.0).read_bytes()
    half = music / "half.flac"
    half.write_bytes(whole[:3000])  # the first kilobytes: a second of audio or none
    real_analyse = scanning.analyse_parts

    def analyse_while_it_arrives(path: Path, *args: object, **kwargs: object) -> object:
        try:
            return real_analyse(path, *args, **kwargs)
        finally:
            half.write_bytes(whole)  # the rest arrives while the scan reads

    monkeypatch.setattr(scanning, "analyse_parts", analyse_while_it_arrives)
    db = open_database(config.database_path)
    summary = scanning.scan(db, music, config.state_dir)
    assert summary.copying == [(str(half), WHILE_READ)] and summary.too_short == summary.failed == []
    assert files_row(db, half) is None  # nothing stored: not "too short", not "cannot read audio"
    monkeypatch.setattr(scanning, "analyse_parts", real_analyse)
    assert scanning.scan(db, music, config.state_dir).added == 1


def test_the_timer_scan_leaves_a_fresh_copy_and_a_person_s_scan_of_a_folder_takes_it(
    tmp_path: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    music = config.state_dir / "music"  # the watched folder, [catalog] music_dirs' default
    music.mkdir(parents=True)
    fresh = write_audio(music / "fresh.flac", 6.0)
    args = ["catalog", "scan", "--state-dir", str(config.state_dir)]
    assert cli.main(args) == 0  # what emotune-scan.timer runs
    out = capsys.readouterr().out
    assert f"  still being copied ({LAST_MINUTE}), left for the next scan: 1: {fresh}" in out.splitlines()
    assert cli.main([*args[:2], str(music), *args[2:], "--json"]) == 0  # a person names the folder: copy done
    assert json.loads(capsys.readouterr().out)["added"] == 1


def test_settled_reads_the_age_of_the_last_write() -> None:
    stat = os.stat_result((0o100644, 0, 0, 1, 0, 0, 100, 0, 1000, 0))  # mtime 1000
    assert scanning.settled(stat, 60.0, now=1059.0) == LAST_MINUTE
    assert scanning.settled(stat, 60.0, now=1060.0) is None
    assert scanning.settled(stat, 60.0, now=999.5) == LAST_MINUTE  # a coarse clock: just ahead is now
    assert scanning.settled(stat, 60.0, now=900.0) is None  # far ahead of the clock: no copy's
    assert scanning.settled(stat, 0.0, now=1000.0) is None
    assert scanning.settled(stat, 5.0, now=1001.0) == "changed in the last 5 s"
