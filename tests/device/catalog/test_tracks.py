"""Tracks in the catalog (device.catalog.tracks, device.catalog.search): identity by artist and title,
typo-tolerant search, the seed song."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlite_utils

from device import store
from device.catalog.candidates import Candidates
from device.catalog.search import find_seed, search
from device.catalog.stats import count_tracks
from device.catalog.tracks import Track, get_track, upsert_track
from device.errors import CatalogError
from device.names import match_key, normalise


def test_normalise_ignores_case_accents_and_punctuation() -> None:
    assert normalise("Beyoncé!") == normalise("BEYONCE") == "beyonce"
    assert normalise("  Guns N'   Roses ") == "guns n roses"
    assert normalise("¿¡…!?") == ""
    assert match_key("The Beatles", "Yesterday") == match_key(" the BEATLES ", "yesterday!")
    assert match_key("Yesterday", "The Beatles") != match_key("The Beatles", "Yesterday")  # not interchangeable
    assert match_key("", "Intro") != match_key("Someone", "Intro")


def test_upsert_keeps_one_row_per_song_and_what_a_later_write_does_not_say(db: sqlite_utils.Database) -> None:
    first = upsert_track(db, title=" Halo ", artist="Beyoncé", path="/m/halo.ogg", valence=0.4, arousal=0.1,
                         va_source="audio")
    added_at = db["tracks"].get(first)["added_at"]
    time.sleep(0.01)
    again = upsert_track(db, title="halo", artist="beyonce", energy=0.7)  # e.g. a features table, no file
    assert again == first and db["tracks"].count == 1
    track = get_track(db, first)
    assert track is not None
    assert (track.title, track.path, track.valence, track.energy) == ("halo", "/m/halo.ogg", 0.4, 0.7)
    assert db["tracks"].get(first)["added_at"] == added_at
    other = upsert_track(db, title="Halo", artist="Depeche Mode")  # another artist: another song
    assert other != first and db["tracks"].count == 2
    with pytest.raises(CatalogError, match="needs a title"):
        upsert_track(db, title="", artist="Nobody")
    assert db["tracks"].count == 2


def test_tracks_read_back_as_the_listener_sees_them(db: sqlite_utils.Database) -> None:
    playable = upsert_track(db, title="Clair de Lune", artist="Debussy", album="Suite bergamasque",
                            path="/m/clair.ogg", valence=0.3, arousal=-0.5, va_source="features")
    no_file = upsert_track(db, title="Yesterday", artist="The Beatles", valence=-0.3, arousal=-0.4)
    no_point = upsert_track(db, title="Untitled", artist="", path="/m/untitled.ogg")
    assert get_track(db, playable) == Track(id=playable, title="Clair de Lune", artist="Debussy", valence=0.3,
                                             arousal=-0.5, va_source="features", path="/m/clair.ogg",
                                             album="Suite bergamasque")
    assert get_track(db, 999) is None
    assert get_track(db, playable).describe() == "Clair de Lune — Debussy"
    # playable = what the daemon can play: a file and a point on the plane (a silent file has no point)
    assert get_track(db, no_point).describe() == "Untitled" and not get_track(db, no_point).playable
    assert not get_track(db, no_file).playable
    assert Candidates.from_db(db).ids.tolist() == [playable]  # what the recommender may pick
    assert count_tracks(db) == {"tracks": 3, "playable": 1}


def test_search_finds_by_prefix_accent_album_and_typo(db: sqlite_utils.Database) -> None:
    upsert_track(db, title="Halo", artist="Beyoncé", album="I Am... Sasha Fierce")
    upsert_track(db, title="Clair de Lune", artist="Debussy", album="Suite bergamasque")
    upsert_track(db, title="Moonlight Sonata", artist="Beethoven")
    assert [t.title for t in search(db, "beyonce")] == ["Halo"]  # typed without the accent
    assert [t.title for t in search(db, "BEYON")] == ["Halo"]  # a prefix, any case
    assert [t.title for t in search(db, "bergamasque")] == ["Clair de Lune"]  # by album
    assert [t.title for t in search(db, "debusy clair")] == ["Clair de Lune"]  # a slip of one letter
    assert [t.title for t in search(db, "bethoven moonlit")] == ["Moonlight Sonata"]  # a slip and a prefix
    assert search(db, "") == [] and search(db, "?!") == []
    assert search(db, "zzzzzz") == []


def test_find_seed_takes_the_best_match_or_says_what_to_do(db: sqlite_utils.Database) -> None:
    upsert_track(db, title="Yesterday", artist="The Beatles")
    upsert_track(db, title="Yesterday Once More", artist="Carpenters")
    upsert_track(db, title="Here Comes the Sun", artist="The Beatles")
    assert find_seed(db, "carpenters yesterday").title == "Yesterday Once More"
    assert find_seed(db, "beatles sun").title == "Here Comes the Sun"
    with pytest.raises(CatalogError) as error:
        find_seed(db, "bohemian rhapsody")
    message = str(error.value)
    assert message.startswith("no song in the catalog matches 'bohemian rhapsody' (3 tracks)")
    assert "check the spelling" in message and "\n" not in message


def test_search_is_ranked_prefix_and_typo_tolerant(db: sqlite_utils.Database) -> None:
    for title, artist in [("Yesterday", "The Beatles"), ("Yesterday", "Leona Lewis"), ("Help!", "The Beatles"),
                          ("Yesterdays", "Guns N' Roses"), ("Bohemian Rhapsody", "Queen"),
                          ("Beat It", "Michael Jackson"), ("Hello", "Adele")]:
        upsert_track(db, title=title, artist=artist)
    for i in range(300):
        upsert_track(db, title=f"Filler song {i}", artist=f"Band {i}")
    assert [t.artist for t in search(db, "beatls yesterday")][:1] == ["The Beatles"]
    assert search(db, "beatles yest")[0].title == "Yesterday"
    assert search(db, "bohemian rapsody")[0].artist == "Queen"
    assert search(db, "yesterdy")[0].title == "Yesterday"  # the nearest word wins over "yesterdays"
    assert find_seed(db, "queen bohem").title == "Bohemian Rhapsody"
    # exact prefix matches come first, then near misses ("hell" → "help")
    assert [t.title for t in search(db, "hell")] == ["Hello", "Help!"]
    assert [t.title for t in search(db, "hell", limit=1)] == ["Hello"]
    with pytest.raises(CatalogError, match="no song in the catalog matches 'zzzz qqqq'"):
        find_seed(db, "zzzz qqqq")


def test_search_sees_rows_added_after_the_word_index_was_built(db: sqlite_utils.Database) -> None:
    upsert_track(db, title="Creep", artist="Radiohead")
    assert search(db, "radiohed")[0].title == "Creep"
    upsert_track(db, title="Hello", artist="Adele")
    assert search(db, "adel helo")[0].title == "Hello"


def test_the_word_index_follows_writes_from_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "emotune.db"
    page, importer = store.open_database(path), store.open_database(path)
    upsert_track(importer, title="Creep", artist="Radiohead")
    assert search(page, "radiohed")[0].title == "Creep"
    upsert_track(importer, title="Hello", artist="Adele")
    assert search(page, "adel helo")[0].title == "Hello"
    assert search(store.open_database(path), "adel helo")[0].title == "Hello"


def test_upsert_by_normalised_artist_and_title(db: sqlite_utils.Database) -> None:
    first = upsert_track(db, title="Beyoncé Song!", artist="The Band", valence=0.1, arousal=0.2)
    second = upsert_track(db, title="beyonce song", artist="the band ", valence=0.5, arousal=0.2)
    assert first == second
    assert db["tracks"].count == 1
    assert db["tracks"].get(first)["valence"] == 0.5
    with pytest.raises(CatalogError, match="needs a title"):
        upsert_track(db, title="  ", artist="x")


def test_search_finds_prefixes_and_ranks_title_matches(db: sqlite_utils.Database) -> None:
    upsert_track(db, title="Yesterday", artist="The Beatles", path="/m/y.ogg", valence=-0.3, arousal=-0.4)
    upsert_track(db, title="Here Comes the Sun", artist="The Beatles")
    upsert_track(db, title="Yesterday Once More", artist="Carpenters")
    assert [t.title for t in search(db, "beatles yester")] == ["Yesterday"]
    assert find_seed(db, "here comes").title == "Here Comes the Sun"
    assert [get_track(db, i).title for i in Candidates.from_db(db).ids.tolist()] == ["Yesterday"]
    with pytest.raises(CatalogError, match="no song in the catalog matches 'abba'"):
        find_seed(db, "abba")


def test_upsert_keeps_the_search_words_of_every_name_current(db: sqlite_utils.Database) -> None:
    track = upsert_track(db, title="White Nights", artist="Kino", album="Белые ночи")
    assert [t.id for t in search(db, "belye nochi")] == [track]  # the album's Latin spelling
    assert upsert_track(db, title="White Nights", artist="KINO", energy=0.4) == track  # no album: it stays
    assert [t.id for t in search(db, "belye nochi")] == [track]
    song = upsert_track(db, title="Белые ночи", artist="Кино", album="Звезда")
    assert upsert_track(db, title="Белые ночи (Live)", artist="КИНО") == song != track  # a version: the same song
    assert [t.title for t in search(db, "белые ночи live")] == ["Белые ночи (Live)"]
    assert [t.id for t in search(db, "zvezda")] == [song]  # the album's spelling was kept with the album
    db.execute("INSERT INTO tracks_fts (tracks_fts) VALUES ('integrity-check')")  # the index matches the rows
