"""Tags as people have them, in the catalog (issue 27): names in legacy code pages found by their real
spelling, every artist, composer and work searchable (schema 13), and a catalog made before schema 13
keeping every row, play and like.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from device import cli, store
from device.catalog.search import search
from device.catalog.tags import credit_columns
from device.catalog.tracks import upsert_track
from device.contract.history import Outcome, end_play, recent_plays, record_feedback, start_play
from device.contract.intents import Intent
from device.store import open_database
from tests.device.catalog.test_tags import CASES, needs_cases

BEFORE = 12  # the schema emotune had before the credits (device.store._v13)


def titles(db: sqlite_utils.Database, text: str) -> list[str]:
    return [t.title for t in search(db, text)]


# ---- a12 scanned ---------------------------------------------------------------------------------------


@pytest.mark.slow  # two 20 s files analysed
@needs_cases
def test_a12_titles_are_stored_and_found_by_their_real_names(
    tmp_path: Path, config, capsys: pytest.CaptureFixture[str]
) -> None:
    music = tmp_path / "music"
    shutil.copytree(CASES / "a12_id3v1_codepage", music)
    assert cli.main(["catalog", "scan", str(music), "--json", "--state-dir", str(config.state_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 2
    db = open_database(config.database_path)
    stored = {(r["title"], r["artist"], r["album"]) for r in db["tracks"].rows}
    assert stored == {("Тихий вечер", "Лёва Кречет", "Окна"), ("夜の海", "ミナト", "灯台")}  # was "Òèõèé âå÷åð"
    assert titles(db, "тихий вечер") == ["Тихий вечер"]
    assert titles(db, "Кречет") == ["Тихий вечер"]
    assert titles(db, "tikhii") == ["Тихий вечер"]  # a Latin spelling
    assert titles(db, "夜の海") == ["夜の海"]
    assert titles(db, "ミナト") == ["夜の海"]


# ---- credits searchable ----------------------------------------------------------------------------------


def add(db: sqlite_utils.Database, title: str, artists: list[str], composers: list[str] = (),  # type: ignore[assignment]
        works: list[str] = ()) -> int:  # type: ignore[assignment]
    """A track as a scan stores a file's tags: the first artist shown, the credits beside."""
    tags = {"artists": artists, "composers": list(composers), "works": list(works)}
    return upsert_track(db, title=title, artist=artists[0], path=f"/m/{title}.flac", valence=0.1, arousal=0.1,
                        va_source="audio", **credit_columns(tags))


def test_every_artist_composer_and_work_is_searchable(db: sqlite_utils.Database) -> None:
    add(db, "Clair de lune", ["Alba Sund", "Niko Vale", "Iro Sato"], ["Claude Debussy"], ["Suite bergamasque"])
    add(db, "Symphony No. 9: IV. Presto", ["Wiener Philharmoniker", "Karl Böhm"], ["Ludwig van Beethoven"],
        ["Symphony No. 9 in D minor, Op. 125", "Presto"])
    add(db, "Вальс цветов", ["Оркестр Мариинского театра"], ["Пётр Чайковский"], ["Щелкунчик"])
    add(db, "夜の海", ["ミナト", "灯台守"], ["港の作曲家"])
    assert titles(db, "Niko Vale") == titles(db, "iro sato") == ["Clair de lune"]  # not the first artist
    assert titles(db, "debussy") == titles(db, "bergamasque") == ["Clair de lune"]
    assert titles(db, "beethoven") == titles(db, "bohm") == titles(db, "op 125") == ["Symphony No. 9: IV. Presto"]
    assert titles(db, "Чайковский") == titles(db, "chaikovskii") == titles(db, "щелкунчик") == ["Вальс цветов"]
    assert titles(db, "灯台守") == titles(db, "作曲家") == ["夜の海"]
    row = db.execute("SELECT artist, artists, composer, work FROM tracks WHERE title = 'Clair de lune'").fetchone()
    assert row == ("Alba Sund", "Alba Sund; Niko Vale; Iro Sato", "Claude Debussy", "Suite bergamasque")


def test_a_songs_own_names_come_before_its_credits(db: sqlite_utils.Database) -> None:
    add(db, "Goldberg Variations: Aria", ["Lena Hart"], ["Johann Sebastian Bach"])
    add(db, "Bach", ["Ola Fen"])  # a song named after him
    assert titles(db, "bach") == ["Bach", "Goldberg Variations: Aria"]


def test_credits_written_again_replace_the_old(db: sqlite_utils.Database) -> None:
    track = add(db, "Cavatina", ["Lena Hart", "Ola Fen"], ["Stanley Myers"])
    assert add(db, "Cavatina", ["Lena Hart"], ["John Williams"]) == track
    assert titles(db, "myers") == [] and titles(db, "ola fen") == []
    assert titles(db, "williams") == ["Cavatina"]


