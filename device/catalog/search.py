"""Finding tracks by what someone typed: the phone page's search, `emotune catalog search`, the seed song.

Every typed word is first a prefix in SQLite's FTS5 index (ranked by bm25), folded as the catalog's
names are (device.names). Only when that finds too little are words widened to the catalog words a
slip away from them (device.catalog.vocabulary), so the common case costs one indexed query.
"""

from __future__ import annotations

import sqlite_utils

from device.catalog.tracks import Track
from device.errors import CatalogError
from device.names import query_terms
from device.store import CREDIT_COLUMNS, FTS_COLUMNS

FUZZY_BELOW = 3  # exact matches enough to trust what was typed
# bm25's weight of a word found in each indexed column: a song's own names before its credits (another
# artist of it, its composer, its work), so "Bach" lists Bach's songs before songs he composed.
CREDIT_WEIGHT = 0.5
_WEIGHTS = ", ".join(str(CREDIT_WEIGHT if column in CREDIT_COLUMNS else 1.0) for column in FTS_COLUMNS)


def search(db: sqlite_utils.Database, text: str, limit: int = 10) -> list[Track]:
    """Tracks whose names match `text`, best first (at most `limit`); prefix and typo tolerant. The names:
    title, artist, album, and the credits a file's tags give (every artist, composers, works; weighed less).

    First every word as a prefix (FTS5, ranked by bm25), folded as the catalog's names are
    (device.names: "beyonce" finds "Beyoncé", "tikhaya" finds "Тихая", "の歌" finds "夜明けの歌",
    "ft." is "feat."). When that finds fewer than FUZZY_BELOW rows, further passes let each word also
    stand for catalog words within a small edit distance ("beatls" → "beatles"); their rows come after
    the exact ones. A word of a script without spaces is a phrase of its characters and is not widened.
    """
    words, found = _exact(db, text, limit)
    if not words or len(found) >= min(limit, FUZZY_BELOW):
        return found
    # Loaded only here: most searches never need the catalog's words (nor rapidfuzz).
    from device.catalog.vocabulary import vocabulary

    words_near = vocabulary(db).close_terms
    seen = {t.id for t in found}
    previous = ""
    # Pass 1 widens only words the catalog does not have; pass 2, when still nothing matched, also
    # real words that may be slips ("ariana grade" → "grande").
    for widen_known in (False, True):
        if widen_known and found:
            break  # the costlier pass only when nothing at all was found
        groups = []
        for word in words:
            close = [] if " " in word else words_near(word, widen_known=widen_known)
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


def find_seed(db: sqlite_utils.Database, text: str) -> Track:
    """The catalog row a listener meant by `text`; CatalogError (one line, what to try) when nothing matches."""
    found = search(db, text, limit=1)
    if not found:
        count = db.table("tracks").count
        raise CatalogError(
            f"no song in the catalog matches {text!r} ({count} tracks); try fewer words or check the spelling"
        )
    return found[0]


def _run_match(db: sqlite_utils.Database, query: str, limit: int) -> list[Track]:
    sql = (
        "SELECT tracks.* FROM tracks JOIN tracks_fts ON tracks.rowid = tracks_fts.rowid "
        f"WHERE tracks_fts MATCH ? ORDER BY bm25(tracks_fts, {_WEIGHTS}) LIMIT ?"
    )
    cursor = db.execute(sql, [query, limit])
    columns = [c[0] for c in cursor.description]
    return [Track.from_row(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]


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
