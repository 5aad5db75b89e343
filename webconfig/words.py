"""Why a song was chosen, in plain words, with the numbers behind it kept for whoever asks.

From the decision the daemon wrote (device.recommend.Decision.to_json) and the plays before it:
"You've looked sad for the last 3 songs; this one is a little brighter than how you seem and calmer,
one step toward something lighter."
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from device.contract import NOBODY, Play
from device.wording import INTENT_STEP, feeling

# Someone is in view but their face cannot be read (a mask, dark glasses, too dark): the page's live status.
UNREADABLE_FACE = "I can see someone but can't read the face: more light, or face the camera."

SAME = 0.15  # closer than this on an axis reads as "about the same"
MUCH = 0.45  # further than this reads as "much"


@dataclass(frozen=True)
class Reason:
    text: str  # one sentence a listener reads
    numbers: tuple[str, ...]  # the figures behind it, one line each


def _point(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, dict):
        return None
    try:
        point = (float(value["valence"]), float(value["arousal"]))
    except (KeyError, TypeError, ValueError):
        return None
    return point if all(math.isfinite(x) for x in point) else None


def _compare(delta: float, more: str, less: str, same: str) -> str:
    if abs(delta) < SAME:
        return same
    word = more if delta > 0 else less
    return f"much {word}" if abs(delta) >= MUCH else f"a little {word}"


def _streak(label: str, plays: Sequence[Play]) -> int:
    """How many of the latest plays (newest first) were chosen with the face reading `label`."""
    count = 0
    for play in plays:
        if play.emotion != label:
            break
        count += 1
    return count


def _opening(emotion: dict[str, Any], plays: Sequence[Play]) -> str:
    label = str(emotion.get("label") or "")
    if not label or label == NOBODY:
        return "No face was read when this song was chosen"
    streak = _streak(label, plays)
    if streak >= 2:
        return f"You've looked {feeling(label)} for the last {streak} songs"
    return f"You looked {feeling(label)}"


def explain(decision: dict[str, Any] | None, plays: Sequence[Play] = ()) -> Reason:
    """The plain sentence for `decision` and its numbers; `plays`: the latest plays, newest first."""
    if not decision:
        return Reason("", ())
    emotion = decision.get("emotion") if isinstance(decision.get("emotion"), dict) else {}
    face, target = _point(emotion), _point(decision.get("target"))
    song = _point(decision.get("track"))
    intent = str(decision.get("intent") or "")
    parts = [_opening(emotion or {}, plays)]
    if face and song:
        brighter = _compare(song[0] - face[0], "brighter", "darker", "about as bright")
        livelier = _compare(song[1] - face[1], "livelier", "calmer", "about as lively")
        parts.append(f"this one is {brighter} than how you seem and {livelier}")
    text = "; ".join(parts)
    if intent in INTENT_STEP:
        text += f", {INTENT_STEP[intent]}"
    return Reason(text + ".", _numbers(decision, emotion or {}, face, target, song))


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def _numbers(decision: dict[str, Any], emotion: dict[str, Any], face: tuple[float, float] | None,
             target: tuple[float, float] | None, song: tuple[float, float] | None) -> tuple[str, ...]:
    lines = []
    if face:
        confidence = round(100 * float(emotion.get("confidence") or 0))
        lines.append(f"Face: {emotion.get('label')} {confidence} % → valence {_signed(face[0])}, "
                     f"arousal {_signed(face[1])}")
    if target:
        lines.append(f"Aim ({decision.get('intent')}): valence {_signed(target[0])}, arousal {_signed(target[1])}")
    if song:
        track = decision.get("track") or {}
        source = f" (from {track.get('va_source')})" if track.get("va_source") else ""
        lines.append(f"Song: valence {_signed(song[0])}, arousal {_signed(song[1])}{source}")
    if target and song:
        lines.append(f"Song to aim: {math.dist(target, song):.2f} apart")
    if decision.get("reason"):
        lines.append(f"Recommender: {decision['reason']}")
    return tuple(lines)
