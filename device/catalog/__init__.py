"""Tracks in the catalog: adding them, finding a seed song, listing what can be played."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from device.errors import CatalogError

# The identity and folding rules live in device.names; match_key and normalise are used from here.
from device.names import match_key as match_key
from device.names import normalise as normalise
from device.names import query_terms, search_text


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


# The collection of emotune's built-in pieces (device.demo.starter); the listener's music has none (NULL).
STARTER = "starter"
NOT_STARTER = "(collection IS NULL OR collection != 'starter')"


def upsert_track(db: sqlite_utils.Database, **fields: Any) -> int:
    """Insert or update a track identified by artist + title (+ its collection, if any); returns its id.

    The identity is device.names's match key: "Morning Train" by The Lowlands is the row that
    an import named "Morning Train - Remastered 2009"; the names last written are the ones shown.
    """
    title = (fields.get("title") or "").strip()
    if not title:
        raise CatalogError("a track needs a title")
    fields["title"] = title
    fields["artist"] = (fields.get("artist") or "").strip()
    key = match_key(fields["artist"], title, fields.get("collection"))
    existing = db.execute("SELECT id, album FROM tracks WHERE match_key = ?", [key]).fetchone()
    album = fields["album"] if "album" in fields else (existing[1] if existing else None)
    fields["search_text"] = search_text(title, fields["artist"], album)
    if existing:
        db.table("tracks").update(existing[0], fields)
        return int(existing[0])
    table = db.table("tracks").insert({**fields, "match_key": key, "added_at": time.time()})
    return int(table.last_rowid or 0)


def get_track(db: sqlite_utils.Database, track_id: int) -> Track | None:
    rows = list(db.table("tracks").rows_where("id = ?", [track_id]))
    return Track.from_row(rows[0]) if rows else None


# Tracks with a file and a point on the valence–arousal plane: what the recommender may pick.
PLAYABLE_WITH_POINT = "path IS NOT NULL AND path != '' AND valence IS NOT NULL AND arousal IS NOT NULL"


def playable_tracks(db: sqlite_utils.Database) -> list[Track]:
    """The playable tracks as Track objects (slow for large catalogs: see device.catalog.candidates)."""
    return [Track.from_row(r) for r in db.table("tracks").rows_where(PLAYABLE_WITH_POINT, order_by="id")]


def has_listener_music(db: sqlite_utils.Database) -> bool:
    """Whether the catalog holds at least one playable track of the listener's own (not a starter piece)."""
    sql = f"SELECT 1 FROM tracks WHERE {PLAYABLE_WITH_POINT} AND {NOT_STARTER} LIMIT 1"
    return db.execute(sql).fetchone() is not None


def count_starter(db: sqlite_utils.Database) -> int:
    """How many of emotune's built-in pieces are playable."""
    sql = f"SELECT count(*) FROM tracks WHERE {PLAYABLE_WITH_POINT} AND collection = ?"
    return int(db.execute(sql, [STARTER]).fetchone()[0])


FUZZY_BELOW = 3  # exact matches enough to trust what was typed


