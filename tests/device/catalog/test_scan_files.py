"""`emotune catalog scan` of audio files as people have them: names that are not UTF-8, silent files, a
decoder that arrives later, headers that lie, tags behind junk, and one bad file among good ones.

The given cases are in ../shared/cases/audio (README there); they are copied into the test's own folder
to be scanned. The other files are made here, a few seconds each.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from device import cli
from device.catalog.candidates import Candidates
from device.filenames import local_path, shown
from device.music import decode
from device.store import open_database
from tests.device.music.test_decode import encode, tone

CASES = Path(__file__).resolve().parents[4] / "shared" / "cases" / "audio"  # ../shared beside the checkout
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases/audio is not beside the checkout")
LATIN1_NAME = b"caf\xe9 au lait.flac"  # "café au lait" as a Latin-1 system wrote it: not UTF-8


def scan_json(folder: Path, config, capsys: pytest.CaptureFixture[str]) -> dict:
    assert cli.main(["catalog", "scan", str(folder), "--json", "--state-dir", str(config.state_dir)]) == 0
    return json.loads(capsys.readouterr().out)


def row(db, title: str) -> dict:
    rows = list(db.table("tracks").rows_where("title = ?", [title]))
    assert len(rows) == 1, f"{title}: {len(rows)} rows"
    return rows[0]


@pytest.fixture
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    folder.mkdir()
    return folder


def test_a_name_that_is_not_utf8_is_scanned_with_the_rest(
    music: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = music / os.fsdecode(LATIN1_NAME)  # "caf\udce9 au lait.flac": Python's str for those bytes
    sf.write(os.fsencode(odd), tone(6.0), 22050, format="FLAC")  # soundfile takes the bytes as they are
    sf.write(music / "zz_normal.flac", tone(6.0, -15), 22050)
    summary = scan_json(music, config, capsys)  # the scan ended in a traceback here, adding nothing
    assert (summary["files"], summary["added"], summary["failed"]) == (2, 2, [])
    db = open_database(config.database_path)
    cafe = row(db, "café au lait")  # the title from the name, its bytes read as Windows-1252
    assert cafe["path"].startswith("file://") and cafe["path"].endswith("/caf%E9%20au%20lait.flac")
    assert os.fsencode(local_path(cafe["path"])) == os.fsencode(odd.resolve())  # the real bytes, for VLC
    assert cafe["valence"] is not None and cafe["duration_s"] == 6.0
    assert row(db, "zz normal")["path"] == str((music / "zz_normal.flac").resolve())

    again = scan_json(music, config, capsys)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 2)
    odd.unlink()
    gone = scan_json(music, config, capsys)
    assert gone["removed"] == [shown(odd.resolve())]
    assert gone["removed"][0].endswith("caf\\xe9 au lait.flac")  # as `ls` would let you find it


def test_analyze_reads_a_name_that_is_not_utf8(tmp_path: Path, config, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / os.fsdecode(LATIN1_NAME)
    sf.write(os.fsencode(odd), tone(4.0), 22050, format="FLAC")
    assert cli.main(["analyze", str(odd), "--json", "--state-dir", str(config.state_dir)]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["file"].endswith("caf\\xe9 au lait.flac") and result["silent"] is False
    assert result["duration_s"] == 4.0 and -1 <= result["valence"] <= 1
    assert cli.main(["analyze", str(odd), "--state-dir", str(config.state_dir)]) == 0
    assert "caf\\xe9 au lait.flac: sounds " in capsys.readouterr().out


def test_one_file_that_breaks_the_scan_is_only_that_file(
    music: Path, config, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from device.catalog import scan as scanning

    sf.write(music / "a.flac", tone(6.0), 22050)
    sf.write(music / "b.flac", tone(6.0, -15), 22050)
    real = scanning.read_tags

    def read_tags(path: Path) -> dict:
        if path.name == "a.flac":
            raise RuntimeError("a tag no one expected")
        return real(path)

    monkeypatch.setattr(scanning, "read_tags", read_tags)
    summary = scan_json(music, config, capsys)
    assert summary["added"] == 1
    assert summary["failed"] == [{"file": str(music / "a.flac"),
                                  "error": "unexpected error: RuntimeError: a tag no one expected"}]


# ---- silence ---------------------------------------------------------------------------------------------


def test_a_silent_file_is_reported_not_placed_and_never_recommended(
    music: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    from device.catalog.tracks import has_listener_music

    sf.write(music / "Blank_Side.wav", np.zeros(22050 * 40, dtype=np.float32), 22050)
    summary = scan_json(music, config, capsys)
    assert summary["silent"] == [str(music / "Blank_Side.wav")] and summary["added"] == 0
    db = open_database(config.database_path)
    blank = row(db, "Blank Side")
    assert (blank["valence"], blank["arousal"], blank["va_source"], blank["duration_s"]) == (None, None, None, 40.0)
    assert len(Candidates.from_db(db)) == 0 and not has_listener_music(db)
    # nor counted or shown as playable: stats and search say what the daemon can play
    from device.catalog.search import search
    from device.catalog.stats import catalog_stats

    assert catalog_stats(db)["playable"] == 0
    assert [t.playable for t in search(db, "blank side")] == [False]

    assert cli.main(["catalog", "scan", str(music), "--state-dir", str(config.state_dir)]) == 0
    out = capsys.readouterr().out  # unchanged, and still said to be silent
    assert ": 1 files: 0 added, 0 updated, 0 unchanged, 1 skipped; 0 removed" in out
    assert f"  silent (no sound in it: not placed, never played): 1: {music / 'Blank_Side.wav'}" in out


def test_a_file_that_turns_silent_leaves_the_music(music: Path, config, capsys: pytest.CaptureFixture[str]) -> None:
    """Music replaced by silence under the same name (a bad re-rip): the row that had it stops playing
    it; an imported song keeps its own point but does not take a silent file."""
    from device.catalog.tracks import upsert_track

    db = open_database(config.database_path)
    upsert_track(db, title="Storm Warning", artist="", valence=0.7, arousal=0.2, va_source="features")
    song = music / "Paper_Moon.wav"
    sf.write(song, tone(5.0), 22050)
    sf.write(music / "Storm Warning.wav", np.zeros(22050 * 5, dtype=np.float32), 22050)
    scan_json(music, config, capsys)
    assert row(db, "Paper Moon")["valence"] is not None
    storm = row(db, "Storm Warning")
    assert (storm["valence"], storm["path"]) == (0.7, None)

    sf.write(song, np.zeros(22050 * 6, dtype=np.float32), 22050)
    summary = scan_json(music, config, capsys)
    assert sorted(summary["silent"]) == [str(song), str(music / "Storm Warning.wav")]
    assert row(db, "Paper Moon")["valence"] is None
    assert len(Candidates.from_db(db)) == 0


@needs_cases
def test_a05_cases_scanned(music: Path, config, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("silence_40s.wav", "long_45min_music_then_silence.ogg"):
        shutil.copy(CASES / "a05_silence" / name, music / name)
    summary = scan_json(music, config, capsys)
    assert summary["silent"] == [str(music / "silence_40s.wav")] and summary["added"] == 1
    db = open_database(config.database_path)
    long = row(db, "long 45min music then silence")
    assert long["valence"] is not None and round(long["duration_s"]) == 2700
    assert json.loads(long["audio_features"])["loudness"] > -40  # heard from its music
    assert [int(i) for i in Candidates.from_db(db).ids] == [long["id"]]


# ---- decoders --------------------------------------------------------------------------------------------


def test_a_file_that_failed_is_tried_again_when_the_decoders_change(
    music: Path, config, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    encode(music / "Harbour.m4a", tone(6.0), 22050, "aac", "mp4")
    decode.decoder_set.cache_clear()
    with monkeypatch.context() as without_ffmpeg:
        without_ffmpeg.setattr(decode, "_pyav", lambda: None)
        first = scan_json(music, config, capsys)
        assert [f["error"] for f in first["failed"]] == [
            "cannot read audio (not a recognised audio format, or the file is corrupt; FFmpeg's decoders are not "
            "installed (pip install av))"]
        again = scan_json(music, config, capsys)  # the same decoders: reported, not tried again
        assert len(again["failed"]) == 1 and again["unchanged"] == 0
        db = open_database(config.database_path)
        assert db.execute("SELECT decoders FROM files").fetchone()[0] == decode.decoder_set()
        decode.decoder_set.cache_clear()
    later = scan_json(music, config, capsys)  # FFmpeg installed since: tried again, and read
    decode.decoder_set.cache_clear()
    assert (later["added"], later["failed"]) == (1, [])
    assert row(db, "Harbour")["valence"] is not None


@pytest.mark.slow  # three real files analysed, one of them twice
@needs_cases
def test_a01_a07_a10_scanned(music: Path, config, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(CASES / "a01_m4a" / "aac_song.m4a", music)
    shutil.copy(CASES / "a07_wav_header" / "piped_header.wav", music)
    shutil.copy(CASES / "a10_good" / "good_song.flac", music)
    summary = scan_json(music, config, capsys)
    assert (summary["added"], summary["failed"], summary["silent"]) == (3, [], [])
    db = open_database(config.database_path)
    m4a = row(db, "Harbour Lights")
    assert m4a["artist"] == "Elin Moss" and m4a["valence"] is not None and m4a["duration_s"] == 19.99
    assert row(db, "piped header")["duration_s"] == 45.0  # was 268,435 s: the header's 0xFFFFFFFF
    good = row(db, "Paper Moon")  # the control, as before: placed where the music model hears it
    from device.music.features import analyse_parts
    from device.music.mer import load_model

    heard = load_model().place(analyse_parts(music / "good_song.flac").parts)
    assert (good["artist"], good["duration_s"]) == ("Kit Arden", 12.0)
    assert (good["valence"], good["arousal"]) == (round(heard.valence, 4), round(heard.arousal, 4))
    assert good["va_confidence"] == round(heard.confidence, 4)


# ---- tags ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tagged_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from mutagen.easyid3 import EasyID3

    path = tmp_path_factory.mktemp("tags") / "tagged.mp3"
    sf.write(path, tone(3.0), 22050, format="MP3")
    tags = EasyID3()
    tags.update({"title": "Glass River", "artist": "Ana Lume", "album": "Shallows"})
    tags.save(path)
    return path.read_bytes()


def _id3_end(raw: bytes) -> int:
    size = raw[6:10]
    return 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])


@pytest.mark.parametrize("where", ["before the tag", "between the tag and the audio"])
def test_tags_are_read_with_junk_in_front(tmp_path: Path, tagged_mp3: bytes, where: str) -> None:
    from device.catalog.scan import read_tags

    # 2 MB: mutagen gives up looking for the audio after the tag; before the tag, a broken download's worth
    junk = np.random.default_rng(3).integers(0, 256, 2_000_000, dtype=np.uint8).tobytes()
    path = tmp_path / "Track 01.mp3"
    end = _id3_end(tagged_mp3)
    path.write_bytes(junk + tagged_mp3 if where == "before the tag" else tagged_mp3[:end] + junk + tagged_mp3[end:])
    tags = read_tags(path)
    assert (tags["title"], tags["artist"], tags["album"]) == ("Glass River", "Ana Lume", "Shallows")


def test_no_tags_the_title_is_the_file_name(tmp_path: Path) -> None:
    from device.catalog.scan import read_tags

    path = tmp_path / "Night_Ferry.mp3"
    path.write_bytes(np.random.default_rng(4).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    assert read_tags(path)["title"] == "Night Ferry"
    odd = tmp_path / os.fsdecode(b"Gr\xfcn_Tee.ogg")
    odd.write_bytes(b"")
    assert read_tags(odd)["title"] == "Grün Tee"


# ---- the catalogs made before ----------------------------------------------------------------------------


def test_migration_retries_what_this_version_reads_differently(config) -> None:
    """Schema 7: failures from before (no decoder set) are tried again, and files given a point from
    silence, or a duration from a lying header, are analysed again at the next scan."""
    import sqlite3

    import sqlite_utils

    from device import store

    config.database_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(str(config.database_path), isolation_level=None)
    db = sqlite_utils.Database(conn)
    for migration in store.MIGRATIONS[:6]:
        migration(db)
    conn.execute("PRAGMA user_version = 6")
    for track_id, loudness, duration in ((1, -100.0, 40.0), (2, -20.0, 268435.46), (3, -20.0, 200.0)):
        db.table("tracks").insert({"id": track_id, "title": f"t{track_id}", "match_key": f"|t{track_id}",
                                   "audio_features": json.dumps({"loudness": loudness}), "duration_s": duration})
        db.table("files").insert({"path": f"/m/{track_id}.wav", "size": 10, "mtime": 1.0, "track_id": track_id})
    db.table("files").insert({"path": "/m/song.m4a", "size": 10, "mtime": 1.0, "error": "no decoder"})
    conn.close()
    db = open_database(config.database_path)
    sizes = dict(db.execute("SELECT path, size FROM files").fetchall())
    assert sizes == {"/m/1.wav": None, "/m/2.wav": None, "/m/3.wav": 10, "/m/song.m4a": 10}
    assert db.execute("SELECT decoders FROM files WHERE path = '/m/song.m4a'").fetchone()[0] is None


def test_analyze_says_a_silent_file_is_silent(tmp_path: Path, config, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Blank.wav"
    sf.write(path, np.zeros(8000 * 40, dtype=np.float32), 8000)
    assert cli.main(["analyze", str(path), "--json", "--state-dir", str(config.state_dir)]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result == {"file": str(path), "silent": True, "valence": None, "arousal": None, "quadrant": None,
                      "mood_tags": [], "confidence": None, "duration_s": 40.0, "features": None}
    assert cli.main(["analyze", str(path), "--state-dir", str(config.state_dir)]) == 0
    assert capsys.readouterr().out == (f"{path}: silent (40 s with no sound louder than -50 dBFS): not placed on "
                                       "the plane\n")


@pytest.mark.slow
def test_a_scan_as_a_user_runs_it_with_a_name_that_is_not_utf8(tmp_path: Path, emotune) -> None:
    """A separate process, its output to a pipe: no traceback, the folder scanned."""
    music = tmp_path / "music"
    music.mkdir()
    sf.write(os.fsencode(music / os.fsdecode(LATIN1_NAME)), tone(6.0), 22050, format="FLAC")
    sf.write(music / "other.flac", tone(6.0, -15), 22050)
    done = emotune("catalog", "scan", str(music), state_dir=tmp_path / "state")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "2 files: 2 added" in done.stdout
