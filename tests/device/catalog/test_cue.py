"""Cue sheets become tracks (issue 27, device.catalog.cue): an album ripped as one file plus a `.cue` sheet is
one track per song, each with its title and performer, its own point, and its own start and end in the file.

The case is ../shared/cases/audio/a15_cue (README there: three songs of 40 s, quiet, fast, quiet), copied
into the test's own folder; the other layouts (a sheet embedded as a CUESHEET Vorbis comment, a sheet in
Windows-1252 whose FILE line names the file in other letter case) are made here.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import mutagen.flac
import numpy as np
import pytest
import soundfile as sf
import sqlite_utils

from device import store
from device.catalog import cue, recordings
from device.catalog import scan as scanning
from device.catalog.candidates import Candidates
from device.catalog.search import search
from device.catalog.tracks import get_track, write_track
from device.contract.history import Outcome, end_play, recent_plays, record_feedback, start_play
from device.contract.intents import Intent
from device.music.mer import DEFAULT_MODEL, load_model
from tests.device.catalog.test_scan_accounting import CASES, needs_cases
from tests.device.music.test_decode import tone

RATE = 44100
A15 = "Orla Finch - Lighthouse Sessions"  # the case: its sheet and its audio below
A15_SHEET, A15_FLAC = "Orla Finch - Lighthouse Sessions.cue", "Orla Finch - Lighthouse Sessions.flac"

SHEET = """REM GENRE Folk
REM COMMENT "made by a test"
PERFORMER "Album Artist"
TITLE "Made Album"
FILE "{file}" WAVE
  TRACK 01 AUDIO
    TITLE "{first}"
    INDEX 00 00:00:00
    INDEX 01 00:00:00
  TRACK 02 AUDIO
    TITLE "{second}"
    PERFORMER "Guest"
    INDEX 01 00:08:00
  TRACK 03 AUDIO
    TITLE "Third's \\ Song"
    INDEX 01 00:16:37
