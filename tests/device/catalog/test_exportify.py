"""Spreadsheets without audio features (issue 27): Exportify's exports since Spotify closed its audio
features in November 2024 (../shared/cases/csv/c09a, c09b the older layout with features), sheets where
only some rows have features, plain artist/title lists, NaN cells; and a seed song without a point,
which is read as the listener's own file of that song or else never given a mood (device.recommend)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import soundfile
import sqlite_utils
from mutagen.flac import FLAC

from device.catalog.candidates import Candidates
from device.catalog.importers import import_features
from device.catalog.search import find_seed, search
from device.catalog.seeds import same_song_among
from device.catalog.tracks import Track, upsert_track
from device.config import Config, RecommendConfig
from device.mood import CIRCUMPLEX, Mood
from device.names import match_key
from device.recommend import Recommender

CASES = Path(__file__).resolve().parents[4] / "shared" / "cases" / "csv"  # ../shared beside the checkout
needs_cases = pytest.mark.skipif(not CASES.is_dir(), reason="../shared/cases/csv is not here")
C09A = CASES / "c09a_exportify_liked_songs_2025_no_features.csv"
C09B = CASES / "c09b_exportify_23col_with_features.csv"

# What Exportify's 24 columns hold for c09a, as stored: title → artist, album, duration_s, popularity, genre.
C09A_TITLES = {
    "Paper Lanterns": ("Mira Solen,Tavi Brook", "Harbour Lights", 201.0, 41, "indie folk"),
    "Slow Tide": ("Wren Halloway", "Salt Roads", 245.0, 23, "ambient,new age"),
    "Copper Sky": ("Wren Halloway", "Salt Roads", 189.0, 30, "ambient"),
}
# c09b: title → feature_valence, energy, danceability, tempo, key, mode, time_signature
C09B_FEATURES = {
    "Paper Lanterns": (0.874, 0.801, 0.612, 141.9, 7, 1, 4),
    "Slow Tide": (0.071, 0.118, 0.215, 68.2, 9, 0, 3),
    "Copper Sky": (0.781, 0.911, 0.702, 150.1, 2, 1, 4),
}
NO_POINT_COLUMNS = ("valence", "arousal", "va_source", "feature_valence", "energy", "danceability", "tempo", "key",
                    "mode", "loudness", "path")
# What a reason may say of a seed's mood; none of it of a seed without a point.
MOOD_WORDS = re.compile(r"bright|gloomy|dark|sad|happy|calm|tense|angry|worried|cheerful|energetic|so is your seed"
                        r"|seed is|seed '[^']*' is", re.IGNORECASE)


def rows(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    return {r["title"]: dict(r) for r in db["tracks"].rows_where(order_by="id")}


def adds_up(summary: Any) -> None:
    assert summary.rows == (summary.with_features + summary.partial_features + summary.titles_only
                            + len(summary.skipped))
    assert summary.rows == summary.added + summary.updated + summary.unchanged + len(summary.skipped)
    document = summary.to_json()
    assert document["rows"] == (document["with_features"] + document["partial_features"] + document["titles_only"]
                                + document["skipped"])


def face(label: str) -> Mood:
    valence, arousal = CIRCUMPLEX[label]
    return Mood(label=label, confidence=0.8, valence=valence, arousal=arousal, present=True, readings=5)


NO_FACE = Mood(label="neutral", confidence=0.0, valence=0.0, arousal=0.0, present=False, readings=0)


def listeners_music(db: sqlite_utils.Database) -> None:
    """A few playable songs of the listener's, spread over the plane (as a scan leaves them)."""
    for i, (valence, arousal) in enumerate([(-0.8, -0.6), (-0.5, 0.5), (0.0, 0.0), (0.6, -0.5), (0.8, 0.6),
                                            (0.3, 0.3), (-0.2, -0.3)]):
        upsert_track(db, title=f"Own Song {i}", artist="Somebody", path=f"/music/own_{i}.flac", valence=valence,
                     arousal=arousal, va_source="audio", tempo=90.0 + 10 * i)


