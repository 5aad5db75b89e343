"""A track is a recording (issue 27): songs that share a name stay apart, and the listener's housekeeping
(moving, renaming, re-tagging, copying to a new disk, a second copy in a best-of folder) keeps one track
with its history and likes, without analysing it again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from mutagen.flac import FLAC

from device.catalog.candidates import Candidates
from device.catalog.importers import import_features
from device.catalog.search import search
from device.contract.history import Outcome, end_play, recent_plays, record_feedback, start_play
from device.contract.intents import Intent
from device.filenames import local_path
from device.store import open_database
from tests.device.catalog.test_scan_accounting import scan_json, write_audio

CASES = Path(__file__).resolve().parents[3].parent / "shared" / "cases" / "audio"
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason=f"the shared cases are not here ({CASES})")


def playable(db) -> dict[int, str]:
    """Track id → the file it plays, for every track the daemon may offer."""
    ids = [int(i) for i in Candidates.from_db(db, hide_starter=True).ids]
    return {i: Path(local_path(db["tracks"].get(i)["path"])).name for i in ids}


def liked_and_played(db, track_id: int) -> int:
    play = start_play(db, track_id, emotion="sad", valence=-0.5, arousal=-0.2, intent=Intent.ENHANCE, reason="test")
    end_play(db, play, Outcome.ENDED)
    record_feedback(db, play, 1)
    return play


@needs_cases
def test_recordings_that_share_a_name_are_tracks_of_their_own(tmp_path: Path, config, capsys) -> None:
    music = tmp_path / "music"
    shutil.copytree(CASES / "a16_same_title", music)
    summary = scan_json(music, config, capsys)
    assert (summary["added"], summary["failed"]) == (4, [])
    db = open_database(config.database_path)
    offered = playable(db)
    assert sorted(offered.values()) == ["01 Intro.flac", "01 Intro.flac", "Track01.flac", "Track01.flac"]
    rows = [db["tracks"].get(i) for i in offered]
    assert len({(r["valence"], r["arousal"]) for r in rows}) == 4  # each with its own point
    intros = [r for r in rows if r["title"].lower() == "intro"]
    assert len(intros) == 2 and {r["album"] for r in intros} == {"First Light", "Second Wind"}
    # rescanned: the same four, nothing analysed again
    again = scan_json(music, config, capsys)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 4)


def tagged(path: Path, artist: str, title: str) -> None:
    tags = FLAC(path)
    tags["artist"], tags["title"] = artist, title
    tags.save()


def test_moving_renaming_and_retagging_keep_one_track_its_like_and_history(tmp_path: Path, config, capsys) -> None:
    music = tmp_path / "music"
    (music / "inbox").mkdir(parents=True)
    song = write_audio(music / "inbox" / "harbour.flac", 8.0)
    tagged(song, "The Lowland", "Morning Harbour")
    write_audio(music / "inbox" / "other.flac", 8.0, level_db=-20.0)
    assert scan_json(music, config, capsys)["added"] == 2
    db = open_database(config.database_path)
    track = next(db["tracks"].rows_where("title = 'Morning Harbour'"))
    play = liked_and_played(db, track["id"])

    (music / "albums" / "The Lowland").mkdir(parents=True)
    moved = music / "albums" / "The Lowland" / "01 Morning Harbour.flac"
    song.rename(moved)  # moved and renamed
    summary = scan_json(music, config, capsys)
    assert (summary["added"], summary["updated"], summary["removed"], summary["moved"]) == (0, 1, [], [str(song)])
    tagged(moved, "The Lowlands", "Morning Harbour")  # the artist's typo fixed, as a tagger does
    summary = scan_json(music, config, capsys)
    assert (summary["added"], summary["updated"]) == (0, 1)

    after = db["tracks"].get(track["id"])
    assert after["artist"] == "The Lowlands" and Path(local_path(after["path"])) == moved.resolve()
    assert after["analysed_at"] == track["analysed_at"]  # not analysed again
    assert (after["valence"], after["arousal"]) == (track["valence"], track["arousal"])
    assert [t.id for t in search(db, "Morning Harbour")] == [track["id"]]  # one track, found by its new name
    assert [t.id for t in search(db, "Lowlands")] == [track["id"]]
    history = recent_plays(db, 5)
    assert [(p.id, p.track_id, p.liked) for p in history] == [(play, track["id"], 1)]
    assert db["tracks"].count == 2


def test_the_same_song_in_two_folders_plays_on_when_one_copy_is_deleted(tmp_path: Path, config, capsys) -> None:
    music = tmp_path / "music"
    (music / "Album").mkdir(parents=True)
    (music / "Best Of").mkdir()
    original = write_audio(music / "Album" / "05 Lantern.flac", 8.0)
    shutil.copy2(original, music / "Best Of" / "12 Lantern.flac")
    summary = scan_json(music, config, capsys)
    assert summary["added"] + summary["updated"] == 2
    db = open_database(config.database_path)
    assert db["tracks"].count == 1  # one recording, two files
    (track_id,) = playable(db)
    original.unlink()
    summary = scan_json(music, config, capsys)
    assert (summary["removed"], summary["moved"]) == ([], [str(original)])
    assert playable(db) == {track_id: "12 Lantern.flac"}  # still offered, from the other copy
    (music / "Best Of" / "12 Lantern.flac").unlink()
    assert scan_json(music, config, capsys)["removed"] == [str(music / "Best Of" / "12 Lantern.flac")]
    assert playable(db) == {} and db["tracks"].count == 1  # gone from both: not offered; its row stays


def test_a_library_copied_to_a_new_disk_keeps_its_tracks_without_a_new_analysis(tmp_path: Path, config,
                                                                                capsys) -> None:
    old_disk, new_disk = tmp_path / "old" / "music", tmp_path / "new" / "music"
    old_disk.mkdir(parents=True)
    for n in range(3):
        write_audio(old_disk / f"song {n}.ogg", 7.0, level_db=-10.0 - 3 * n)
    scan_json(old_disk, config, capsys)
    db = open_database(config.database_path)
    before = {r["id"]: r["analysed_at"] for r in db["tracks"].rows}
    shutil.copytree(old_disk, new_disk, copy_function=shutil.copy)  # new files, new dates
    for path in new_disk.iterdir():
        os.utime(path, (1.0e9, 1.0e9))
    shutil.rmtree(old_disk)
    scan_json(old_disk.parent, config, capsys)  # the old disk's folder is empty now: its files are gone
    summary = scan_json(new_disk, config, capsys)
    assert (summary["added"], summary["updated"]) == (0, 3)
    assert {r["id"]: r["analysed_at"] for r in db["tracks"].rows} == before
    assert sorted(playable(db).values()) == ["song 0.ogg", "song 1.ogg", "song 2.ogg"]


def test_a_catalog_from_before_gets_audio_keys_and_unmerges_recordings_an_old_scan_merged(
    tmp_path: Path, config, capsys
) -> None:
    # Today's catalogs: no audio keys, and two recordings of one name were one row (the second file's
    # scan overwrote the first's point and path). The first scan after the upgrade keys the unchanged
    # files without analysing them, and the recording that had lost its row gets one of its own.
    music = tmp_path / "music"
    (music / "cd1").mkdir(parents=True)
    (music / "cd2").mkdir()
    write_audio(music / "cd1" / "Track01.flac", 8.0)
    write_audio(music / "cd2" / "Track01.flac", 8.0, level_db=-24.0)
    write_audio(music / "keep.flac", 8.0, level_db=-6.0)
    scan_json(music, config, capsys)
    db = open_database(config.database_path)
    first, second = (next(db["files"].rows_where("path LIKE ?", [f"%{cd}%"])) for cd in ("cd1", "cd2"))
    merged = first["track_id"]
    with db.conn:  # as an older emotune left them
        db.execute("UPDATE files SET audio_key = NULL")
        db.execute("UPDATE tracks SET audio_key = NULL")
        db.execute("UPDATE files SET track_id = ? WHERE path = ?", [merged, second["path"]])
        db.execute("DELETE FROM tracks WHERE id = ?", [second["track_id"]])
        db.execute("UPDATE tracks SET path = ? WHERE id = ?", [second["path"], merged])
    play = liked_and_played(db, merged)
    kept = next(db["tracks"].rows_where("title = 'keep'"))

    summary = scan_json(music, config, capsys)
    assert (summary["added"], summary["unchanged"], summary["failed"]) == (1, 2, [])
    assert sorted(playable(db).values()) == ["Track01.flac", "Track01.flac", "keep.flac"]
    assert db["tracks"].get(kept["id"])["analysed_at"] == kept["analysed_at"]  # keyed, not analysed again
    assert all(r["audio_key"] for r in db["tracks"].rows)
    assert [(p.id, p.track_id, p.liked) for p in recent_plays(db, 5)] == [(play, merged, 1)]


def test_a_spreadsheet_row_joins_its_one_recording_and_names_of_several_are_left_alone(
    tmp_path: Path, config, capsys
) -> None:
    # The table came first: its row waits for its file, and the first recording of that name joins it (its
    # features' point stays). A second recording of the same name is a row of its own, placed by its audio;
    # imported again, a row that names both fits neither for sure, and each keeps its own point.
    db = open_database(config.database_path)
    table = tmp_path / "features.csv"
    table.write_text("artist,title,valence,energy\nKestrel Vane,Intro,0.9,0.9\nKestrel Vane,Outro,0.1,0.1\n",
                     encoding="utf-8")
    import_features(db, table)
    music = tmp_path / "music"
    for album, level in (("First Light", -12.0), ("Second Wind", -30.0)):
        (music / album).mkdir(parents=True)
        path = write_audio(music / album / "01 Intro.flac", 8.0, level_db=level)
        tagged(path, "Kestrel Vane", "Intro")
        tags = FLAC(path)
        tags["album"] = album
        tags.save()
    scan_json(music, config, capsys)
    intros = list(db["tracks"].rows_where("title = 'Intro'", order_by="id"))
    assert len(intros) == 2 and all(r["path"] for r in intros)
    first, second = intros
    assert (first["valence"], first["arousal"], first["va_source"]) == (0.8, 0.8, "features")  # the table's
    assert second["va_source"] == "audio"  # its own audio's
    table.write_text("artist,title,valence,energy\nKestrel Vane,Intro,0.0,0.0\n", encoding="utf-8")
    summary = import_features(db, table)
    assert summary.ambiguous == ["Kestrel Vane – Intro"]
    assert "1 row names several recordings of the same song" in summary.describe()
    assert [(r["valence"], r["va_source"]) for r in db["tracks"].rows_where("title = 'Intro'", order_by="id")] == [
        (first["valence"], "features"), (second["valence"], "audio")]


@needs_cases
def test_the_a17_song_moved_then_retagged_is_one_track_with_its_like_and_history(tmp_path: Path, config,
                                                                                 capsys) -> None:
    music = tmp_path / "music"
    (music / "new").mkdir(parents=True)
    song = music / "new" / "morning_harbour.flac"
    shutil.copy(CASES / "a17_retag" / "morning_harbour.flac", song)
    song.chmod(0o644)
    assert scan_json(music, config, capsys)["added"] == 1
    db = open_database(config.database_path)
    (track,) = db["tracks"].rows_where("title = 'Morning Harbour'")
    assert track["artist"] == "The Lowland"
    play = liked_and_played(db, track["id"])

    (music / "The Lowlands" / "Tidewater").mkdir(parents=True)
    moved = music / "The Lowlands" / "Tidewater" / "01 Morning Harbour.flac"
    song.rename(moved)
    assert (scan_json(music, config, capsys)["added"], db["tracks"].get(track["id"])["analysed_at"]) == (
        0, track["analysed_at"])
    tagged(moved, "The Lowlands", "Morning Harbour")
    assert scan_json(music, config, capsys)["added"] == 0

    assert [t.artist for t in search(db, "Morning Harbour")] == ["The Lowlands"]  # one track, the new name
    after = db["tracks"].get(track["id"])
    assert after["analysed_at"] == track["analysed_at"] and playable(db) == {track["id"]: moved.name}
    assert [(p.id, p.track_id, p.liked) for p in recent_plays(db, 5)] == [(play, track["id"], 1)]


def test_the_same_sound_in_two_files_tagged_as_two_songs_is_two_tracks(tmp_path: Path, config, capsys) -> None:
    # Both files stay and their tags name two songs: the listener says they are two (a copy re-tagged on
    # purpose, or two releases that share a master); each is found by its own name. A copy with the same
    # names is one track (the best-of test above), and a re-tag of the only file keeps it one.
    music = tmp_path / "music"
    music.mkdir()
    first = write_audio(music / "porch.flac", 8.0)
    tagged(first, "Juno Marsh", "Porch Light")
    second = music / "harbour.flac"
    shutil.copy(first, second)
    tagged(second, "The Lowland", "Morning Harbour")
    summary = scan_json(music, config, capsys)
    assert summary["added"] == 2
    db = open_database(config.database_path)
    assert sorted(playable(db).values()) == ["harbour.flac", "porch.flac"]
    assert [t.title for t in search(db, "Porch Light")] == ["Porch Light"]
    assert [t.title for t in search(db, "Morning Harbour")] == ["Morning Harbour"]
    again = scan_json(music, config, capsys)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 2)


@needs_cases
def test_search_tells_recordings_that_share_a_name_apart(tmp_path: Path, config, capsys) -> None:
    from device import cli

    music = tmp_path / "music"
    shutil.copytree(CASES / "a16_same_title", music)
    scan_json(music, config, capsys)
    assert cli.main(["catalog", "search", "Intro", "--state-dir", str(config.state_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split(None, 1)[1] for line in lines) == [
        "Intro — Kestrel Vane  [First Light]", "Intro — Kestrel Vane  [Second Wind]"]
    assert cli.main(["catalog", "search", "Track01", "--state-dir", str(config.state_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split("  [", 1)[1] for line in lines) == [f"{music / 'untagged CD 1'}]",
                                                              f"{music / 'untagged CD 2'}]"]
