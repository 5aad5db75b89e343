"""`emotune catalog scan` (device.catalog.scan): incremental, corrupt files reported, imported rows kept."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytest

from device import cli
from device.music.features import FEATURE_NAMES


def test_scan_is_incremental_and_skips_corrupt_files(
    demo_clips: dict[str, Path], config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from device.catalog.search import search
    from device.catalog.stats import catalog_stats
    from device.store import open_database

    music = tmp_path / "music"
    (music / "album").mkdir(parents=True)
    first = music / "album" / "Sunlit_Market.wav"
    first.write_bytes(demo_clips["Sunlit Market"].read_bytes())
    (music / "Empty_Station.wav").write_bytes(demo_clips["Empty Station"].read_bytes())
    (music / "corrupt.flac").write_bytes(b"fLaC" + os.urandom(2000))
    (music / "notes.txt").write_text("not music")
    args = ["catalog", "scan", str(music), "--json", "--state-dir", str(config.state_dir)]

    assert cli.main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["files"], summary["added"], summary["unchanged"]) == (3, 2, 0)
    assert [f["file"] for f in summary["failed"]] == [str(music / "corrupt.flac")]
    db = open_database(config.database_path)
    [track] = search(db, "sunlit market")
    assert track.va_source == "audio" and track.playable and track.artist == ""
    assert -1 <= (track.valence or 0) <= 1 and track.tempo and track.mode == 1
    stored = json.loads(db.execute("SELECT audio_features FROM tracks WHERE id = ?", [track.id]).fetchone()[0])
    assert set(stored) == {*FEATURE_NAMES, "parts"} and all(set(p) == set(FEATURE_NAMES) for p in stored["parts"])

    stats = catalog_stats(db)
    # the last scan as the page shows it: every file seen (notes.txt too), the corrupt one and the text skipped
    assert stats["analysed"] == 2 and stats["last_scan"]["rows"] == 4 and stats["last_scan"]["skipped"] == 2
    assert json.loads(stats["last_scan"]["reasons"]) == {"unreadable": 1, "not audio": 1}

    assert cli.main(args) == 0  # nothing changed: nothing analysed again, the corrupt file still reported
    summary = json.loads(capsys.readouterr().out)
    assert (summary["added"], summary["updated"], summary["unchanged"], len(summary["failed"])) == (0, 0, 2, 1)

    os.utime(first, (first.stat().st_atime, first.stat().st_mtime + 10))
    assert cli.main(args) == 0  # a touched file is analysed again, into the same row
    summary = json.loads(capsys.readouterr().out)
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (0, 1, 1)
    assert db.table("tracks").count == 2

    # a file from another folder is not touched by scans of this one
    other = tmp_path / "other"
    other.mkdir()
    (other / "Last_Letter.wav").write_bytes(demo_clips["Last Letter"].read_bytes())
    assert cli.main(["catalog", "scan", str(other), "--json", "--state-dir", str(config.state_dir)]) == 0
    capsys.readouterr()
    gone = music / "Empty_Station.wav"
    gone.unlink()
    assert cli.main(args) == 0  # a deleted file is reported; its row stays (a seed) but is no longer playable
    summary = json.loads(capsys.readouterr().out)
    assert summary["removed"] == [str(gone.resolve())] and summary["unchanged"] == 1
    [station] = search(db, "empty station")
    assert not station.playable and station.valence is not None
    [letter] = search(db, "last letter")
    assert letter.playable
    assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 3  # sunlit, corrupt, last letter


def test_scan_onto_an_imported_row_keeps_its_features(demo_clips: dict[str, Path], config, tmp_path: Path) -> None:
    from device.catalog.scan import scan
    from device.catalog.search import search
    from device.catalog.tracks import upsert_track
    from device.store import open_database

    db = open_database(config.database_path)
    upsert_track(db, title="Storm Warning", artist="", valence=0.7, arousal=0.2, va_source="features",
                 energy=0.6, tempo=99.0, provenance="top_hits.csv")
    music = tmp_path / "music"
    music.mkdir()
    (music / "Storm Warning.wav").write_bytes(demo_clips["Storm Warning"].read_bytes())
    summary = scan(db, music, config.state_dir)
    assert (summary.added, summary.updated) == (0, 1)
    [track] = search(db, "storm warning")
    assert track.playable
    assert (track.valence, track.va_source, track.tempo, track.energy) == (0.7, "features", 99.0, 0.6)
    row = db.execute("SELECT audio_valence, loudness FROM tracks WHERE id = ?", [track.id]).fetchone()
    assert row[0] is not None and row[1] is not None  # the device's own estimate, and loudness it lacked
    assert track.provenance == "top_hits.csv"  # where its features came from


def copied_a_while_ago(path: Path, source: Path) -> None:
    """A copy of `source` at `path` that ended two minutes ago: the timer's scan (no folder named) leaves a
    file written in the last minute for its next run (scan.SETTLE_S; tests/device/catalog/test_scan_settle.py)."""
    path.write_bytes(source.read_bytes())
    then = time.time() - 120
    os.utime(path, (then, then))


def test_scan_without_a_folder_adds_what_was_dropped_into_the_music_folders(
    demo_clips: dict[str, Path], config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from device.catalog.candidates import Candidates
    from device.catalog.scan import MUSIC_DIR_MODE
    from device.catalog.search import search
    from device.store import open_database

    stick, missing = tmp_path / "stick", tmp_path / "usb"  # a stick that is in, and one that is not
    stick.mkdir()
    copied_a_while_ago((stick / "Last_Letter.wav"), demo_clips["Last Letter"])
    settings = tmp_path / "config.toml"
    settings.write_text(f'[catalog]\nmusic_dirs = ["music", "{missing}", "{stick}"]\n')
    args = ["catalog", "scan", "--config", str(settings), "--state-dir", str(config.state_dir)]
    music = config.state_dir / "music"

    assert cli.main(args) == 0  # first run: the music folder is made, the missing stick is one line
    out = capsys.readouterr().out
    assert f"created {music}" in out
    assert [line for line in out.splitlines() if str(missing) in line] == [
        f"{missing}: skipped, not there (a USB stick that is not plugged in?)"]
    assert music.stat().st_mode & 0o7777 == MUSIC_DIR_MODE  # the user's group may copy files in
    db = open_database(config.database_path)
    [letter] = search(db, "last letter")
    assert letter.playable

    copied_a_while_ago(music / "Sunlit_Market.wav", demo_clips["Sunlit Market"])  # dropped in by the user
    assert cli.main([*args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["total"]["added"] == 1 and summary["total"]["unchanged"] == 1
    [sunlit] = search(db, "sunlit market")
    assert sunlit.playable and sunlit.path == str((music / "Sunlit_Market.wav").resolve())
    assert sunlit.id in Candidates.from_db(db).ids  # what the daemon chooses from

    (music / "Sunlit_Market.wav").unlink()  # deleted from the music folder: not offered any more
    (stick / "Last_Letter.wav").unlink()  # the stick is pulled out, its (empty) mount point stays
    assert cli.main([*args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [s["removed"] for s in summary["scanned"]] == [[str((music / "Sunlit_Market.wav").resolve())]]
    assert [s["path"] for s in summary["skipped"]] == [str(missing), str(stick)]
    assert not search(db, "sunlit market")[0].playable
    assert search(db, "last letter")[0].playable  # kept for when the stick is back: not analysed again


def test_a_new_music_model_places_scanned_music_again(demo_clips: dict[str, Path], config, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A listener who upgrades emotune gets their music re-placed by the new model at the next scan, with
    nothing to type; files the same model already placed are left alone."""
    from device.music.mer import DEFAULT_MODEL, QUADRANTS, quadrant
    from device.store import open_database

    music = tmp_path / "music"
    music.mkdir()
    (music / "Storm_Warning.wav").write_bytes(demo_clips["Storm Warning"].read_bytes())
    args = ["catalog", "scan", str(music), "--json", "--state-dir", str(config.state_dir)]
    assert cli.main(args) == 0
    capsys.readouterr()
    db = open_database(config.database_path)
    placed = db.execute("SELECT valence, arousal, va_confidence FROM tracks").fetchone()
    assert 0 < placed[2] <= 1

    # the same model: unchanged
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 1

    # a retrained model (here: the shipped one, calibrated to be all but certain of the file's quadrant)
    # places the file again: same quadrant, now at the corner
    document = json.loads(DEFAULT_MODEL.read_text())
    document["provenance"]["date"] = "2099-01-01T00:00:00Z"
    placed_in = QUADRANTS.index(quadrant(placed[0], placed[1]))
    document["calibration"]["bias"] = [0.0 if i == placed_in else -40.0 for i in range(len(QUADRANTS))]
    model = tmp_path / "mer.json"
    model.write_text(json.dumps(document))
    assert cli.main([*args, "--model", str(model)]) == 0
    assert json.loads(capsys.readouterr().out)["updated"] == 1
    valence, arousal, confidence = db.execute("SELECT valence, arousal, va_confidence FROM tracks").fetchone()
    assert valence == pytest.approx(math.copysign(1, placed[0]), abs=1e-3)
    assert arousal == pytest.approx(math.copysign(1, placed[1]), abs=1e-3)
    assert confidence == pytest.approx(1.0, abs=1e-3)


def test_a_music_model_that_cannot_load_ends_the_scan_in_one_line_and_blames_no_file(
    demo_clips: dict[str, Path], config, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every file would fail the same way: the scan stops at the first with the model's own message (no
    traceback per file, no file marked unreadable), and the next scan with the model back adds them."""
    from device.music import features
    from device.music.embedding import MusicEmbedding

    music = tmp_path / "music"
    music.mkdir()
    for title in ("Sunlit Market", "Empty Station"):
        (music / f"{title}.wav").write_bytes(demo_clips[title].read_bytes())
    args = ["catalog", "scan", str(music), "--json", "--state-dir", str(config.state_dir)]
    missing = tmp_path / "music_embedding.tflite"
    monkeypatch.setattr(features, "shipped_embedding", lambda: MusicEmbedding(missing))
    assert cli.main(args) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        f"emotune: music embedding model {missing} not found; reinstall emotune or run "
        "'python -m device.training.music_embedding'"]
    monkeypatch.undo()
    assert cli.main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["added"], summary["failed"]) == (2, [])