# ---- the cases ------------------------------------------------------------------------------------------


@needs_cases
def test_c09a_exportify_without_features_is_titles_said_plainly(db: sqlite_utils.Database) -> None:
    summary = import_features(db, C09A)
    assert (summary.rows, summary.added, summary.skipped) == (3, 3, [])
    assert (summary.with_features, summary.partial_features, summary.titles_only) == (0, 0, 3)
    assert summary.already_placed == 0
    assert summary.layout == "Exportify, no audio features"
    adds_up(summary)
    lines = summary.describe().splitlines()
    assert lines[0] == f"{C09A}: 3 rows (Exportify, no audio features): 3 added, 0 updated, 0 unchanged, 0 skipped"
    assert lines[1] == "  3 titles, no audio features: they get a point when their file is scanned"
    assert lines[2] == ("  read: its audio-feature columns (Danceability, Energy, Key, …) are empty in every row: "
                        "Spotify has given out no audio features since November 2024")
    assert "Spotify features" not in summary.describe()
    stored = rows(db)
    assert set(stored) == set(C09A_TITLES)
    for title, (artist, album, duration, popularity, genre) in C09A_TITLES.items():
        row = stored[title]
        assert (row["artist"], row["album"], row["duration_s"], row["popularity"], row["genre"]) == (
            artist, album, duration, popularity, genre)
        assert all(row[column] is None for column in NO_POINT_COLUMNS), title
        assert row["provenance"] == C09A.name
    [found] = search(db, "slow tide")
    assert found.title == "Slow Tide" and not found.playable  # a title to name as a seed, nothing to play


@needs_cases
def test_c09b_older_exportify_with_features_is_imported_as_before(db: sqlite_utils.Database) -> None:
    summary = import_features(db, C09B)
    assert (summary.rows, summary.added, summary.skipped) == (3, 3, [])
    assert (summary.with_features, summary.partial_features, summary.titles_only) == (3, 0, 0)
    assert summary.layout == "Exportify"
    adds_up(summary)
    assert summary.describe() == f"{C09B}: 3 rows (Exportify): 3 added, 0 updated, 0 unchanged, 0 skipped"
    stored = rows(db)
    for title, (valence, energy, danceability, tempo, key, mode, metre) in C09B_FEATURES.items():
        row = stored[title]
        assert (row["feature_valence"], row["energy"], row["danceability"], row["tempo"]) == (
            valence, energy, danceability, tempo)
        assert (row["key"], row["mode"], row["time_signature"], row["va_source"]) == (key, mode, metre, "features")
        assert (row["valence"], row["arousal"]) == (pytest.approx(2 * valence - 1), pytest.approx(2 * energy - 1))
    assert stored["Paper Lanterns"]["artist"] == "Mira Solen,Tavi Brook"
    assert stored["Paper Lanterns"]["match_key"] == match_key("Mira Solen", "Paper Lanterns")


@needs_cases
def test_a_features_less_export_takes_nothing_from_an_earlier_one_and_gets_features_later(
        db: sqlite_utils.Database) -> None:
    import_features(db, C09B)
    before = rows(db)
    again = import_features(db, C09A)  # the same songs, exported again after November 2024
    assert (again.titles_only, again.already_placed) == (3, 3)
    adds_up(again)
    assert again.describe().splitlines()[1] == ("  3 titles, no audio features: they have a point already, from their "
                                                "file or another table")
    after = rows(db)
    for title in C09B_FEATURES:
        kept = ("valence", "arousal", "va_source", "feature_valence", "energy", "tempo", "key", "provenance")
        assert {c: after[title][c] for c in kept} == {c: before[title][c] for c in kept}
        assert after[title]["provenance"] == C09B.name  # where its features came from

    fresh = sqlite_utils.Database(memory=True)
    from device.store import migrate

    migrate(fresh)
    import_features(fresh, C09A)
    later = import_features(fresh, C09B)  # titles first, features after: the same three rows get them
    assert (later.added, later.updated, later.with_features) == (0, 3, 3)
    assert all(r["va_source"] == "features" for r in rows(fresh).values())


