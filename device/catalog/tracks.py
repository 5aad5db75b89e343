"""A track in the catalog: the Track model, adding or updating one row, and which rows can be played.

A track is identified by device.names's match key (artist + title, + its collection if any), so every
writer (import, scan, the starter catalog) upserts the same row for the same song. Playable means a
file and a point on the valence–arousal plane: the SQL for that is here, so every reader agrees.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from device.errors import CatalogError
from device.names import match_key, search_text

# The collection of emotune's built-in pieces (device.catalog.starter); the listener's music has none (NULL).
STARTER = "starter"
NOT_STARTER = "(collection IS NULL OR collection != 'starter')"

# Tracks with a file and a point on the valence–arousal plane: what the recommender may pick.
PLAYABLE_WITH_POINT = "path IS NOT NULL AND path != '' AND valence IS NOT NULL AND arousal IS NOT NULL"


@dataclass(frozen=True)
class Track:
    id: int
    title: str
    artist: str
    valence: float | None
    arousal: float | None
    va_source: str | None
    path: str | None = None
    album: str = ""
    duration_s: float | None = None
    energy: float | None = None
    tempo: float | None = None
    mode: int | None = None
    acousticness: float | None = None
    danceability: float | None = None
    feature_valence: float | None = None  # Spotify valence, 0..1 (the plane's valence is `valence`)
    instrumentalness: float | None = None
    speechiness: float | None = None
    liveness: float | None = None
    loudness: float | None = None
    key: int | None = None
    time_signature: int | None = None
    popularity: float | None = None
    tags: str | None = None
    genre: str | None = None
    provenance: str | None = None
    collection: str | None = None  # None: the listener's music; STARTER: emotune's built-in pieces
    va_confidence: float | None = None  # the music emotion model's P(quadrant right), for audio-placed points
    start_s: float | None = None  # a cue sheet's track: where in its file it starts (None: the whole file)
    end_s: float | None = None  # and ends (None: at the file's end)

    @property
    def playable(self) -> bool:
        """Whether the daemon can play it: a file, and a point on the plane (a silent file has none)."""
        return bool(self.path) and self.valence is not None and self.arousal is not None

    @property
    def starter(self) -> bool:
        return self.collection == STARTER

    def describe(self) -> str:
        return f"{self.title} — {self.artist}" if self.artist else self.title

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Track:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in row.items() if k in fields and k != "album"}, album=row.get("album") or "")


def write_track(db: sqlite_utils.Database, track_id: int | None, **fields: Any) -> int:
    """Update the track `track_id` with `fields` (None: insert a new one); its match key and search text
    follow its names. Returns its id. Raises CatalogError when the title is empty."""
    title = (fields.get("title") or "").strip()
    if not title:
        raise CatalogError("a track needs a title")
    fields["title"] = title
    fields["artist"] = (fields.get("artist") or "").strip()
    fields["match_key"] = match_key(fields["artist"], title, fields.get("collection"))
    album = fields.get("album")
    if track_id is not None and "album" not in fields:
        row = db.execute("SELECT album FROM tracks WHERE id = ?", [track_id]).fetchone()
        album = row[0] if row else None
    fields["search_text"] = search_text(title, fields["artist"], album)
    if track_id is not None:
        db.table("tracks").update(track_id, fields)
        return track_id
    table = db.table("tracks").insert({**fields, "added_at": time.time()})
    return int(table.last_rowid or 0)


def upsert_track(db: sqlite_utils.Database, **fields: Any) -> int:
    """Insert or update the (first) track named artist + title (+ its collection, if any); returns its id.
    Scanned files are recordings and are written by `write_track` (device.catalog.recordings).

    The identity is device.names's match key: "Morning Train" by The Lowlands is the row that
    an import named "Morning Train - Remastered 2009"; the names last written are the ones shown.
    Raises CatalogError when the title is empty.
    """
    title, artist = (fields.get("title") or "").strip(), (fields.get("artist") or "").strip()
    existing = db.execute("SELECT id FROM tracks WHERE match_key = ?",
                          [match_key(artist, title, fields.get("collection"))]).fetchone()
    return write_track(db, int(existing[0]) if existing else None, **fields)


def get_track(db: sqlite_utils.Database, track_id: int) -> Track | None:
    """The track with this id, or None when there is none."""
    rows = list(db.table("tracks").rows_where("id = ?", [track_id]))
    return Track.from_row(rows[0]) if rows else None


def has_listener_music(db: sqlite_utils.Database) -> bool:
    """Whether the catalog holds at least one playable track of the listener's own (not a starter piece)."""
    sql = f"SELECT 1 FROM tracks WHERE {PLAYABLE_WITH_POINT} AND {NOT_STARTER} LIMIT 1"
    return db.execute(sql).fetchone() is not None


def count_starter(db: sqlite_utils.Database) -> int:
    """How many of emotune's built-in pieces are playable."""
    sql = f"SELECT count(*) FROM tracks WHERE {PLAYABLE_WITH_POINT} AND collection = ?"
    return int(db.execute(sql, [STARTER]).fetchone()[0])
