"""The catalog's words, and the ones a typed word may be a slip for: the search's fuzzy fallback.

The words are FTS5's own (an fts5vocab view of tracks_fts), so a near word found here is one the index
can match. rapidfuzz measures the edit distance. Before it, two bounds that never drop a word within
reach narrow a large catalog's words to a few: the length (k edits change it by at most k) and the
characters (each character of one word that the other lacks costs an edit), the latter as 32-bit masks
compared by numpy. One Vocabulary is cached per database file until the index changes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import sqlite_utils
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

MOST_CLOSE = 8  # near words a typed word may stand for in one search


class Vocabulary:
    """The distinct words of the search index, shortest first, each with a mask of its characters."""

    def __init__(self, terms: Iterable[str]) -> None:
        words = sorted(terms, key=len)
        self.known = set(words)
        self.words = np.array(words, dtype=object)
        self.lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        self.masks = _character_masks(words)

    def close_terms(self, word: str, most: int = MOST_CLOSE, widen_known: bool = False) -> list[str]:
        """The nearest catalog words within 1 edit (words of 4-6 letters) or 2 (longer); none for shorter.

        Only the nearest tier ("yesterdy" → "yesterday", not also "yesterdays"); within it, the words that
        share the most letter pairs with `word` first, then in code-point order; at most `most`. A word
        the catalog has is left alone unless `widen_known`.
        """
        if len(word) < 4 or (word in self.known and not widen_known):
            return []
        bound = 1 if len(word) <= 6 else 2
        start, end = np.searchsorted(self.lengths, [len(word) - bound, len(word) + bound + 1])
        reachable = _differ_by_at_most(self.masks[start:end], _character_masks([word])[0], bound)
        candidates = self.words[start:end][reachable].tolist()
        matches = process.extract(word, candidates, scorer=Levenshtein.distance, score_cutoff=bound, limit=None)
        near = [(distance, term) for term, distance, _ in matches if distance > 0]
        if not near:
            return []
        best = min(distance for distance, _ in near)
        pairs = _letter_pairs(word)
        nearest = sorted((-len(pairs & _letter_pairs(term)), term) for distance, term in near if distance == best)
        return [term for _, term in nearest[:most]]


def _character_masks(words: list[str]) -> np.ndarray:
    """(len(words),) uint32: per word, one bit for each of its characters (a hash of the code point into
    32 bits; two characters may share a bit, which only ever lets more words through)."""
    if not words:
        return np.zeros(0, dtype=np.uint32)
    codes = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    bits = np.left_shift(1, (codes * 2654435761 >> 16) & 31).astype(np.uint32)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    starts = np.concatenate(([0], np.cumsum(lengths[:-1])))
    return np.bitwise_or.reduceat(bits, starts)


def _differ_by_at_most(masks: np.ndarray, mask: np.uint32, count: int) -> np.ndarray:
    """(n,) bool: whether each of `masks` lacks at most `count` of the bits of `mask` and has at most
    `count` bits that `mask` lacks: the words that `count` edits may still reach."""
    lacking, extra = mask & ~masks, masks & ~mask
    lowest = np.empty_like(masks)
    for bits in (lacking, extra):
        # Each round clears every mask's lowest set bit, in place: a large catalog has 100,000s of words.
        for _ in range(count):
            np.subtract(bits, 1, out=lowest)
            bits &= lowest
    return (lacking | extra) == 0


def _letter_pairs(word: str) -> set[str]:
    """The word's bigrams, its start and end marked ("^a", "ab", "b$"): how alike two equally near words look."""
    padded = f"^{word}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


_CACHE: dict[str, tuple[bytes, Vocabulary]] = {}


def vocabulary(db: sqlite_utils.Database) -> Vocabulary:
    """The catalog's words, cached per database file until any connection changes the FTS index.

    The stamp is the FTS5 index's structure record (row 10 of tracks_fts_data), which SQLite rewrites on
    every change to the index, so the page (a connection per request) and the CLI share one cache rule.
    """
    name = db.execute("PRAGMA database_list").fetchone()[2] or f"memory:{id(db.conn)}"
    row = db.execute("SELECT block FROM tracks_fts_data WHERE id = 10").fetchone()
    stamp = bytes(row[0]) if row else b""
    cached = _CACHE.get(name)
    if cached and cached[0] == stamp:
        return cached[1]
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.tracks_fts_terms USING fts5vocab(main, tracks_fts, row)")
    words = Vocabulary(r[0] for r in db.execute("SELECT term FROM temp.tracks_fts_terms").fetchall())
    if len(_CACHE) > 4:  # a few catalogs per process at most (tests); never grow without bound
        _CACHE.clear()
    _CACHE[name] = (stamp, words)
    return words
