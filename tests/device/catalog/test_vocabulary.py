"""The search's fuzzy fallback (device.catalog.vocabulary): which catalog words a typed word may be a slip for."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterable

import pytest
import sqlite_utils
from rapidfuzz.distance import Levenshtein

from device import store
from device.catalog import vocabulary as vocab
from device.catalog.search import search
from device.catalog.tracks import upsert_track
from device.catalog.vocabulary import Vocabulary
from device.config import Config

LETTERS = {
    "latin": "abcdeilmnorstuy",
    "cyrillic": "абвгдеклмнорстя",
    "greek": "αβγδεκλμνοπρστω",
    "kana": "かきくさしすたちつなにぬまみむ",
    "hangul": "가나다라마바사아자차카타파하",
    "digits": "0123456789",
}


def test_only_the_nearest_words_within_the_bound_for_the_words_length() -> None:
    words = Vocabulary(["yesterday", "yesterdays", "beatles", "help", "hello", "halo", "held", "hell"])
    assert words.close_terms("yesterdy") == ["yesterday"]  # 1 edit; "yesterdays" (2) is not the nearest
    assert words.close_terms("beatls") == ["beatles"]
    assert words.close_terms("helpqq") == []  # two edits from "help", but words of 4-6 letters get one
    assert words.close_terms("helloqq") == ["hello"]  # from 7 letters, two
    assert words.close_terms("hel") == []  # too short to guess at
    assert words.close_terms("hell") == []  # a word the catalog has is left alone...
    assert set(words.close_terms("hell", widen_known=True)) == {"help", "hello", "held"}  # ...unless asked
    assert Vocabulary([]).close_terms("anything") == []


def test_equally_near_words_come_most_alike_first_and_at_most_eight() -> None:
    """Among words one edit away, those sharing the most letter pairs ("^k", "ki", …, "n$") first."""
    words = Vocabulary(["sitten", "kitxen", "kitted", "kittens", "kittten", "kitchen"])  # kitchen: 2 edits
    assert words.close_terms("kitten") == ["kittten", "kittens", "kitted", "kitxen", "sitten"]
    assert words.close_terms("kitten", most=2) == ["kittten", "kittens"]
    assert len(Vocabulary([f"kitte{c}" for c in "abcdfghijklmo"]).close_terms("kitten")) == 8


@pytest.mark.parametrize("script", sorted(LETTERS))
def test_no_word_within_reach_is_ever_left_out(script: str) -> None:
    """The length and character bounds that narrow the words before rapidfuzz only drop unreachable ones:
    what is found is every word at the nearest distance, measured against the whole vocabulary."""
    rng = random.Random(script)
    letters = LETTERS[script]
    terms = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(3000)})
    words = Vocabulary(terms)
    found_any = 0
    for _ in range(300):
        word = list(rng.choice(terms))
        for _ in range(rng.randint(1, 3)):  # delete, insert or replace a character
            at = rng.randrange(len(word))
            edit = rng.randrange(3)
            if edit == 0 and len(word) > 1:
                del word[at]
            elif edit == 1:
                word.insert(at, rng.choice(letters))
            else:
                word[at] = rng.choice(letters)
        typed = "".join(word)
        bound = 0 if len(typed) < 4 else 1 if len(typed) <= 6 else 2
        distances = {t: Levenshtein.distance(typed, t) for t in terms}
        reachable = [d for d in distances.values() if 0 < d <= bound]
        nearest = {t for t, d in distances.items() if reachable and d == min(reachable)}
        assert set(words.close_terms(typed, most=len(terms), widen_known=True)) == nearest, typed
        found_any += bool(nearest)
    assert found_any > 50  # the edits left most words within reach of their originals


def test_words_are_kept_by_length_then_code_point_once_each() -> None:
    words = Vocabulary(["zeta", "beta", "alpha", "beta", "ζήτα", "ab", "b"])
    assert [words.word(i) for i in range(words.count)] == ["b", "ab", "beta", "zeta", "ζήτα", "alpha"]
    assert "beta" in words and "ζήτα" in words and "alpha" in words
    assert "bet" not in words and "" not in words and "gamma" not in words and "x" * 40 not in words
    many = Vocabulary(f"w{n:05d}" for n in range(9000, -1, -1))  # several runs, the last ones first
    assert many.count == 9001 and many.word(0) == "w00000" and "w04096" in many and "w09001" not in many


# --- one vocabulary per process, rebuilt once changes settle -------------------------------------------


class FakeClock:
    """vocabulary's clock, moved by the test: no test here waits for real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(vocab, "_clock", fake)
    monkeypatch.setattr(vocab, "_SHARED", {})
    return fake


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the Vocabulary objects made from then on (one per build)."""
    made: list[int] = []

    class Counted(Vocabulary):
        def __init__(self, terms: Iterable[str]) -> None:
            made.append(1)
            super().__init__(terms)

    monkeypatch.setattr(vocab, "Vocabulary", Counted)
    return made


def add(db: sqlite_utils.Database, title: str, artist: str) -> None:
    upsert_track(db, title=title, artist=artist, path=None, valence=0.1, arousal=0.2, va_source="tags")


def titles(db: sqlite_utils.Database, text: str) -> list[str]:
    return [track.title for track in search(db, text)]


def wait_for_rebuilds() -> None:
    for thread in threading.enumerate():
        if thread.name == "vocabulary":
            thread.join(30)


def test_threads_asking_at_once_share_one_build(
    config: Config, db: sqlite_utils.Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight page threads, each with its own connection, ask while none is built: one builds, the others
    wait for it and get the same object (each built its own before, each holding a copy meanwhile)."""
    add(db, "Yesterday", "The Beatles")
    made: list[int] = []

    class Slow(Vocabulary):
        def __init__(self, terms: Iterable[str]) -> None:
            made.append(1)
            time.sleep(0.3)  # holds the build open while the other threads ask (nothing here is timed)
            super().__init__(terms)

    monkeypatch.setattr(vocab, "Vocabulary", Slow)
    start = threading.Barrier(8)
    got: list[Vocabulary] = []

    def ask() -> None:
        connection = store.open_database(config.database_path)
        start.wait()
        got.append(vocab.vocabulary(connection))
        connection.conn.close()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert len(got) == 8 and all(words is got[0] for words in got)
    assert "yesterday" in got[0]


