"""The plays as arrays, read again after a song only where they changed: the same arrays as a whole read
whether the history grew, slid forward (the oldest play dropped) or a like replaced a play."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from device.contract import Play
from device.learning.credit import PlayArrays, play_arrays


def plays(first: int, count: int) -> list[Play]:
    return [Play(id=n, track_id=n % 7 + 1, intent=("enhance", "calm", "modulate")[n % 3], outcome="ended",
                 emotion="sad" if n % 4 else "nobody", valence=-0.5 + n / 100, arousal=0.1,
                 end_valence=-0.4 + n / 90, end_arousal=0.0) for n in range(first, first + count)]


def same(a: PlayArrays, b: PlayArrays) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in
               ((a.track_ids, b.track_ids), (a.intents, b.intents), (a.starts, b.starts), (a.responses, b.responses)))


def test_arrays_read_again_only_where_the_history_changed_equal_a_whole_read() -> None:
    history = plays(0, 30)
    arrays = play_arrays(history)
    grown = [*history, *plays(30, 2)]
    assert same(play_arrays(grown, (history, arrays)), play_arrays(grown))
    slid = grown[3:]  # the window of recent plays moved on
    assert same(play_arrays(slid, (history, arrays)), play_arrays(slid))
    liked = [replace(p, liked=1) if p.id == 10 else p for p in slid]  # a like pressed since: a new object
    merged = play_arrays(liked, (slid, play_arrays(slid)))
    assert same(merged, play_arrays(liked))
    assert merged.responses[liked.index(next(p for p in liked if p.id == 10)), 2] == 1.0
    unrelated = plays(100, 5)  # nothing in common: everything read
    assert same(play_arrays(unrelated, (history, arrays)), play_arrays(unrelated))
    assert len(play_arrays([], (history, arrays))) == 0
