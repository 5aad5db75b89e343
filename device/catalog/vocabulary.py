"""The catalog's words, and the ones a typed word may be a slip for: the search's fuzzy fallback.

The words are FTS5's own (an fts5vocab view of tracks_fts); rapidfuzz measures the edit distance after
two bounds that never drop a word within reach narrow them: the length and the characters (counted for
all words at once on bit planes held as Python integers; no numpy in the page). The words are one joined
string grouped by length (about 10 bytes a word). One Vocabulary is shared per database file by every
thread of a process; after the index changes it is rebuilt in the background, at most once per
`rebuild_gap_s`, the old one serving meanwhile (a word only just imported may miss the widening).
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlite_utils
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

logger = logging.getLogger(__name__)

MOST_CLOSE = 8  # near words a typed word may stand for in one search
MASK_BITS = 32
_CHUNK = 4096  # words gathered per length before they are joined (a build never holds them all as str)


class Vocabulary:
    """The distinct words of the search index, by length then code point, with their characters as bit
    planes. Read-only once built, so any number of threads may share one."""

    def __init__(self, terms: Iterable[str]) -> None:
        runs: dict[int, list[str]] = {}  # length → joined sorted runs of that length's words
        pending: dict[int, list[str]] = {}
        ordered: dict[int, bool] = {}  # whether that length's runs follow one another (fts5vocab's order)
        last: dict[int, str] = {}

        def flush(length: int) -> None:
            words = sorted(set(pending.pop(length)))
            ordered[length] = ordered.get(length, True) and (length not in last or last[length] < words[0])
            last[length] = words[-1]
            runs.setdefault(length, []).append("".join(words))

        for term in terms:
            length = len(term)
            if length == 0:
                continue
            batch = pending.setdefault(length, [])
            batch.append(term)
            if len(batch) >= _CHUNK:
                flush(length)
        for length in list(pending):
            flush(length)
        longest = max(runs, default=0)
        # first[n]: index of the first word of n letters or more; at[n]: where in `text` the n-letter ones start.
        self.first = [0] * (longest + 2)
        self.at = [0] * (longest + 2)
        parts: list[str] = []
        for n in range(1, longest + 1):
            joined = "".join(runs.pop(n, []))
            if not ordered.get(n, True):  # terms in no particular order (tests): sort this length's words
                joined = "".join(sorted({joined[i : i + n] for i in range(0, len(joined), n)}))
            parts.append(joined)
            self.first[n + 1] = self.first[n] + len(joined) // n
            self.at[n + 1] = self.at[n] + len(joined)
        self.text = "".join(parts)
        del parts
        self.count = self.first[longest + 1]
        self.planes = self._planes()

    def word(self, index: int) -> str:
        """The word at `index` (0 ≤ index < count)."""
        n = bisect.bisect_right(self.first, index) - 1
        start = self.at[n] + (index - self.first[n]) * n
        return self.text[start : start + n]

    def __contains__(self, word: str) -> bool:
        n = len(word)
        if not 0 < n < len(self.first) - 1:
            return False
        low, high = self.first[n], self.first[n + 1]
        found = bisect.bisect_left(range(low, high), word, key=self.word) + low
        return found < high and self.word(found) == word

    def close_terms(self, word: str, most: int = MOST_CLOSE, widen_known: bool = False) -> list[str]:
        """The nearest catalog words within 1 edit (words of 4-6 letters) or 2 (longer); none for shorter.

        Only the nearest tier ("yesterdy" → "yesterday", not also "yesterdays"); within it, the words that
        share the most letter pairs with `word` first, then in code-point order; at most `most`. A word
        the catalog has is left alone unless `widen_known`.
        """
        if len(word) < 4 or (not widen_known and word in self):
            return []
        bound = 1 if len(word) <= 6 else 2
        mask, candidates = _character_mask(word), []
        for n in range(max(1, len(word) - bound), min(len(word) + bound, len(self.first) - 2) + 1):
            at, text = self.at[n], self.text
            found = self._reachable(mask, bound, self.first[n], self.first[n + 1])
            candidates += [text[at + i * n : at + i * n + n] for i in found]
        matches = process.extract(word, candidates, scorer=Levenshtein.distance, score_cutoff=bound, limit=None)
        near = [(distance, term) for term, distance, _ in matches if distance > 0]
        if not near:
            return []
        best = min(distance for distance, _ in near)
        pairs = _letter_pairs(word)
        nearest = sorted((-len(pairs & _letter_pairs(term)), term) for distance, term in near if distance == best)
        return [term for _, term in nearest[:most]]

    def _planes(self) -> list[int]:
        """Plane b: an integer with bit i set when word i has a character hashed to bit b (_character_mask).
        Made a column at a time, not a word at a time: the k-th characters of one length's words are one
        slice of `text`, translated in C to "0"/"1" digits and read as a base-2 integer."""
        to_bit = str.maketrans({char: chr(_character_bit(char)) for char in set(self.text)})
        digits = [bytes(0x31 if value == bit else 0x30 for value in range(256)) for bit in range(MASK_BITS)]
        planes = [0] * MASK_BITS
        for n in range(1, len(self.first) - 1):
            bits = self.text[self.at[n] : self.at[n + 1]].translate(to_bit).encode("latin-1")
            if not bits:
                continue
            columns = [bits[k::n] for k in range(n)]
            for bit in range(MASK_BITS):
                plane = 0
                for column in columns:
                    plane |= int(column.translate(digits[bit])[::-1], 2)
                planes[bit] |= plane << self.first[n]
        return planes

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


def _character_bit(char: str) -> int:
    return (ord(char) * 2654435761 >> 16) % MASK_BITS


def _character_mask(word: str) -> int:
    """One bit per character of `word` (its code point hashed into MASK_BITS bits; two characters may share
    a bit, which only ever lets more words through)."""
    mask = 0
    for char in word:
        mask |= 1 << _character_bit(char)
    return mask


def _letter_pairs(word: str) -> set[str]:
    """The word's bigrams, its start and end marked ("^a", "ab", "b$"): how alike two equally near words look."""
    padded = f"^{word}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


