"""The playable tracks as arrays (device.catalog.candidates): the same rows however they are read, filters,
taste distance to the seed, and the daemon's cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from device import contract
from device.catalog.candidates import TASTE_COLUMNS, TEMPO_SPAN, CandidateCache, Candidates
from device.catalog.tracks import STARTER, get_track, upsert_track
from device.store import open_database

Fill = Callable[[sqlite_utils.Database, int, int], None]


def all_tracks(db: sqlite_utils.Database) -> list:
    return [get_track(db, row["id"]) for row in db["tracks"].rows_where(order_by="id", select="id")]


def test_from_db_reads_the_rows_from_tracks_would_give(
    db: sqlite_utils.Database, random_catalog: Fill, tmp_path: Path
) -> None:
    random_catalog(db, 200, seed=3)
    upsert_track(db, title="no point", artist="x", path="/m/np.ogg")  # a file but no place on the plane
    upsert_track(db, title="empty path", artist="x", path="", valence=0.1, arousal=0.1)
    tracks = all_tracks(db)
    from_db, from_tracks = Candidates.from_db(db), Candidates.from_tracks(tracks)
    playable = [t for t in tracks if t.playable and t.valence is not None and t.arousal is not None]
    assert 0 < len(from_db) == len(playable) < len(tracks)
    np.testing.assert_array_equal(from_db.ids, [t.id for t in playable])
    np.testing.assert_array_equal(from_db.ids, from_tracks.ids)
    np.testing.assert_array_equal(from_db.points, from_tracks.points)
    np.testing.assert_array_equal(from_db.taste, from_tracks.taste)  # NaN where a feature is missing, alike
    assert np.isnan(from_db.taste).any()
    for track_id in from_db.ids[:20]:
        assert from_db.lookup(int(track_id)) == from_tracks.lookup(int(track_id)) == get_track(db, int(track_id))
    empty = Candidates.from_db(open_database(tmp_path / "empty.db"))
    assert len(empty) == 0 and empty.points.shape == (0, 2) and empty.taste.shape == (0, len(TASTE_COLUMNS))


def test_without_and_where_keep_the_order_and_the_rest(db: sqlite_utils.Database, random_catalog: Fill) -> None:
    random_catalog(db, 30, seed=4)
    candidates = Candidates.from_db(db)
    ids = candidates.ids.tolist()
    recent = {ids[0], ids[5], 10_000}  # an id that is not a candidate changes nothing
    rest = candidates.without(recent)
    assert rest.ids.tolist() == [i for i in ids if i not in recent]
    np.testing.assert_array_equal(rest.points, candidates.points[~np.isin(candidates.ids, list(recent))])
    assert candidates.without([]) is candidates
    happy = candidates.where(candidates.points[:, 0] > 0)
    assert len(happy) and (happy.points[:, 0] > 0).all() and happy.taste.shape == (len(happy), len(TASTE_COLUMNS))
    assert happy.lookup(int(happy.ids[0])).valence > 0


def test_taste_distance_is_zero_for_the_seed_and_grows_with_difference(db: sqlite_utils.Database) -> None:
    def add(title: str, **taste: float) -> int:
        return upsert_track(db, title=title, artist="a", path=f"/m/{title}.ogg", valence=0.5, arousal=0.5, **taste)

    seed = add("seed", tempo=120.0, energy=0.8, acousticness=0.1, danceability=0.7, mode=1)
    add("twin", tempo=120.0, energy=0.8, acousticness=0.1, danceability=0.7, mode=1)
    add("faster", tempo=120.0 + 2 * TEMPO_SPAN, energy=0.8, acousticness=0.1, danceability=0.7, mode=1)
    add("opposite", tempo=40.0, energy=0.0, acousticness=1.0, danceability=0.0, mode=0)
    add("unknown")  # shares no taste feature with anyone
    candidates = Candidates.from_db(db)
    seed_track = get_track(db, seed)
    distance = dict(zip([get_track(db, int(i)).title for i in candidates.ids], candidates.taste_distance(seed_track),
                        strict=True))
    assert distance["seed"] == 0.0 and distance["twin"] == 0.0
    # tempo counts at most 1 however far apart; the other four parts agree: one fifth
    assert distance["faster"] == pytest.approx(1 / len(TASTE_COLUMNS))
    assert distance["faster"] < distance["opposite"] <= 1.0
    assert distance["opposite"] == pytest.approx(np.mean([1.0, 0.8, 0.9, 0.7, 1.0]))
    assert distance["unknown"] == 0.0
    featureless = get_track(db, int(candidates.ids[-1]))
    assert featureless.title == "unknown"
    assert candidates.taste_distance(featureless).tolist() == [0.0] * len(candidates)


def test_the_daemons_candidates_are_read_again_only_when_the_catalog_changes(
    tmp_path: Path, random_catalog: Fill
) -> None:
    path = tmp_path / "emotune.db"
    db = open_database(path)
    random_catalog(db, 20, seed=2)
    cache = CandidateCache(db)
    first = cache.get()
    assert cache.get() is first  # nothing changed: the same arrays
    other = open_database(path)  # e.g. 'emotune catalog scan' in another process
    upsert_track(other, title="new song", artist="x", path="/m/new.ogg", valence=0.9, arousal=0.9,
                 va_source="audio")
    second = cache.get()
    assert second is not first and len(second) == len(first) + 1
    other.execute("UPDATE tracks SET path = NULL WHERE title = 'new song'")
    other.conn.commit()
    assert len(cache.get()) == len(first)  # a file that went away is no longer offered
    assert cache.get() is cache.get()


def test_the_daemons_own_writes_do_not_make_it_read_the_catalog_again(
    db: sqlite_utils.Database, random_catalog: Fill
) -> None:
    random_catalog(db, 20, seed=5)
    cache = CandidateCache(db)
    first = cache.get()
    contract.write_status(db, emotion={"label": "sad"})  # what the daemon writes every few seconds
    contract.heartbeat(db)
    contract.set_camera_enabled(db, False)  # and what the phone page writes
    contract.push_command(db, contract.Command.SKIP)
    assert cache.get() is first
    db.execute("DELETE FROM tracks WHERE id = ?", [int(first.ids[0])])
    assert cache.get().ids.tolist() == first.ids.tolist()[1:]


def add_starter(db: sqlite_utils.Database, count: int) -> list[int]:
    """Rows as `emotune catalog starter` makes them: the collection STARTER, a file, a point."""
    return [upsert_track(db, title=f"Piece {i}", artist="emotune demo ensemble", path=f"/s/{i}.ogg", valence=0.1 * i,
                         arousal=-0.1 * i, va_source="audio", collection=STARTER) for i in range(count)]


def test_hidden_built_in_pieces_leave_the_candidates_only_once_the_listener_has_music(
    tmp_path: Path,
) -> None:
    path = tmp_path / "emotune.db"
    db = open_database(path)
    starter = add_starter(db, 4)
    upsert_track(db, title="Seed only", artist="x", valence=0.2, arousal=0.2)  # no file: cannot play
    cache = CandidateCache(db)
    assert cache.get().ids.tolist() == starter
    page = open_database(path)  # the phone page's connection
    contract.set_starter_hidden(page, True)
    assert contract.read_settings(db).starter_hidden is True
    assert cache.get().ids.tolist() == starter  # nothing else to play: the device never falls silent
    assert Candidates.from_db(db).ids.tolist() == starter
    own = upsert_track(page, title="My Song", artist="Me", path="/m/mine.ogg", valence=0.3, arousal=0.3,
                       va_source="audio")
    assert cache.get().ids.tolist() == [own]  # the catalog changed: read again, starter pieces out
    assert Candidates.from_db(db).ids.tolist() == [own]
    assert Candidates.from_db(db, hide_starter=False).ids.tolist() == [*starter, own]
    first = cache.get()
    contract.set_starter_hidden(page, False)  # only the setting changed, not the catalog
    assert cache.get().ids.tolist() == [*starter, own]
    contract.set_starter_hidden(page, True)
    assert cache.get().ids.tolist() == [own] and cache.get() is cache.get()
    assert first.ids.tolist() == [own]
    page.execute("UPDATE tracks SET path = NULL WHERE id = ?", [own])  # the listener's file went away
    assert cache.get().ids.tolist() == starter
