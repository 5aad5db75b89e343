"""The learner follows the person the device recognised: their own plays when someone is told apart
(device.calibration.people), every play when nobody is (one or no calibrated person, a stranger)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from device import contract
from device.learning.recommender import HistoryPlays
from tests.device.learning.test_records import add_play


def test_a_recognised_person_learns_from_their_own_plays_and_nobody_from_all(
        db: sqlite_utils.Database, random_catalog: Callable[[sqlite_utils.Database, int, int], None]) -> None:
    random_catalog(db, 10, 2)
    anna = [add_play(db, 1, person="Anna") for _ in range(3)]
    ben = [add_play(db, 2, person="Ben")]
    older = [add_play(db, 3)]  # before anyone was told apart
    listening: list[str | None] = [None]
    source = HistoryPlays(db, lambda: listening[0])
    assert sorted(play.id for play in source.plays()) == sorted(anna + ben + older)
    stamp = source.stamp()
    listening[0] = "anna"  # as the name is folded: "Anna" and "anna" are one person
    assert source.stamp() != stamp  # another person: the learner fits again
    assert [play.id for play in source.plays()] == anna
    assert all(play.person == "Anna" for play in source.plays())
    listening[0] = "Cleo"
    assert list(source.plays()) == []  # someone new starts from geometry alone


def test_a_play_records_who_was_recognised_and_forgetting_them_takes_their_likes_too(
        db: sqlite_utils.Database, random_catalog: Callable[[sqlite_utils.Database, int, int], None]) -> None:
    random_catalog(db, 10, 2)
    play = contract.start_play(db, 1, emotion="sad", valence=-0.5, arousal=-0.3, intent=contract.Intent.ENHANCE,
                               reason="r", person="Ben")
    other = contract.start_play(db, 2, emotion="sad", valence=-0.5, arousal=-0.3, intent=contract.Intent.ENHANCE,
                                reason="r")
    contract.record_feedback(db, play, 1)
    contract.record_feedback(db, other, -1)
    assert [(p.id, p.person) for p in contract.recent_plays(db)] == [(other, None), (play, "Ben")]
    assert contract.forget_plays(db, "BEN") == 1
    assert [p.id for p in contract.recent_plays(db)] == [other]
    assert db.execute("SELECT count(*) FROM feedback").fetchone()[0] == 1
    assert contract.forget_plays(db, "Ben") == 0