"""


def album(path: Path) -> Path:
    """24 s in three songs of about 8 s: a low chord, a loud one, a low one."""
    audio = np.concatenate([tone(8.0, -30.0, RATE), tone(8.0, -6.0, RATE), tone(8.0, -30.0, RATE)])
    sf.write(path, audio, RATE)
    return path


def cue_tracks(db) -> list[dict]:
    return [dict(row) for row in db.query("SELECT * FROM tracks WHERE start_s IS NOT NULL ORDER BY start_s")]


def playable_ids(db) -> set[int]:
    return {int(i) for i in Candidates.from_db(db, hide_starter=True).ids}


# ---- parsing -------------------------------------------------------------------------------------------


def test_a_sheet_gives_each_track_its_title_performer_start_and_end() -> None:
    sheet = cue.parse(SHEET.format(file="a.flac", first="One", second="Two"))
    assert (sheet.title, sheet.performer, sheet.files) == ("Made Album", "Album Artist", ["a.flac"])
    assert [(t.number, t.title, t.performer) for t in sheet.tracks] == [
        (1, "One", "Album Artist"), (2, "Two", "Guest"), (3, "Third's \\ Song", "Album Artist")]
    assert [(t.start_s, t.end_s) for t in sheet.tracks] == [(0.0, 8.0), (8.0, 16 + 37 / 75), (16 + 37 / 75, None)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_a_sheet_is_read_in_the_encodings_rippers_write(encoding: str, tmp_path: Path) -> None:
    text = SHEET.format(file="Café.flac", first="Señora Olé", second="Über den Fluß")
    path = tmp_path / "sheet.cue"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    sheet = cue.read_sheet(path)
    assert sheet is not None and sheet.files == ["Café.flac"]
    assert [t.title for t in sheet.tracks][:2] == ["Señora Olé", "Über den Fluß"]


def test_a_sheet_of_one_track_or_of_no_file_splits_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.flac").write_bytes(b"")
    (tmp_path / "one.cue").write_text('FILE "a.flac" WAVE\n TRACK 01 AUDIO\n  INDEX 01 00:00:00\n')
    (tmp_path / "none.cue").write_text("REM just a remark\n")
    assert cue.sheets_beside([tmp_path / "one.cue", tmp_path / "none.cue"], {tmp_path / "a.flac"}) == {}


# ---- the a15 case --------------------------------------------------------------------------------------


@needs_cases
def test_a15_an_album_with_its_sheet_is_three_tracks_each_with_its_title_point_and_part(
    db, tmp_path: Path
) -> None:
    music = tmp_path / "music"
    shutil.copytree(CASES / "a15_cue", music)
    summary = scanning.scan(db, music)  # was: one 120 s "song" named after the file, one averaged point
    assert (summary.files, summary.added, summary.not_audio) == (1, 1, [])
    assert summary.cue_sheets == [(str(music / A15_SHEET), A15_FLAC)]
    assert summary.seen == 2 and "cue sheet of" in summary.describe()
    tracks = cue_tracks(db)
    assert [(t["title"], t["artist"], t["album"]) for t in tracks] == [
        ("Harbour Wind", "Orla Finch", "Lighthouse Sessions"),
        ("Run for the Ferry", "Orla Finch", "Lighthouse Sessions"),
        ("Last Lamp", "Orla Finch", "Lighthouse Sessions")]
    assert [(t["start_s"], t["end_s"]) for t in tracks[:2]] == [(0.0, 40.0), (40.0, 80.0)]
    assert tracks[2]["start_s"] == 80.0 and tracks[2]["end_s"] == pytest.approx(120.0, abs=0.1)
    assert [t["duration_s"] for t in tracks] == pytest.approx([40.0, 40.0, 40.0], abs=0.1)
    assert all(t["path"] == str((music / A15_FLAC).resolve()) for t in tracks)
    assert db.execute("SELECT count(*) FROM tracks").fetchone()[0] == 3  # no whole-file "song"
    quiet, fast, last = tracks
    assert fast["arousal"] > quiet["arousal"] + 0.1 and fast["arousal"] > last["arousal"] + 0.1  # each its own point
    assert playable_ids(db) == {t["id"] for t in tracks}
    for t in tracks:
        assert [found.id for found in search(db, t["title"])][:1] == [t["id"]]
        track = get_track(db, t["id"])
        assert track is not None and (track.start_s, track.end_s) == (t["start_s"], t["end_s"])

    again = scanning.scan(db, music)  # a rescan changes nothing
    assert (again.unchanged, again.added, again.updated, len(again.cue_sheets)) == (1, 0, 0, 1)
    assert cue_tracks(db) == tracks


@needs_cases
def test_a15_a_moved_album_keeps_its_tracks_and_its_embedded_sheet_serves_without_the_cue_file(
    db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    music = tmp_path / "music"
    shutil.copytree(CASES / "a15_cue", music / "one")
    scanning.scan(db, music)
    before = {t["title"]: t["id"] for t in cue_tracks(db)}
    (music / "one").rename(music / "two")

    def no_analysis(*_args, **_kwargs):
        raise AssertionError("analysed again")

    with monkeypatch.context() as patch:
        patch.setattr(scanning, "analyse_parts", no_analysis)
        moved = scanning.scan(db, music)
    assert (moved.updated, moved.added) == (1, 0)
    assert {t["title"]: t["id"] for t in cue_tracks(db)} == before
    assert all("/two/" in t["path"] for t in cue_tracks(db))

    (music / "two" / A15_SHEET).unlink()  # the FLAC holds the same sheet as a CUESHEET comment
    with monkeypatch.context() as patch:
        patch.setattr(scanning, "analyse_parts", no_analysis)
        embedded = scanning.scan(db, music)
    assert (embedded.cue_sheets, embedded.updated) == ([], 1)
    assert {t["title"]: t["id"] for t in cue_tracks(db)} == before and len(playable_ids(db)) == 3


# ---- other layouts -------------------------------------------------------------------------------------


def test_a_sheet_embedded_as_a_cuesheet_vorbis_comment_splits_the_flac(db, tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    flac = album(music / "rip.flac")
    tags = mutagen.flac.FLAC(flac)
    tags["CUESHEET"] = SHEET.format(file="CDImage.wav", first="Low One", second="Loud Two")
    tags["TITLE"] = "CD Image"
    tags.save()
    summary = scanning.scan(db, music)
    assert (summary.added, summary.cue_sheets, summary.not_audio) == (1, [], []), summary.describe()
    tracks = cue_tracks(db)
    assert [(t["title"], t["artist"]) for t in tracks] == [
        ("Low One", "Album Artist"), ("Loud Two", "Guest"), ("Third's \\ Song", "Album Artist")]
    assert [t["start_s"] for t in tracks] == [0.0, 8.0, pytest.approx(16.493, abs=0.001)]
    assert tracks[2]["end_s"] == pytest.approx(24.0, abs=0.05)
    assert tracks[1]["arousal"] > tracks[0]["arousal"]
    assert db.execute("SELECT count(*) FROM tracks").fetchone()[0] == 3
    assert scanning.scan(db, music).unchanged == 1


def flac_cuesheet_block(starts_s: list[float], end_s: float) -> mutagen.flac.CueSheet:
    """A binary CUESHEET metadata block as a CD ripper writes it (track offsets in samples, INDEX 00 and 01,
    lead-out track 170)."""
    block = mutagen.flac.CueSheet(None)
    block.media_catalog_number, block.lead_in_samples, block.compact_disc = b"", 88200, True
    block.tracks = []
    for number, start in enumerate(starts_s, 1):
        track = mutagen.flac.CueSheetTrack(number, round(start * RATE))
        track.indexes = [mutagen.flac.CueSheetTrackIndex(1, 0)]
        block.tracks.append(track)
    block.tracks.append(mutagen.flac.CueSheetTrack(170, round(end_s * RATE)))
    return block


@pytest.mark.parametrize("tagged", [True, False])
def test_a_flac_with_a_binary_cuesheet_block_is_split_into_its_tracks(db, tmp_path: Path, tagged: bool) -> None:
    """FLAC's own CUESHEET metadata block (`flac --cuesheet=`, CD rippers) has offsets and no titles: the
    songs are "Track 01"… of the file's album, each with its part and its own point."""
    music = tmp_path / "music"
    music.mkdir()
    flac = album(music / "image.flac")
    audio = mutagen.flac.FLAC(flac)
    audio.metadata_blocks.append(flac_cuesheet_block([0.0, 8.0, 16.0], 24.0))
    if tagged:
        audio["ALBUM"], audio["ARTIST"] = "Harbour Lights", "Orla Finch"
    audio.save()
    summary = scanning.scan(db, music)
    assert (summary.added, summary.not_audio) == (1, []), summary.describe()
    tracks = cue_tracks(db)
    assert [t["title"] for t in tracks] == ["Track 01", "Track 02", "Track 03"]
    assert [t["start_s"] for t in tracks] == [0.0, 8.0, 16.0]
    assert tracks[2]["end_s"] == pytest.approx(24.0, abs=0.05)
    assert tracks[1]["arousal"] > tracks[0]["arousal"]  # the loud song heard as the loud one
    if tagged:
        assert {(t["artist"], t["album"]) for t in tracks} == {("Orla Finch", "Harbour Lights")}
        assert [t.title for t in search(db, "harbour lights track 02")][:1] == ["Track 02"]