def _run_match(db: sqlite_utils.Database, query: str, limit: int) -> list[Track]:
    sql = (
        "SELECT tracks.* FROM tracks JOIN tracks_fts ON tracks.rowid = tracks_fts.rowid "
        "WHERE tracks_fts MATCH ? ORDER BY bm25(tracks_fts) LIMIT ?"
    )
    cursor = db.execute(sql, [query, limit])
    columns = [c[0] for c in cursor.description]
    return [Track.from_row(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]


def search(db: sqlite_utils.Database, text: str, limit: int = 10) -> list[Track]:
    """Tracks whose title/artist/album match `text`, best first; prefix and typo tolerant.

    First every word as a prefix (FTS5, ranked by bm25), folded as the catalog's names are
    (device.names: "beyonce" finds "Beyoncé", "tikhaya" finds "Тихая", "の歌" finds "夜明けの歌",
    "ft." is "feat."). When that finds fewer than FUZZY_BELOW rows, further passes let each word also
    stand for catalog words within a small edit distance ("beatls" → "beatles"); their rows come after
    the exact ones. A word of a script without spaces is a phrase of its characters and is not widened.
    """
    words, found = _exact(db, text, limit)
    if not words or len(found) >= min(limit, FUZZY_BELOW):
        return found
    vocabulary = _vocabulary(db)
    seen = {t.id for t in found}
    previous = ""
    # Pass 1 widens only words the catalog does not have; pass 2, when still nothing matched, also
    # real words that may be slips ("ariana grade" → "grande").
    for widen_known in (False, True):
        if widen_known and found:
            break  # the costlier pass only when nothing at all was found
        groups = []
        for word in words:
            close = [] if " " in word else vocabulary.close_terms(word, widen_known=widen_known)
            groups.append("(" + " OR ".join([f'"{word}"*', *(f'"{t}"' for t in close)]) + ")")
        query = " AND ".join(groups)
        if query == previous or all(g.endswith('*)') for g in groups):
            continue  # nothing to widen
        previous = query
        for track in _run_match(db, query, limit):
            if track.id not in seen and len(found) < limit:
                found.append(track)
                seen.add(track.id)
        if len(found) >= limit:
            break
    return found


def _exact(db: sqlite_utils.Database, text: str, limit: int) -> tuple[list[str], list[Track]]:
    """The search's words and what they find as prefixes; "Song ft. X" finds "Song" when nothing names X."""
    words = query_terms(text)
    found = _run_match(db, _prefixes(words), limit) if words else []
    if words and not found and (main := query_terms(text, featured=False)):
        words = main
        found = _run_match(db, _prefixes(words), limit)
    return words, found


def _prefixes(words: list[str]) -> str:
    """An FTS5 query: every word (or phrase of characters) as a prefix."""
    return " ".join(f'"{w}"*' for w in words)


def _edit_distance(a: str, b: str, bound: int) -> int:
    """Levenshtein distance of a and b, or bound + 1 once it is known to exceed `bound`."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    start = 0  # a shared prefix and suffix cost nothing: only the differing middle needs the table
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end = 0
    while end < len(a) - start and end < len(b) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start : len(a) - end], b[start : len(b) - end]
    if not a or not b:
        return max(len(a), len(b))
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > bound:
            return bound + 1
        previous = current
    return previous[-1]


def _bigrams(word: str) -> set[str]:
    padded = f"^{word}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


class _Vocabulary:
    """The distinct words of the FTS index with a bigram index, for finding near misses quickly."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms
        self.known = set(terms)
        self.gram_counts: list[int] = []
        self.index: dict[tuple[str, int], list[int]] = {}  # (bigram, word length) → word numbers
        for number, term in enumerate(terms):
            grams = _bigrams(term)
            self.gram_counts.append(len(grams))
            for gram in grams:
                self.index.setdefault((gram, len(term)), []).append(number)

    def close_terms(self, word: str, most: int = 8, widen_known: bool = False) -> list[str]:
        """The nearest catalog words within 1 edit (words of 4-6 letters) or 2 (longer); none for shorter.

        A word the catalog has is left alone unless `widen_known`.
        """
        if len(word) < 4 or (word in self.known and not widen_known):
            return []
        bound = 1 if len(word) <= 6 else 2
        grams = _bigrams(word)
        shared: Counter[int] = Counter()
        for length in range(len(word) - bound, len(word) + bound + 1):
            for gram in grams:
                shared.update(self.index.get((gram, length), ()))
        # An edit changes at most two bigrams of either word, so close words share most of them.
        needed = max(1, len(grams) - 2 * bound)
        counts = self.gram_counts
        scored = []
        for number, count in shared.items():
            if count < needed or count < counts[number] - 2 * bound:
                continue
            term = self.terms[number]
            distance = _edit_distance(word, term, bound)
            if 0 < distance <= bound:
                scored.append((distance, -count, term))
        if not scored:
            return []
        best = min(distance for distance, _, _ in scored)  # only the nearest tier: "yesterdy" → "yesterday"
        return [term for distance, _, term in sorted(scored) if distance == best][:most]


_VOCABULARY_CACHE: dict[str, tuple[bytes, _Vocabulary]] = {}


def _vocabulary(db: sqlite_utils.Database) -> _Vocabulary:
    """The catalog's words, cached per database file until any connection changes the FTS index.

    The stamp is the FTS5 index's structure record (row 10 of tracks_fts_data), which SQLite rewrites on
    every change to the index, so the page (a connection per request) and the CLI share one cache rule.
    """
    name = db.execute("PRAGMA database_list").fetchone()[2] or f"memory:{id(db.conn)}"
    row = db.execute("SELECT block FROM tracks_fts_data WHERE id = 10").fetchone()
    stamp = bytes(row[0]) if row else b""
    cached = _VOCABULARY_CACHE.get(name)
    if cached and cached[0] == stamp:
        return cached[1]
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.tracks_fts_terms USING fts5vocab(main, tracks_fts, row)")
    terms = [r[0] for r in db.execute("SELECT term FROM temp.tracks_fts_terms").fetchall()]
    vocabulary = _Vocabulary(terms)
    if len(_VOCABULARY_CACHE) > 4:  # a few catalogs per process at most (tests); never grow without bound
        _VOCABULARY_CACHE.clear()
    _VOCABULARY_CACHE[name] = (stamp, vocabulary)
    return vocabulary


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
    playable = db.execute(f"SELECT count(*) FROM tracks WHERE {PLAYABLE_WITH_POINT}").fetchone()[0]
    return {"tracks": total, "playable": playable}


def catalog_stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """Counts for `emotune catalog stats`: by va_source, playable, with features, the last import."""
    counts: dict[str, Any] = count_tracks(db)
    by_source = db.execute(
        "SELECT coalesce(va_source, 'none'), count(*) FROM tracks GROUP BY 1 ORDER BY 2 DESC"
    ).fetchall()
    counts["by_va_source"] = {source: n for source, n in by_source}
    counts["with_features"] = db.execute(
        "SELECT count(*) FROM tracks WHERE feature_valence IS NOT NULL AND energy IS NOT NULL"
    ).fetchone()[0]
    counts["with_point"] = db.execute(
        "SELECT count(*) FROM tracks WHERE valence IS NOT NULL AND arousal IS NOT NULL"
    ).fetchone()[0]
    counts["analysed"] = db.execute("SELECT count(*) FROM tracks WHERE analysed_at IS NOT NULL").fetchone()[0]
    counts["starter"] = db.execute("SELECT count(*) FROM tracks WHERE collection = ?", [STARTER]).fetchone()[0]
    last = list(db.table("imports").rows_where("kind != 'scan'", order_by="id DESC", limit=1))
    counts["last_import"] = last[0] if last else None
    scans = list(db.table("imports").rows_where("kind = 'scan'", order_by="id DESC", limit=1))
    counts["last_scan"] = scans[0] if scans else None
    return counts