# ---- the kind -------------------------------------------------------------------------------------------

EXPORTIFY_HEADER = ('"Track URI","Track Name","Album Name","Artist Name(s)","Release Date","Duration (ms)",'
                    '"Popularity","Explicit","Added By","Added At","Genres","Record Label","Danceability","Energy",'
                    '"Key","Loudness","Mode","Speechiness","Acousticness","Instrumentalness","Liveness","Valence",'
                    '"Tempo","Time Signature"')


def exportify_row(n: int, title: str, artist: str, features: list[str]) -> str:
    """A row of the 24-column layout; `features` are its 12 feature cells (Danceability … Time Signature)."""
    cells = [f"spotify:track:{n:022d}", title, "An Album", artist, "2020-01-01", "200000", "50", "false", "",
             "2024-06-01T10:00:00Z", "pop", "A Label", *features]
    return ",".join(f'"{c}"' for c in cells)


def features(valence: str, energy: str, tempo: str = "120.0") -> list[str]:
    return ["0.5", energy, "5", "-7.0", "1", "0.05", "0.2", "0.0", "0.1", valence, tempo, "4"]


def test_a_sheet_where_only_some_rows_have_features(db: sqlite_utils.Database, tmp_path: Path) -> None:
    """Rows with features get points; rows whose feature cells are empty or NaN however written are
    titles without features, one line; a row with a tempo but no valence or energy is counted apart; a
    bad row is skipped with its reason; and everything adds up to the rows."""
    lines = [
        EXPORTIFY_HEADER,
        exportify_row(1, "Glass Bells", "Ona Vale", features("0.80", "0.70")),
        exportify_row(2, "Night Ferry", "Ona Vale", features("0.20", "0.30")),
        exportify_row(3, "Blank One", "Ona Vale", [""] * 12),
        exportify_row(4, "Pandas Wrote This", "Ona Vale", ["nan"] * 12),
        exportify_row(5, "Excel Wrote This", "Ona Vale", ["#N/A"] * 12),
        exportify_row(6, "R Wrote This", "Ona Vale", ["NA"] * 11 + ["NULL"]),
        exportify_row(7, "Only A Tempo", "Ona Vale", [""] * 10 + ["98.5", ""]),
        exportify_row(8, "Half A Point", "Ona Vale", features("NaN", "0.40")),
        exportify_row(9, "Broken Cell", "Ona Vale", features("very happy", "0.40")),
    ]
    table = tmp_path / "liked_2024_2025.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_features(db, table)
    assert summary.rows == 9 and summary.layout == "Exportify"
    assert (summary.with_features, summary.partial_features, summary.titles_only) == (2, 2, 4)
    assert summary.skipped == [(10, "non-numeric value 'very happy' in field Valence")]
    adds_up(summary)
    assert summary.describe().splitlines()[1] == (
        "  2 with audio features, placed on the plane; 4 titles, no audio features, and 2 with some audio "
        "features but not both valence and energy: they get a point when their file is scanned; 1 skipped")
    stored = rows(db)
    assert (stored["Glass Bells"]["valence"], stored["Glass Bells"]["arousal"]) == pytest.approx((0.6, 0.4))
    assert stored["Night Ferry"]["va_source"] == "features"
    for title in ("Blank One", "Pandas Wrote This", "Excel Wrote This", "R Wrote This", "Only A Tempo", "Half A Point"):
        assert (stored[title]["valence"], stored[title]["arousal"], stored[title]["va_source"]) == (None, None, None)
    assert stored["Only A Tempo"]["tempo"] == 98.5 and stored["Half A Point"]["energy"] == 0.4
    assert stored["Pandas Wrote This"]["feature_valence"] is None and stored["Pandas Wrote This"]["key"] is None