def test_a_cp1252_sheet_naming_the_file_in_other_case_gives_accented_titles(db, tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    album(music / "concert.flac")
    sheet = SHEET.format(file="CONCERT.FLAC", first="Chanson d'été", second="Señor Müller")
    (music / "Live in Paris.cue").write_bytes(sheet.replace("\n", "\r\n").encode("cp1252"))
    (music / "playlist.cue").write_text('FILE "elsewhere.flac" WAVE\n')  # a sheet of no file here
    summary = scanning.scan(db, music)
    assert summary.cue_sheets == [(str(music / "Live in Paris.cue"), "concert.flac")]
    assert summary.not_audio == [str(music / "playlist.cue")]
    assert [t["title"] for t in cue_tracks(db)] == ["Chanson d'été", "Señor Müller", "Third's \\ Song"]
    assert [found.title for found in search(db, "ete")][:1] == ["Chanson d'été"]


def test_a_sheet_added_to_a_scanned_file_splits_it_and_one_taken_away_makes_it_one_song_again(
    db, tmp_path: Path
) -> None:
    music = tmp_path / "music"
    music.mkdir()
    album(music / "album.flac")
    scanning.scan(db, music)
    (whole,) = db.query("SELECT id FROM tracks")
    (music / "album.cue").write_text(SHEET.format(file="album.flac", first="A", second="B"))
    summary = scanning.scan(db, music)
    assert summary.updated + summary.added == 1 and len(summary.cue_sheets) == 1
    assert playable_ids(db) == {t["id"] for t in cue_tracks(db)} and whole["id"] not in playable_ids(db)

    (music / "album.cue").unlink()
    again = scanning.scan(db, music)
    assert again.updated == 1 and again.not_audio == []
    assert playable_ids(db) == {whole["id"]}  # the same recording as before: its row, not analysed again
    assert all(t["path"] is None for t in cue_tracks(db))  # the songs are offered no more; their rows stay


def test_a_sheet_whose_times_are_corrected_keeps_its_tracks_with_their_new_parts(db, tmp_path: Path) -> None:
    music = tmp_path / "music"
    music.mkdir()
    album(music / "album.flac")
    sheet = SHEET.format(file="album.flac", first="A", second="B")
    (music / "album.cue").write_text(sheet)
    scanning.scan(db, music)
    ids = [t["id"] for t in cue_tracks(db)]
    (music / "album.cue").write_text(sheet.replace("INDEX 01 00:08:00", "INDEX 01 00:09:00"))
    summary = scanning.scan(db, music)
    assert summary.updated == 1 and summary.unchanged == 0
    tracks = cue_tracks(db)
    assert [t["id"] for t in tracks] == ids  # their history stays with them
    assert [(t["start_s"], t["end_s"]) for t in tracks[:2]] == [(0.0, 9.0), (9.0, pytest.approx(16.493, abs=0.001))]
    assert tracks[1]["duration_s"] == pytest.approx(7.49, abs=0.02)


@needs_cases
def test_a15_the_same_album_in_two_folders_stays_playable_when_one_is_deleted(db, tmp_path: Path) -> None:
    music = tmp_path / "music"
    shutil.copytree(CASES / "a15_cue", music / "albums")
    shutil.copytree(CASES / "a15_cue", music / "best of")
    scanning.scan(db, music)
    tracks = cue_tracks(db)
    assert len(tracks) == 3 and playable_ids(db) == {t["id"] for t in tracks}  # one recording, two files
    shutil.rmtree(music / Path(tracks[0]["path"]).parent.name)
    summary = scanning.scan(db, music)
    assert (len(summary.removed), len(summary.moved)) == (0, 1)  # its songs play on from the other folder
    assert playable_ids(db) == {t["id"] for t in tracks}
    assert {Path(t["path"]).exists() for t in cue_tracks(db)} == {True}


@needs_cases
@pytest.mark.parametrize("sheet", ["beside", "embedded"])
def test_a15_an_album_scanned_as_one_song_before_schema_15_is_split_keeping_its_row_plays_and_like(
    sheet: str, tmp_path: Path
) -> None:
    music = tmp_path / "music"
    shutil.copytree(CASES / "a15_cue", music)
    if sheet == "embedded":
        (music / A15_SHEET).unlink()
    flac = music / A15_FLAC
    path = tmp_path / "emotune.db"
    conn = sqlite3.connect(path)
    old = sqlite_utils.Database(conn)
    for step in store.MIGRATIONS[:14]:
        step(old)
    conn.execute("PRAGMA user_version = 14")
    version = load_model(DEFAULT_MODEL).version
    key, audio = str(flac.resolve()), recordings.audio_key(flac)
    whole = write_track(old, None, title=A15, artist="Orla Finch", duration_s=120.0, path=key, valence=0.1,
                        arousal=0.0, va_source="audio", audio_features="{}", audio_key=audio, analysed_with=version)
    old["files"].insert({"path": key, "size": flac.stat().st_size, "mtime": flac.stat().st_mtime, "track_id": whole,
                         "audio_key": audio, "analysed_with": version, "silent": 0, "scanned_at": 0.0})
    play = start_play(old, whole, emotion="sad", valence=-0.4, arousal=-0.1, intent=Intent.ENHANCE,
                      reason="test")
    end_play(old, play, Outcome.ENDED)
    record_feedback(old, play, 1)
    conn.commit()
    conn.close()

    db = store.open_database(path)
    summary = scanning.scan(db, music)
    assert summary.updated + summary.added == 1 and summary.unchanged == 0
    assert [t["title"] for t in cue_tracks(db)] == ["Harbour Wind", "Run for the Ferry", "Last Lamp"]
    assert playable_ids(db) == {t["id"] for t in cue_tracks(db)}  # the long "song" is offered no more
    assert db["tracks"].get(whole)["path"] is None
    assert [p.track_id for p in recent_plays(db, limit=5)] == [whole]  # its play and like stay with it
    assert db.execute("SELECT track_id FROM feedback WHERE history_id = ?", [play]).fetchone()[0] == whole
    assert scanning.scan(db, music).unchanged == 1
