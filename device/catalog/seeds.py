"""A seed song without a point of its own, and the listener's file of that song that has one.

A seed can be a row that only names a song (a spreadsheet's title without audio features, a file not
placed): nothing is known of its mood. When the catalog holds the listener's own playable file of the
same song with a point, a decision reads the seed as that file (`same_song`). The same song is the row
with the same match key (device.names: primary artist and bare title), as the importers and the scan
join a table's row to a file; among several files, the seed's album first, then one placed by its own
audio, then the oldest. Otherwise the seed stays pointless, and is never given a mood (device.recommend).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from device.catalog.tracks import NOT_STARTER, PLAYABLE_WITH_POINT, Track
from device.names import match_key, normalise, query_terms

SEARCHED = 50  # rows of the word index looked through for the seed's song


def has_point(track: Track | None) -> bool:
    """Whether the track has a point on the plane: a mood known."""
    return track is not None and track.valence is not None and track.arousal is not None


def song_key(track: Track) -> str:
    """The seed's song as the catalog joins rows and files: its match key (device.names)."""
    return match_key(track.artist, track.title, track.collection)


def same_song(db: sqlite_utils.Database, seed: Track) -> Track | None:
    """The listener's own playable file of the seed's song, with a point (not the seed's own row, not a
    built-in piece); None when the catalog has none. Two indexed queries: the stored key, then the word
    index for rows whose stored key is not their names' own (a row the schema-6 migration set aside as
    "key#id", a recording told apart from its song), checked against the names' key."""
    key = song_key(seed)
    where = f"{PLAYABLE_WITH_POINT} AND {NOT_STARTER} AND id != ?"
    found = _tracks(db, f"SELECT * FROM tracks WHERE match_key = ? AND {where}", [key, seed.id])
    words = query_terms(key.replace("|", " "))
    if not found and words:  # every word of the key, as a whole word (no prefixes, no typos: it is no search)
        match = " ".join(f'"{word}"' for word in words)
        found = _tracks(db, "SELECT tracks.* FROM tracks JOIN tracks_fts ON tracks.rowid = tracks_fts.rowid "
                            f"WHERE tracks_fts MATCH ? AND {where} LIMIT ?", [match, seed.id, SEARCHED])
    return same_song_among(found, seed)


def _tracks(db: sqlite_utils.Database, sql: str, parameters: list[object]) -> list[Track]:
    cursor = db.execute(sql, parameters)
    columns = [c[0] for c in cursor.description]
    return [Track.from_row(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]


def same_song_among(tracks: Iterable[Track], seed: Track) -> Track | None:
    """Of `tracks`, the listener's own playable one of the seed's song with a point, or None."""
    key = song_key(seed)
    album = normalise(seed.album)
    matches = [t for t in tracks if t.id != seed.id and t.playable and not t.starter and song_key(t) == key]
    if not matches:
        return None
    return min(matches, key=lambda t: (not album or normalise(t.album) != album, t.va_source != "audio", t.id))
