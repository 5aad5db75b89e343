"""Tracks in the catalog: adding them, finding a seed song, listing what can be played."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from device.errors import CatalogError


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

    @property
    def playable(self) -> bool:
        return bool(self.path)

    def describe(self) -> str:
        return f"{self.title} — {self.artist}" if self.artist else self.title

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Track:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in row.items() if k in fields and k != "album"}, album=row.get("album") or "")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed: 'Beyoncé!' → 'beyonce'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", text.lower())).strip()


def match_key(artist: str, title: str) -> str:
    return f"{normalise(artist)}|{normalise(title)}"


def upsert_track(db: sqlite_utils.Database, **fields: Any) -> int:
    """Insert or update a track identified by artist + title; returns its id."""
    title = (fields.get("title") or "").strip()
    if not title:
        raise CatalogError("a track needs a title")
    fields["title"] = title
    fields["artist"] = (fields.get("artist") or "").strip()
    key = match_key(fields["artist"], title)
    existing = db.execute("SELECT id FROM tracks WHERE match_key = ?", [key]).fetchone()
    if existing:
        db.table("tracks").update(existing[0], fields)
        return int(existing[0])
    table = db.table("tracks").insert({**fields, "match_key": key, "added_at": time.time()})
    return int(table.last_rowid or 0)


def get_track(db: sqlite_utils.Database, track_id: int) -> Track | None:
    rows = list(db.table("tracks").rows_where("id = ?", [track_id]))
    return Track.from_row(rows[0]) if rows else None


def playable_tracks(db: sqlite_utils.Database) -> list[Track]:
    """Tracks with a file and a point on the valence–arousal plane: what the recommender may pick."""
    where = "path IS NOT NULL AND path != '' AND valence IS NOT NULL AND arousal IS NOT NULL"
    return [Track.from_row(r) for r in db.table("tracks").rows_where(where, order_by="id")]


def search(db: sqlite_utils.Database, text: str, limit: int = 10) -> list[Track]:
    """Tracks whose title/artist/album match every word of `text` (word prefixes), best first."""
    words = normalise(text).split()
    if not words:
        return []
    query = " ".join(f'"{w}"*' for w in words)
    sql = (
        "SELECT tracks.* FROM tracks JOIN tracks_fts ON tracks.rowid = tracks_fts.rowid "
        "WHERE tracks_fts MATCH ? ORDER BY bm25(tracks_fts) LIMIT ?"
    )
    cursor = db.execute(sql, [query, limit])
    columns = [c[0] for c in cursor.description]
    return [Track.from_row(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]


def find_seed(db: sqlite_utils.Database, text: str) -> Track:
    """The catalog row a listener meant by `text`; a clear error when nothing matches."""
    found = search(db, text, limit=1)
    if not found:
        count = db.table("tracks").count
        raise CatalogError(
            f"no song in the catalog matches {text!r} ({count} tracks); try fewer words or check the spelling"
        )
    return found[0]


def count_tracks(db: sqlite_utils.Database) -> dict[str, int]:
    total = db.table("tracks").count
    playable = db.execute("SELECT count(*) FROM tracks WHERE path IS NOT NULL AND path != ''").fetchone()[0]
    return {"tracks": total, "playable": playable}