@pytest.mark.parametrize(("name", "text", "encoding"), [
    ("playlist.csv", "Artist,Title,Album\nOna Vale,Glass Bells,Tides\nKit Arden,Paper Moon,\n", "utf-8"),
    ("playlist.tsv", "title\tartist\nGlass Bells\tOna Vale\nPaper Moon\tKit Arden\n", "utf-8"),
    ("excel_de.csv", "\ufeffInterpret;Titel;Dauer\r\nOna Vale;Glass Bells;3:41\r\nKit Arden;Paper Moon;4:02\r\n",
     "utf-8"),
    ("soundiiz.csv", "title,artist,album,isrc\n\"Glass Bells\",\"Ona Vale\",\"Tides\",XX0000000001\n"
                     "\"Paper Moon\",\"Kit Arden\",\"\",XX0000000002\n", "utf-16"),
])
def test_plain_artist_and_title_lists_are_imported_as_titles(db: sqlite_utils.Database, tmp_path: Path, name: str,
                                                             text: str, encoding: str) -> None:
    table = tmp_path / name
    table.write_bytes(text.encode(encoding))
    summary = import_features(db, table)
    assert (summary.rows, summary.added, summary.skipped, summary.titles_only) == (2, 2, [], 2)
    assert summary.layout == "artists and titles (no audio-feature columns)"
    assert not any("empty in every row" in note for note in summary.notes)
    adds_up(summary)
    said = "  2 titles, no audio features: they get a point when their file is scanned"
    assert summary.describe().splitlines()[1] == said
    stored = rows(db)
    assert {t: r["artist"] for t, r in stored.items()} == {"Glass Bells": "Ona Vale", "Paper Moon": "Kit Arden"}
    assert all(r["valence"] is None and r["va_source"] is None for r in stored.values())


def test_an_exportify_export_without_its_feature_columns(db: sqlite_utils.Database, tmp_path: Path) -> None:
    header = EXPORTIFY_HEADER.split(',"Danceability"')[0]
    lines = [header, *(",".join(exportify_row(n, title, "Ona Vale", []).split(",")[:12])
                       for n, title in enumerate(("Glass Bells", "Night Ferry", "Salt Wind")))]
    table = tmp_path / "Liked_Songs.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_features(db, table)
    assert (summary.rows, summary.titles_only, summary.added) == (3, 3, 3)
    assert summary.layout == "Exportify, without its audio-feature columns"
    said = "  3 titles, no audio features: they get a point when their file is scanned"
    assert summary.describe().splitlines()[1] == said
    assert rows(db)["Salt Wind"]["album"] == "An Album" and rows(db)["Salt Wind"]["valence"] is None