# ---- the migration ---------------------------------------------------------------------------------------


def database_before(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """A catalog as emotune left it at schema 12: tracks written by its upsert (Latin, Cyrillic, Japanese
    names, one without a file), plays, and likes. Returns the rows and the play ids."""
    conn = sqlite3.connect(path)
    old = sqlite_utils.Database(conn)
    for step in store.MIGRATIONS[:BEFORE]:
        step(old)
    conn.execute(f"PRAGMA user_version = {BEFORE}")
    songs = [("Glass River", "Ana Lume", "Shallows", "/m/glass.flac"), ("Тихий вечер", "Лёва Кречет", "Окна", None),
             ("夜の海", "ミナト", "灯台", "/m/yoru.mp3"), ("Café del Mar", "Energy 52", "", "/m/cafe.mp3")]
    plays = []
    for title, artist, album, file in songs:
        track = upsert_track(old, title=title, artist=artist, album=album, path=file, valence=0.3, arousal=-0.2,
                             va_source="audio")
        play = start_play(old, track, emotion="sad", valence=-0.4, arousal=-0.1, intent=Intent.ENHANCE, reason="test")
        end_play(old, play, Outcome.ENDED)
        plays.append(play)
    record_feedback(old, plays[0], 1)
    record_feedback(old, plays[2], -1)
    conn.commit()
    rows = list(old["tracks"].rows_where(order_by="id"))
    conn.close()
    return rows, plays


def test_a_catalog_from_before_keeps_every_row_play_and_like(tmp_path: Path) -> None:
    path = tmp_path / "emotune.db"
    before, plays = database_before(path)

    db = open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS) > BEFORE
    after = list(db["tracks"].rows_where(order_by="id"))
    assert [{k: r[k] for k in before[0]} for r in after] == before  # every row, every value
    assert all(r[c] is None for r in after for c in store.CREDIT_COLUMNS)
    for row in before:  # each found by its title and by its artist, in its own script
        assert [t.id for t in search(db, row["title"])][:1] == [row["id"]]
        assert row["id"] in [t.id for t in search(db, row["artist"])]
    assert titles(db, "kreche") == ["Тихий вечер"]  # the Latin spellings made before still work
    history = {p.id: p for p in recent_plays(db, limit=10)}
    assert sorted(history) == sorted(plays)
    assert [history[p].liked for p in plays] == [1, 0, -1, 0]
    assert [history[p].title for p in plays] == [r["title"] for r in before]
    db.execute("INSERT INTO tracks_fts (tracks_fts) VALUES ('integrity-check')")  # the index matches the rows
    # and it keeps up with writes made since
    add(db, "Glass River", ["Ana Lume", "Iro Sato"], ["Tomas Ek"])
    assert titles(db, "tomas ek") == ["Glass River"]
    db.execute("INSERT INTO tracks_fts (tracks_fts) VALUES ('integrity-check')")


def test_a_catalog_of_schema_5_still_migrates_all_the_way(tmp_path: Path) -> None:
    """Schema 6 makes the word index with its own columns; schema 13 makes it again with the credits."""
    conn = sqlite3.connect(tmp_path / "old.db")
    old = sqlite_utils.Database(conn)
    for step in store.MIGRATIONS[:5]:
        step(old)
    conn.execute("PRAGMA user_version = 5")
    old["tracks"].insert({"title": "Тихий вечер", "artist": "Лёва Кречет", "match_key": "x", "path": "/m/t.mp3"})
    conn.commit()
    conn.close()
    db = open_database(tmp_path / "old.db")
    assert titles(db, "вечер") == titles(db, "tikhii") == ["Тихий вечер"]


def test_a_scanned_files_credits_are_searchable(tmp_path: Path, config, capsys: pytest.CaptureFixture[str]) -> None:
    import soundfile as sf
    from mutagen.flac import FLAC

    from tests.device.music.test_decode import tone

    music = tmp_path / "music"
    music.mkdir()
    path = music / "clair.flac"
    sf.write(path, tone(8.0), 22050)  # longer than a scan's shortest song
    flac = FLAC(path)
    flac.update({"TITLE": "Clair de lune", "ARTIST": ["Alba Sund", "Niko Vale"], "COMPOSER": "Claude Debussy",
                 "WORK": "Suite bergamasque"})
    flac.save()
    assert cli.main(["catalog", "scan", str(music), "--json", "--state-dir", str(config.state_dir)]) == 0
    capsys.readouterr()
    db = open_database(config.database_path)
    assert titles(db, "Alba Sund") == ["Clair de lune"]  # the first artist: stored today
    assert titles(db, "Niko Vale") == titles(db, "debussy") == titles(db, "bergamasque") == ["Clair de lune"]
