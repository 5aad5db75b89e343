"""The catalog's words, and the ones a typed word may be a slip for: the search's fuzzy fallback.

The words are FTS5's own (an fts5vocab view of tracks_fts), so a near word found here is one the index
can match. rapidfuzz measures the edit distance. Before it, two bounds that never drop a word within
reach narrow a large catalog's words to a few: the length (k edits change it by at most k) and the
characters (each character one word has and the other lacks costs an edit), the latter counted for every
word at once on bit planes held as Python integers, so the page needs no numpy. One Vocabulary is cached
per database file until the index changes.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import sqlite_utils
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

MOST_CLOSE = 8  # near words a typed word may stand for in one search


class Vocabulary:
    """The distinct words of the search index, shortest first, with their characters as bit planes."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.words = sorted(terms, key=len)
        self.known = set(self.words)
        self.lengths = [len(word) for word in self.words]
        # Plane b: one bit per word (bit i for words[i]) that is set when the word has a character hashed to b.
        planes = [bytearray((len(self.words) + 7) // 8) for _ in range(MASK_BITS)]
        for i, word in enumerate(self.words):
            for bit in _bits(_character_mask(word)):
                planes[bit][i >> 3] |= 1 << (i & 7)
        self.planes = [int.from_bytes(plane, "little") for plane in planes]

    def close_terms(self, word: str, most: int = MOST_CLOSE, widen_known: bool = False) -> list[str]:
        """The nearest catalog words within 1 edit (words of 4-6 letters) or 2 (longer); none for shorter.

        Only the nearest tier ("yesterdy" → "yesterday", not also "yesterdays"); within it, the words that
        share the most letter pairs with `word` first, then in code-point order; at most `most`. A word
        the catalog has is left alone unless `widen_known`.
        """
        if len(word) < 4 or (word in self.known and not widen_known):
            return []
        bound = 1 if len(word) <= 6 else 2
        start = bisect.bisect_left(self.lengths, len(word) - bound)
        end = bisect.bisect_right(self.lengths, len(word) + bound)
        candidates = [self.words[start + i] for i in self._reachable(_character_mask(word), bound, start, end)]
        matches = process.extract(word, candidates, scorer=Levenshtein.distance, score_cutoff=bound, limit=None)
        near = [(distance, term) for term, distance, _ in matches if distance > 0]
        if not near:
            return []
        best = min(distance for distance, _ in near)
        pairs = _letter_pairs(word)
        nearest = sorted((-len(pairs & _letter_pairs(term)), term) for distance, term in near if distance == best)
        return [term for _, term in nearest[:most]]

    def _reachable(self, mask: int, count: int, start: int, end: int) -> list[int]:
        """Offsets from `start` of the words in [start, end) that lack at most `count` of `mask`'s bits and
        have at most `count` bits it lacks: the only ones `count` edits may reach (each edit adds or drops
        one character). Counted for all words at once, one bit per word, by saturating bit-sliced counters."""
        span = (1 << (end - start)) - 1
        lacking, extra = [0] * (count + 1), [0] * (count + 1)  # [k]: words with more than k so far
        for bit in range(MASK_BITS):
            has = (self.planes[bit] >> start) & span
            differs, counter = (span & ~has, lacking) if mask >> bit & 1 else (has, extra)
            for k in range(count, 0, -1):
                counter[k] |= counter[k - 1] & differs
            counter[0] |= differs
        reachable = span & ~(lacking[count] | extra[count])
        digits = bin(reachable)[:1:-1]  # bit i of `reachable` is digits[i]
        found, at = [], digits.find("1")
        while at >= 0:
            found.append(at)
            at = digits.find("1", at + 1)
        return found


MASK_BITS = 32


def _character_mask(word: str) -> int:
    """One bit per character of `word` (its code point hashed into MASK_BITS bits; two characters may share
    a bit, which only ever lets more words through)."""
    mask = 0
    for char in word:
        mask |= 1 << ((ord(char) * 2654435761 >> 16) % MASK_BITS)
    return mask


def _bits(mask: int) -> list[int]:
    return [bit for bit in range(MASK_BITS) if mask >> bit & 1]


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