def test_an_import_does_not_rebuild_per_batch_and_the_prefix_search_sees_every_row(
    db: sqlite_utils.Database, clock: FakeClock, built: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vocab, "SMALL_WORDS", 0)  # the policy of a big catalog, on a small one
    add(db, "Yesterday", "The Beatles")
    assert titles(db, "yesterdy") == ["Yesterday"]  # builds the words
    assert len(built) == 1
    for batch in range(20):  # an import: a batch a second, a search after each
        clock.now += 1
        add(db, f"Lighthouse {batch}", "Orla Finch")
        assert f"Lighthouse {batch}" in titles(db, f"lighthou {batch}")  # the newest rows, by prefix
        assert titles(db, "yesterdy") == ["Yesterday"]  # the old words still widen
    assert len(built) == 1
    assert titles(db, "lighthose") == []  # a slip for a word only just imported: not yet
    clock.now += vocab.SETTLE_S + vocab.rebuild_gap_s(0)  # the import is over
    titles(db, "lighthose")  # stale: starts one rebuild in the background
    wait_for_rebuilds()
    assert len(built) == 2
    assert len(titles(db, "lighthose")) == 10
    assert len(built) == 2


def test_a_catalog_that_keeps_changing_is_rebuilt_once_per_gap(
    db: sqlite_utils.Database, clock: FakeClock, built: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write every second for 70 s never settles; the words are still rebuilt, once per rebuild gap."""
    monkeypatch.setattr(vocab, "SMALL_WORDS", 0)
    add(db, "Yesterday", "The Beatles")
    titles(db, "yesterdy")
    gap = vocab.rebuild_gap_s(0)
    assert gap == vocab.MIN_REBUILD_GAP_S
    for second in range(1, 71):
        clock.now += 1
        add(db, f"Song {second}", "Orla Finch")
        titles(db, "yesterdy")
        wait_for_rebuilds()
        # changed from 1 s on: rebuilt at 31 s (30 s after the build and the first change), then at 62 s
        # (30 s after that build, 30 s after the change at 32 s)
        assert len(built) == 1 + (second >= 31) + (second >= 62), second


def test_a_small_catalog_is_rebuilt_at_once(db: sqlite_utils.Database, clock: FakeClock, built: list[int]) -> None:
    add(db, "Yesterday", "The Beatles")
    assert titles(db, "yesterdy") == ["Yesterday"]
    add(db, "Lighthouse", "Orla Finch")
    assert titles(db, "lighthose") == ["Lighthouse"]
    assert len(built) == 2


def test_a_failed_rebuild_keeps_the_old_words(
    db: sqlite_utils.Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(vocab, "SMALL_WORDS", 0)
    add(db, "Yesterday", "The Beatles")
    words = vocab.vocabulary(db)
    add(db, "Lighthouse", "Orla Finch")
    clock.now += vocab.SETTLE_S + vocab.rebuild_gap_s(0)
    vocab.vocabulary(db)  # the first to see the change; settled only if it stays so for SETTLE_S
    clock.now += vocab.SETTLE_S

    def broken(conn: sqlite3.Connection, shared: object) -> Vocabulary:
        raise sqlite3.OperationalError("disk I/O error")

    working = vocab._build
    monkeypatch.setattr(vocab, "_build", broken)
    assert vocab.vocabulary(db) is words  # starts the rebuild, which fails
    wait_for_rebuilds()
    assert "cannot rebuild the search's word list" in caplog.text
    monkeypatch.setattr(vocab, "_build", working)
    assert vocab.vocabulary(db) is words  # the next try: in the background again, not in this thread
    wait_for_rebuilds()
    assert "lighthouse" in vocab.vocabulary(db)
