"""The search's fuzzy fallback (device.catalog.vocabulary): which catalog words a typed word may be a slip for."""

from __future__ import annotations

import random

import pytest
from rapidfuzz.distance import Levenshtein

from device.catalog.vocabulary import Vocabulary

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