# --- one Vocabulary per database file, shared by the process's threads -------------------------------

MIN_REBUILD_GAP_S = 30.0  # at least this long between two builds while the index keeps changing...
REBUILD_GAP_BUILDS = 10  # ...and at least this many times the last build's duration
SETTLE_S = 5.0  # the index unchanged this long: an import or scan is over, time to rebuild
# A vocabulary of fewer words is rebuilt at once on a change, in the calling thread: it takes tens of
# milliseconds (a small catalog; the tests), and being current is then worth more than the time.
SMALL_WORDS = 10_000

_clock: Callable[[], float] = time.monotonic  # tests put a clock of their own here


@dataclass
class _Shared:
    """One database file's vocabulary and what decides when it is rebuilt (times: _clock seconds)."""

    words: Vocabulary | None = None
    stamp: bytes | None = None  # the index's structure record, read just before `words`
    built_at: float = 0.0  # when the last build ended
    build_s: float = 0.0
    stale_since: float | None = None  # when a search first saw the index changed since the build
    newest: bytes | None = None  # the newest stamp a search saw...
    newest_at: float = 0.0  # ...first seen then
    building: bool = False

    def due(self, now: float) -> bool:
        """Whether stale words should be rebuilt now: not within rebuild_gap_s of the last build, and
        then once the index has not changed for SETTLE_S or has been stale for rebuild_gap_s."""
        if self.words is None or self.words.count < SMALL_WORDS:
            return True
        gap = rebuild_gap_s(self.build_s)
        settled = now - self.newest_at >= SETTLE_S
        stale_s = 0.0 if self.stale_since is None else now - self.stale_since
        return now - self.built_at >= gap and (settled or stale_s >= gap)


