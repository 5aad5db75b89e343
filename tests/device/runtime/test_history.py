"""What a play's trace keeps: a smoothed face point every TRACE_EVERY_S while someone is seen, the end's
point last, and no end mood when nobody was there at the end."""

from __future__ import annotations

import json

from device.mood import ABSENT, Mood
from device.runtime.history import TRACE_EVERY_S, PlayTrace


def face(valence: float, arousal: float = 0.1) -> Mood:
    return Mood(label="happy", confidence=0.7, valence=valence, arousal=arousal, present=True, readings=5)


def test_the_trace_keeps_a_point_every_few_seconds_and_the_end() -> None:
    trace = PlayTrace()
    for second in range(0, 31):
        trace.add(face(second / 100), float(second))
    ending = trace.ending()
    points = json.loads(str(ending["trace"]))
    assert [p[0] for p in points] == [0.0, TRACE_EVERY_S, 2 * TRACE_EVERY_S, 3 * TRACE_EVERY_S]
    assert ending["end_emotion"] == "happy" and ending["end_valence"] == 0.3 and ending["played_s"] == 30.0


def test_nobody_at_the_end_leaves_the_end_mood_empty() -> None:
    trace = PlayTrace()
    trace.add(face(0.2), 0.0)
    trace.add(ABSENT, 12.0)
    ending = trace.ending()
    assert ending["end_emotion"] is None and ending["end_valence"] is None and ending["end_arousal"] is None
    assert json.loads(str(ending["trace"])) == [[0.0, 0.2, 0.1]]
    assert ending["played_s"] == 12.0
