"""Audio analysis, the music emotion model, `emotune analyze` and `emotune catalog scan`.

Short demo pieces rendered by device.demo.music stand in for music; nothing here trains a model.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from device import cli
from device.demo.music import DEMO_PIECES, write_piece
from device.errors import ModelError
from device.music.features import (
    FEATURE_NAMES,
    count_onsets,
    estimate_key,
    extract_features,
    numba_cache_dir,
    zero_crossing_rate,
)
from device.music.mer import DEFAULT_MODEL, QUADRANT_SIGNS, MerModel, quadrant

PIECES = {p.title: p for p in DEMO_PIECES}
SECONDS = 8.0
MODE_PIECES = ("Sunlit Market", "Empty Station", "Last Letter")  # clear major / minor at this length
# Importing librosa compiles numba code; a persistent cache makes every run after the first quick.
os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir(None)))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    titles = (*MODE_PIECES, "Storm Warning")
    return {t: write_piece(PIECES[t], folder / f"{t.replace(' ', '_')}.wav", SECONDS) for t in titles}


@pytest.fixture(scope="module")
def features(clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    state = tmp_path_factory.mktemp("state")
    return {title: extract_features(clips[title], state) for title in MODE_PIECES}


def test_features_are_named_and_finite(features: dict[str, dict[str, float]]) -> None:
    for values in features.values():
        assert tuple(values) == FEATURE_NAMES
        assert all(math.isfinite(v) for v in values.values())
        assert 0 <= values["key"] <= 11 and values["mode"] in (0.0, 1.0)
        assert -60 < values["loudness"] < 0 and 40 < values["tempo"] < 250


def test_major_and_minor_pieces_are_told_apart(features: dict[str, dict[str, float]]) -> None:
    for title, values in features.items():
        assert values["mode"] == (1.0 if PIECES[title].mode == "major" else 0.0), title
    assert features["Empty Station"]["key"] == PIECES["Empty Station"].tonic
    assert features["Last Letter"]["key"] == PIECES["Last Letter"].tonic


def test_key_profiles_find_c_major_and_a_minor() -> None:
    c_major = np.zeros(12)
    c_major[[0, 4, 7]] = [3, 2, 2]
    c_major[[2, 5, 9, 11]] = 1
    assert estimate_key(c_major)[:2] == (0, 1)
    a_minor = np.zeros(12)
    a_minor[[9, 0, 4]] = [3, 2, 2]
    a_minor[[11, 2, 5, 8]] = 1
    assert estimate_key(a_minor)[:2] == (9, 0)
    assert estimate_key(np.zeros(12))[0] == -1


def test_numpy_onsets_and_zero_crossings() -> None:
    env = np.zeros(430)
    env[::43] = 1.0  # one onset every 43 frames (about 1 s)
    assert count_onsets(env) == 10
    assert count_onsets(np.ones(100)) == 0
    tone = np.sin(2 * np.pi * 441 * np.arange(22050) / 22050)
    assert zero_crossing_rate(tone)[5:-5].mean() == pytest.approx(2 * 441 / 22050, rel=0.05)


def test_shipped_model_loads_and_maps_to_the_plane(features: dict[str, dict[str, float]]) -> None:
    model = MerModel.load(DEFAULT_MODEL)
    # The features it reads, in the order audio_features computes them; the top band's contrast (a trace of
    # how the file was made) and the key index are computed but not modelled.
    assert model.feature_names == tuple(n for n in FEATURE_NAMES if n in model.feature_names)
    assert set(FEATURE_NAMES) - set(model.feature_names) == {"contrast6_mean", "contrast6_std", "key"}
    assert model.provenance["cv"]["grouped_by"] == "artist"
    for values in features.values():
        v, a, q = model.predict(values)
        assert -1 <= v <= 1 and -1 <= a <= 1 and q == quadrant(v, a)
    extreme = {name: 1e6 for name in FEATURE_NAMES}
    assert all(-1 <= x <= 1 for x in model.predict(extreme)[:2])


def test_quadrants_and_malformed_models(tmp_path: Path) -> None:
    for name, (v, a) in QUADRANT_SIGNS.items():
        assert quadrant(0.5 * v, 0.5 * a) == name
    with pytest.raises(ModelError, match="malformed"):
        MerModel.from_json({"feature_names": ["tempo"], "valence": {"mean": [0, 1]}})
    with pytest.raises(ModelError, match="rebuild"):
        MerModel.from_json({"features_version": 0})
    with pytest.raises(ModelError, match="no music emotion model"):
        MerModel.load(tmp_path / "missing.json")


def test_analyze_json(clips: dict[str, Path], config, capsys: pytest.CaptureFixture[str]) -> None:
    path = clips["Storm Warning"]
    assert cli.main(["analyze", str(path), "--json", "--state-dir", str(config.state_dir)]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["file"] == str(path)
    assert -1 <= result["valence"] <= 1 and -1 <= result["arousal"] <= 1
    assert result["quadrant"] == quadrant(result["valence"], result["arousal"])
    assert set(result["features"]) == set(FEATURE_NAMES)


def test_analyze_reports_an_unreadable_file_and_goes_on(
    clips: dict[str, Path], config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"this is not audio" * 100)
    good = clips["Last Letter"]
    code = cli.main(["analyze", str(bad), str(good), "--json", "--state-dir", str(config.state_dir)])
    captured = capsys.readouterr()
    assert code == 1
    assert [r["file"] for r in json.loads(captured.out)] == [str(good)]
    assert "broken.mp3" in captured.err and "1 of 2" in captured.err
    assert cli.main(["analyze", str(tmp_path / "nope.wav"), "--state-dir", str(config.state_dir)]) == 1
    assert "nope.wav: no such file" in capsys.readouterr().err


def test_scan_is_incremental_and_skips_corrupt_files(
    clips: dict[str, Path], config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from device.catalog import catalog_stats, search
    from device.store import open_database

    music = tmp_path / "music"
    (music / "album").mkdir(parents=True)
    first = music / "album" / "Sunlit_Market.wav"
    first.write_bytes(clips["Sunlit Market"].read_bytes())
    (music / "Empty_Station.wav").write_bytes(clips["Empty Station"].read_bytes())
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
    assert set(json.loads(db.execute("SELECT audio_features FROM tracks WHERE id = ?", [track.id]).fetchone()[0])
               ) == set(FEATURE_NAMES)

    stats = catalog_stats(db)
    assert stats["analysed"] == 2 and stats["last_scan"]["rows"] == 3 and stats["last_scan"]["skipped"] == 1

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
    (other / "Last_Letter.wav").write_bytes(clips["Last Letter"].read_bytes())
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


def test_scan_onto_an_imported_row_keeps_its_features(clips: dict[str, Path], config, tmp_path: Path) -> None:
    from device.catalog import search, upsert_track
    from device.catalog.scan import scan
    from device.store import open_database

    db = open_database(config.database_path)
    upsert_track(db, title="Storm Warning", artist="", valence=0.7, arousal=0.2, va_source="features",
                 energy=0.6, tempo=99.0, provenance="top_hits.csv")
    music = tmp_path / "music"
    music.mkdir()
    (music / "Storm Warning.wav").write_bytes(clips["Storm Warning"].read_bytes())
    summary = scan(db, music, config.state_dir)
    assert (summary.added, summary.updated) == (0, 1)
    [track] = search(db, "storm warning")
    assert track.playable
    assert (track.valence, track.va_source, track.tempo, track.energy) == (0.7, "features", 99.0, 0.6)
    row = db.execute("SELECT audio_valence, loudness FROM tracks WHERE id = ?", [track.id]).fetchone()
    assert row[0] is not None and row[1] is not None  # the device's own estimate, and loudness it lacked
    assert track.provenance == "top_hits.csv"  # where its features came from