def rebuild_gap_s(build_s: float) -> float:
    """The least time in seconds between two builds of a changing catalog's vocabulary that took `build_s`."""
    return max(MIN_REBUILD_GAP_S, REBUILD_GAP_BUILDS * build_s)


_LOCK = threading.Lock()
_BUILT = threading.Condition(_LOCK)  # notified when a build ends (or fails)
_SHARED: dict[str, _Shared] = {}
builds = 0  # how many vocabularies this process has built (tests count them)


def vocabulary(db: sqlite_utils.Database) -> Vocabulary:
    """The catalog's words, shared by every thread of this process that reads the same database file.

    The first call builds them; a thread that asks meanwhile waits for that build, never makes its own.
    Once any connection has changed the FTS index (its structure record, row 10 of tracks_fts_data,
    differs from the one read before the build), the old Vocabulary is still returned while one
    background thread builds the new one: not within rebuild_gap_s of the last build, and only once the
    index has not changed for SETTLE_S or has been stale for rebuild_gap_s (an import still running). The
    exact prefix search reads the index itself, so only the typo widening misses the newest words. Under
    SMALL_WORDS words (and for an in-memory database) the rebuild is at once, in the calling thread.
    sqlite3.Error from a build in the calling thread propagates; a failed background one is logged and
    the old words kept.
    """
    name = db.execute("PRAGMA database_list").fetchone()[2] or f"memory:{id(db.conn)}"
    stamp = _stamp(db.conn)
    with _LOCK:
        shared = _SHARED.setdefault(name, _Shared())
        while shared.words is None and shared.building:
            _BUILT.wait()
        if shared.words is not None:
            if stamp == shared.stamp:
                return shared.words
            now = _clock()
            if shared.stale_since is None:
                shared.stale_since = now
            if stamp != shared.newest:
                shared.newest, shared.newest_at = stamp, now
            if shared.building or not shared.due(now):
                return shared.words
            if shared.words.count >= SMALL_WORDS and not name.startswith("memory:"):
                shared.building = True
                threading.Thread(target=_rebuild, args=(name, shared), name="vocabulary", daemon=True).start()
                return shared.words
        shared.building = True
        if len(_SHARED) > 4:  # a few catalogs per process at most (tests); never grow without bound
            for other in [n for n, s in _SHARED.items() if n != name and not s.building]:
                del _SHARED[other]
    try:
        return _build(db.conn, shared)
    finally:
        with _LOCK:
            shared.building = False
            _BUILT.notify_all()


def _rebuild(name: str, shared: _Shared) -> None:
    """Build `shared`'s words again on a connection of this thread's own (the request's closes soon)."""
    try:
        with contextlib.closing(sqlite3.connect(name, timeout=10.0)) as conn:
            _build(conn, shared)
    except sqlite3.Error as error:
        logger.warning("cannot rebuild the search's word list from %s (%s); the previous one serves", name, error)
    finally:
        with _LOCK:
            shared.building = False
            _BUILT.notify_all()


def _build(conn: sqlite3.Connection, shared: _Shared) -> Vocabulary:
    """Read the index's words into `shared`; the stamp first, so a write in between only means one more
    rebuild later, never words older than their stamp."""
    global builds
    began = _clock()
    stamp = _stamp(conn)
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.tracks_fts_terms USING fts5vocab(main, tracks_fts, row)")
    words = Vocabulary(row[0] for row in conn.execute("SELECT term FROM temp.tracks_fts_terms"))
    ended = _clock()
    with _LOCK:
        shared.words, shared.stamp, shared.built_at, shared.build_s = words, stamp, ended, ended - began
        shared.stale_since = None
        builds += 1
    logger.debug("search word list: %d words in %.2f s", words.count, ended - began)
    return words


def _stamp(conn: sqlite3.Connection) -> bytes:
    row = conn.execute("SELECT block FROM tracks_fts_data WHERE id = 10").fetchone()
    return bytes(row[0]) if row else b""