def test_deezer_scores_with_one_half_missing_are_no_point(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = tmp_path / "deezer.csv"
    table.write_text("artist_name,track_name,valence,arousal\nA,Whole,0.5,-1.0\nA,Half,1.2,nan\nA,None,,\n",
                     encoding="utf-8")
    summary = import_features(db, table)
    assert (summary.with_features, summary.partial_features, summary.titles_only) == (1, 1, 1)
    adds_up(summary)
    assert rows(db)["Whole"]["va_source"] == "features" and rows(db)["Half"]["valence"] is None


def test_one_title_without_features_is_said_in_the_singular(db: sqlite_utils.Database, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("artist,title,valence,energy\nA,One,0.5,0.5\nA,Two,,\n", encoding="utf-8")
    summary = import_features(db, table)
    assert summary.describe().splitlines()[1] == ("  1 with audio features, placed on the plane; 1 title, no audio "
                                                  "features: it gets a point when its file is scanned")
    table.write_text("artist,title,valence,energy\nA,One,0.5,0.5\nA,Two,0.1,0.2\n", encoding="utf-8")
    assert len(import_features(db, table).describe().splitlines()) == 1  # all with features: one line, as before


# ---- a seed without a point ---------------------------------------------------------------------------


@needs_cases
@pytest.mark.parametrize("label", ["sad", "neutral", "happy", "angry", "fear", "surprise", "disgust", None])
def test_a_seed_without_a_point_is_never_given_a_mood(db: sqlite_utils.Database, label: str | None) -> None:
    import_features(db, C09A)
    listeners_music(db)
    seed = find_seed(db, "slow tide wren halloway")
    assert seed.title == "Slow Tide" and seed.valence is None
    mood = face(label) if label else NO_FACE
    recommender = Recommender(RecommendConfig())
    recent: list[int] = []
    for _ in range(4):  # also once a sad face has lasted (the streak that lifts gently)
        decision = recommender.decide(mood, Candidates.from_db(db), seed, recent)
        recent.append(decision.track.id)
        said_of_seed = [part for part in re.split(r"[;:]", decision.reason) if "seed" in part]
        assert all(not MOOD_WORDS.search(part) for part in said_of_seed), decision.reason
        assert "not a bright one" not in decision.reason and "following the seed" not in decision.reason
        if said_of_seed:
            assert ("your seed 'Slow Tide' has no mood known yet (no audio features, and no file of it scanned)"
                    in decision.reason)
        assert decision.track.playable and decision.track.id != seed.id


@needs_cases
def test_the_reasons_for_a_pointless_seed(db: sqlite_utils.Database) -> None:
    import_features(db, C09A)
    listeners_music(db)
    seed = find_seed(db, "copper sky")
    catalog = Candidates.from_db(db)
    sad = Recommender(RecommendConfig()).decide(face("sad"), catalog, seed)
    assert sad.intent == "modulate"
    assert sad.reason.startswith("you look sad (80%); your seed 'Copper Sky' has no mood known yet (no audio "
                                 "features, and no file of it scanned), so matching your mood;")
    nobody = Recommender(RecommendConfig()).decide(NO_FACE, catalog, seed)
    assert nobody.reason.startswith("no face read and your seed 'Copper Sky' has no mood known yet (no audio "
                                    "features, and no file of it scanned): nothing to follow, so a song from the "
                                    "middle")
    assert nobody.target == (0.0, 0.0)
    # a file that is scanned but has no point (silent, say) is said so, not "no file"
    silent = Track(id=999, title="Hush", artist="", valence=None, arousal=None, va_source=None, path="/m/hush.wav")
    reason = Recommender(RecommendConfig()).decide(face("sad"), catalog, silent).reason
    assert "your seed 'Hush' has no mood known yet (its file has not been placed on the plane)" in reason


def tagged_flac(source: Path, target: Path, artist: str, title: str) -> Path:
    audio, rate = soundfile.read(source, dtype="float32")
    soundfile.write(target, audio, rate, format="FLAC")
    tags = FLAC(target)
    tags["artist"], tags["title"] = artist, title
    tags.save()
    return target


@needs_cases
def test_a_titles_file_scanned_gives_the_seed_its_own_point(db: sqlite_utils.Database, config: Config,
                                                            demo_clips: dict[str, Path], tmp_path: Path) -> None:
    """c09a's "Slow Tide", then the listener's own file of it scanned: one row, its point from the audio,
    and a decision describes the seed by that point."""
    from device.catalog.scan import scan

    import_features(db, C09A)
    listeners_music(db)
    music = tmp_path / "music"
    music.mkdir()
    tagged_flac(demo_clips["Empty Station"], music / "01 slow tide.flac", "Wren Halloway", "Slow Tide")
    summary = scan(db, music, config.state_dir)
    assert (summary.added, summary.updated) == (0, 1)  # joined the imported title's row (same match key)
    seed = find_seed(db, "slow tide")
    assert seed.playable and seed.va_source == "audio" and seed.album == "Salt Roads"
    assert seed.valence is not None
    decision = Recommender(RecommendConfig()).decide(face("sad"), Candidates.from_db(db), seed)
    assert "no mood known" not in decision.reason
    if seed.valence > 0.1:
        assert "your seed 'Slow Tide' is bright" in decision.reason
    else:
        assert ("and so is your seed" if seed.valence < 0 else "your seed is not a bright one") in decision.reason


@needs_cases
def test_a_pointless_seed_is_read_as_the_listeners_file_of_that_song(db: sqlite_utils.Database) -> None:
    """A seed row without a point and the listener's file of the same song in a row of its own (as the
    schema-6 migration leaves a row that lost its key to the file's, "key#id", or a recording told apart
    from its song): the decision reads the seed as that file."""
    import_features(db, C09A)
    listeners_music(db)
    seed = find_seed(db, "slow tide")
    db.execute("UPDATE tracks SET match_key = match_key || '#' || id WHERE id = ?", [seed.id])
    file_id = upsert_track(db, title="Slow Tide (Remastered 2019)", artist="Wren Halloway", album="Salt Roads",
                           path="/music/slow_tide.flac", valence=-0.7, arousal=-0.5, va_source="audio", tempo=70.0)
    assert file_id != seed.id
    catalog = Candidates.from_db(db)
    decision = Recommender(RecommendConfig()).decide(face("sad"), catalog, seed)
    assert "you look sad (80%) and so is your seed" in decision.reason
    happy = Recommender(RecommendConfig()).decide(face("happy"), catalog, seed)
    for label, said in (("sad", decision), ("happy", happy)):
        valence, arousal = CIRCUMPLEX[label]  # matching the mood: a quarter of the way toward the seed's file
        assert said.target == pytest.approx((valence + 0.25 * (-0.7 - valence), arousal + 0.25 * (-0.5 - arousal)))

    # a file whose stored key is not its names' own (a recording told apart from its song): found by its words
    db.execute("UPDATE tracks SET match_key = match_key || '|album:salt roads' WHERE id = ?", [file_id])
    moved = Recommender(RecommendConfig()).decide(face("sad"), Candidates.from_db(db), seed)
    assert "you look sad (80%) and so is your seed" in moved.reason and moved.target == decision.target
    db.execute("UPDATE tracks SET title = 'Slow Tides' WHERE id = ?", [file_id])  # another song after all
    other = Recommender(RecommendConfig()).decide(face("sad"), Candidates.from_db(db), seed)
    assert "your seed 'Slow Tide' has no mood known yet" in other.reason
    db.execute("UPDATE tracks SET title = 'Slow Tide (Remastered 2019)' WHERE id = ?", [file_id])

    # the same from Track objects (small catalogs, tests), and never a built-in piece nor an unplayable row
    tracks = [Track.from_row(r) for r in db["tracks"].rows]
    assert Candidates.from_tracks(tracks).same_song is not None
    listed = Recommender(RecommendConfig()).decide(face("sad"), tracks, seed)
    assert "and so is your seed" in listed.reason


def test_the_seeds_album_first_then_its_own_audio() -> None:
    def make(i: int, album: str, source: str, path: str | None = "/m/x.flac", collection: str | None = None) -> Track:
        return Track(id=i, title="Intro", artist="The Lowlands", valence=0.1 * i, arousal=0.0, va_source=source,
                     path=path, album=album, collection=collection)

    seed = Track(id=1, title="Intro", artist="The Lowlands", valence=None, arousal=None, va_source=None,
                 album="Second Album")
    others = [make(2, "First Album", "features"), make(3, "First Album", "audio"), make(4, "Second Album", "tags"),
              make(5, "Second Album", "audio", path=None), make(6, "Second Album", "composed", collection="starter")]
    assert same_song_among(others, seed).id == 4  # type: ignore[union-attr]
    assert same_song_among(others[:2], seed).id == 3  # type: ignore[union-attr]
    stranger = Track(id=7, title="Outro", artist="The Lowlands", valence=0.5, arousal=0.5, va_source="audio",
                     path="/m/o.flac")
    assert same_song_among([stranger], seed) is None
