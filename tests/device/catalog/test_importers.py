"""Importing song tables and mood tags into the catalog (device.catalog.importers)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from device.catalog.importers import TAG_POINTS, import_features, import_tags
from device.catalog.importers import features as feature_import
from device.catalog.importers import rows as import_rows
from device.catalog.search import find_seed
from device.catalog.stats import catalog_stats
from device.catalog.tracks import upsert_track
from device.errors import CatalogError

SHARED_MUSIC = Path(__file__).resolve().parents[4] / "shared" / "data" / "music"  # ../shared beside the checkout

DATA_MOODS_HEADER = ("name,album,artist,id,release_date,popularity,length,danceability,acousticness,energy,"
                     "instrumentalness,liveness,valence,loudness,speechiness,tempo,key,time_signature,mood,genre")
TOP_HITS_HEADER = ("artist,song,duration_ms,explicit,year,popularity,danceability,energy,key,loudness,mode,"
                   "speechiness,acousticness,instrumentalness,liveness,valence,tempo,genre")


def write(path: Path, text: str, *, gz: bool = False) -> Path:
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    ignore = {"added_at", "updated_at"}
    return [{k: v for k, v in r.items() if k not in ignore} for r in db["tracks"].rows_where(order_by="id")]


def track(db: sqlite_utils.Database, title: str) -> dict[str, Any]:
    [row] = list(db["tracks"].rows_where("title = ?", [title]))
    return dict(row)


# ---- layouts ------------------------------------------------------------------------------------------


def test_data_moods_layout_gives_features_point_and_tags(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = write(tmp_path / "data_moods.csv", DATA_MOODS_HEADER + "\n"
                  "1999,1999,Prince,2H7P,1982,68,379266,0.866,0.137,0.73,0,0.0843,0.625,-8.201,0.0767,118.523,5,4,"
                  "Happy,funk\n"
                  "23,23,Blonde Redhead,4HIw,2007,43,318800,0.381,0.0189,0.832,0.196,0.153,0.166,-5.069,0.0492,"
                  "120.255,8,4,Sad,dream pop\n")
    summary = import_features(db, table)
    assert (summary.added, summary.updated, summary.skipped) == (2, 0, [])
    prince = track(db, "1999")
    assert prince["artist"] == "Prince" and prince["album"] == "1999"
    assert prince["va_source"] == "features" and prince["provenance"] == "data_moods.csv"
    assert prince["valence"] == pytest.approx(2 * 0.625 - 1) and prince["arousal"] == pytest.approx(2 * 0.73 - 1)
    assert prince["feature_valence"] == 0.625 and prince["energy"] == 0.73 and prince["key"] == 5
    assert prince["duration_s"] == pytest.approx(379.266) and prince["time_signature"] == 4
    assert json.loads(prince["tags"]) == ["happy"] and prince["genre"] == "funk"


def test_top_hits_layout_with_quoted_genre(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = write(tmp_path / "songs_normalize.csv", TOP_HITS_HEADER + "\n"
                  "Britney Spears,Oops!...I Did It Again,211160,FALSE,2000,77,0.751,0.834,1,-5.444,0,0.0437,0.3,"
                  "1.77E-05,0.355,0.894,95.053,pop\n"
                  'blink-182,All The Small Things,167066,FALSE,1999,79,0.434,0.897,0,-4.918,1,0.0488,0.0103,0,'
                  '0.612,0.684,148.726,"rock, pop"\n')
    summary = import_features(db, table)
    assert summary.added == 2 and not summary.skipped
    blink = track(db, "All The Small Things")
    assert blink["genre"] == "rock, pop" and blink["mode"] == 1 and blink["instrumentalness"] == 0
    assert track(db, "Oops!...I Did It Again")["instrumentalness"] == pytest.approx(1.77e-05)


def test_musicoset_tables_join_by_song_id(db: sqlite_utils.Database, tmp_path: Path) -> None:
    (tmp_path / "musicoset_metadata").mkdir()
    (tmp_path / "musicoset_songfeatures").mkdir()
    songs = write(tmp_path / "musicoset_metadata" / "songs.csv",
                  "song_id\tsong_name\tbillboard\tartists\tpopularity\texplicit\tsong_type\n"
                  "3e9H\tthank u, next\t('Thank U, Next', 'Ariana Grande')\t{'66CX': 'Ariana Grande'}\t86\tTrue\tSolo\n"
                  "5p7u\tWithout Me\t('Without Me', 'Halsey')\t{'26VF': 'Halsey', '1x': 'Guest'}\t87\tTrue\tSolo\n")
    features = write(tmp_path / "musicoset_songfeatures" / "acoustic_features.csv",
                     "song_id\tduration_ms\tkey\tmode\ttime_signature\tacousticness\tdanceability\tenergy\t"
                     "instrumentalness\tliveness\tloudness\tspeechiness\tvalence\ttempo\n"
                     "3e9H\t207320\t1\t1\t4\t0.229\t0.717\t0.653\t0\t0.101\t-5.634\t0.0658\t0.412\t106.966\n"
                     "5p7u\t201661\t6\t1\t4\t0.297\t0.752\t0.488\t9.11e-06\t0.0936\t-7.05\t0.0705\t0.533\t136.041\n")
    summary = import_features(db, features)
    assert summary.layout.startswith("MusicOSet") and summary.added == 2 and not summary.skipped
    halsey = track(db, "Without Me")
    assert halsey["artist"] == "Halsey, Guest" and halsey["popularity"] == 87 and halsey["tempo"] == 136.041
    assert halsey["valence"] == pytest.approx(0.066) and halsey["va_source"] == "features"
    # the names table joins the other way round to the same rows: nothing changes
    again = import_features(db, songs)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_deezer_scores_are_scaled_onto_the_plane(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = write(tmp_path / "train.csv", "dzr_sng_id,MSD_sng_id,MSD_track_id,valence,arousal,artist_name,track_name\n"
                  "1,S1,T1,-0.5,1.25,Fiona Apple,Fast As You Can\n"
                  "2,S2,T2,2.0,-3.0,Calla,Strangler\n", gz=True)
    summary = import_features(db, table)
    assert summary.layout.startswith("valence/arousal") and summary.added == 2
    fiona = track(db, "Fast As You Can")
    assert (fiona["valence"], fiona["arousal"]) == (pytest.approx(-0.2), pytest.approx(0.5))
    assert fiona["feature_valence"] is None and fiona["va_source"] == "features"
    calla = track(db, "Strangler")
    assert (calla["valence"], calla["arousal"]) == (pytest.approx(0.8), -1.0)  # clamped at the edge


def test_semicolon_delimiter_gzip_and_header_aliases(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = write(tmp_path / "export.txt", "Track Name;ARTIST NAME;Valence;Energy;Tempo\n"
                  "Hej;Kent;0,5;0,5;120\n"
                  "Song;Band;0.25;0.75;90\n", gz=True)
    summary = import_features(db, table)
    assert summary.added == 2 and not summary.skipped  # decimal commas and points, each read as written
    assert track(db, "Hej")["feature_valence"] == 0.5
    band = track(db, "Song")
    assert band["artist"] == "Band" and band["valence"] == -0.5 and band["arousal"] == 0.5


# ---- bad files and rows -------------------------------------------------------------------------------


def test_bad_rows_are_skipped_with_line_and_reason(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = write(tmp_path / "bad.csv", "artist,title,valence,energy,tempo\n"
                  "A,Good,0.5,0.5,100\n"
                  ",,0.5,0.5,100\n"               # line 3: no title
                  "A,Wordy,high,0.5,100\n"         # line 4: non-numeric
                  "A,Too Happy,1.7,0.5,100\n"      # line 5: out of range
                  "A,Short,0.5\n"                  # line 6: missing columns
                  "a,GOOD!,0.1,0.1,90\n"           # line 7: the same song as line 2 once normalised
                  "B,Blank features,,,\n")         # line 8: fine, a metadata-only row
    summary = import_features(db, table)
    assert summary.rows == 7 and summary.added == 2
    reasons = dict(summary.skipped)
    assert reasons[3] == "missing title"
    assert reasons[4] == "non-numeric value 'high' in field valence"
    assert reasons[5].startswith("out-of-range valence 1.7")
    assert "missing columns" in reasons[6]
    assert reasons[7] == "duplicate of line 2 (same artist and title)"
    assert track(db, "Blank features")["valence"] is None
    assert track(db, "Good")["valence"] == 0.0


def test_latin1_is_read_and_said_binary_is_refused_with_the_line(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = tmp_path / "latin1.csv"
    table.write_bytes("artist,title,valence,energy\nA,Fine,0.5,0.5\nBjörk,Jóga,0.3,0.4\n".encode("latin-1"))
    summary = import_features(db, table)
    assert summary.added == 2 and track(db, "Jóga")["artist"] == "Björk"
    assert any("Windows-1252" in note for note in summary.notes) and "Windows-1252" in summary.describe()
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"artist,title,valence,energy\nA,Fine,0.5,0.5\n" + bytes(range(0x80, 0x100)) * 3)
    with pytest.raises(CatalogError, match=r"not UTF-8 text \(byte 0x80 at line 3\)"):
        import_features(db, binary)
    assert db["tracks"].count == 2


@pytest.mark.parametrize("content", [b"", b"\n\n", gzip.compress(b"")])
def test_empty_file_is_a_clear_error(db: sqlite_utils.Database, tmp_path: Path, content: bytes) -> None:
    table = tmp_path / "empty.csv"
    table.write_bytes(content)
    with pytest.raises(CatalogError, match="empty"):
        import_features(db, table)


def test_tables_without_titles_or_features_are_refused(db: sqlite_utils.Database, tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no title column"):
        import_features(db, write(tmp_path / "a.csv", "artist,valence,energy\nA,0.1,0.2\n"))
    # (an artist and title list without features is imported as titles: tests/device/catalog/test_exportify.py)
    with pytest.raises(CatalogError, match=r"no audio-feature columns.*and no artist column"):
        import_features(db, write(tmp_path / "b.csv", "name,popularity\nB,3\n"))
    with pytest.raises(CatalogError, match=r"no audio-feature columns.*use import-tags"):
        import_features(db, write(tmp_path / "c.csv", "artist,title,mood\nA,B,happy\n"))
    with pytest.raises(CatalogError, match="cannot read"):
        import_features(db, tmp_path / "missing.csv")


def test_reimport_changes_nothing(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = write(tmp_path / "t.csv", TOP_HITS_HEADER + "\n" + "\n".join(
        f"Artist {i},Song {i},200000,FALSE,2000,50,0.5,0.{i},1,-5.0,1,0.04,0.3,0,0.3,0.{9 - i},120,pop"
        for i in range(10)) + "\n")
    first = import_features(db, table)
    before = rows(db)
    again = import_features(db, table)
    assert (first.added, again.added, again.updated, again.unchanged) == (10, 0, 0, 10)
    assert rows(db) == before


def test_a_crash_mid_import_keeps_whole_batches(db: sqlite_utils.Database, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    table = write(tmp_path / "t.csv", "artist,title,valence,energy\n" + "".join(
        f"A,Song {i},0.5,0.5\n" for i in range(10)))
    monkeypatch.setattr(import_rows, "BATCH_ROWS", 3)
    real = feature_import._feature_row

    def crash_at_eight(cells: list[str], *args: Any) -> dict[str, Any]:
        if cells[1] == "Song 7":
            raise RuntimeError("power cut")
        return real(cells, *args)

    monkeypatch.setattr(feature_import, "_feature_row", crash_at_eight)
    with pytest.raises(RuntimeError):
        import_features(db, table)
    assert db["tracks"].count == 6  # two whole batches, nothing of the third
    db.execute("INSERT INTO tracks_fts(tracks_fts) VALUES ('integrity-check')")
    monkeypatch.setattr(feature_import, "_feature_row", real)
    summary = import_features(db, table)
    assert (summary.added, summary.unchanged) == (4, 6)


# ---- tags ---------------------------------------------------------------------------------------------


def test_tags_map_through_the_table_and_unknown_tags_are_reported(db: sqlite_utils.Database,
                                                                  tmp_path: Path) -> None:
    upsert_track(db, title="Has Features", artist="X", valence=0.9, arousal=0.9, va_source="features")
    table = write(tmp_path / "MoodyLyrics.csv", '"Index","Artist","Title","Mood"\n'
                  '"ML1","X","Has Features","sad"\n'
                  '"ML2","Y","Just Tagged","relaxed"\n'
                  '"ML3","Z","Whatever","nostalgic"\n'
                  '"ML4","W","Calm One","Calm"\n'
                  '"ML5","V","",happy\n'
                  '"ML6","Y","Just Tagged","happy"\n')
    summary = import_tags(db, table)
    assert (summary.added, summary.updated) == (2, 1)
    assert dict(summary.skipped) == {
        4: "unknown tag 'nostalgic' (known: happy, energetic, angry, sad, relaxed, calm)",
        6: "missing title",
        7: "duplicate of line 3 (same artist and title)",
    }
    assert summary.unknown_tags == {"nostalgic": 1}
    kept = track(db, "Has Features")
    assert (kept["valence"], kept["va_source"], json.loads(kept["tags"])) == (0.9, "features", ["sad"])
    tagged = track(db, "Just Tagged")
    assert (tagged["valence"], tagged["arousal"]) == TAG_POINTS["relaxed"] and tagged["va_source"] == "tags"
    assert track(db, "Calm One")["valence"] == TAG_POINTS["calm"][0]
    assert not list(db["tracks"].rows_where("title = 'Whatever'"))
    assert import_tags(db, table).unchanged == 3


def test_every_tag_in_the_table_is_in_its_quadrant() -> None:
    quadrant = {"happy": (1, 1), "energetic": (1, 1), "angry": (-1, 1), "sad": (-1, -1), "relaxed": (1, -1),
                "calm": (1, -1)}
    for tag, (valence, arousal) in TAG_POINTS.items():
        assert (valence > 0, arousal > 0) == (quadrant[tag][0] > 0, quadrant[tag][1] > 0), tag


# ---- the real tables ----------------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_MUSIC.is_dir(), reason="../shared/data/music is not here")
def test_real_data_moods_table_imports_all_its_rows(db: sqlite_utils.Database) -> None:
    summary = import_features(db, SHARED_MUSIC / "data_moods" / "data_moods.csv.gz")
    assert (summary.rows, summary.added, len(summary.skipped)) == (686, 686, 0)
    assert catalog_stats(db)["by_va_source"] == {"features": 686}
    assert find_seed(db, "prince 1999").artist == "Prince"


