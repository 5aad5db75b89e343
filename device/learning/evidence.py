"""The evidence a reason quotes: how often a song went the way the intent asked when it played, and
whether the listener skipped or disliked the last songs like one ("you skipped the last two songs like
this, so something different"). Plain counts over the plays, so a reason can be checked against them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from device.contract import Intent, Play
from device.learning.response import intended_direction
from device.wording import INTENT_VERB

HELPED_MIN = 0.05  # a face move of at least this much along the intent's direction counts as helping
SIMILAR_WITHIN = 0.3  # root-mean-square feature distance (each about −1..1) under which songs are alike
ORDINAL_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


@dataclass(frozen=True)
class TrackRecord:
    """What the plays of some songs did, counted for one intent."""

    plays: int  # plays made with this intent, with a face at both ends
    helped: int  # of those, moved the face the intent's way by HELPED_MIN or more
    skipped: int
    liked: int
    disliked: int


def helped(play: Play, intent: Intent) -> bool | None:
    """Did `play` move the face the way `intent` asks (from where the face was then)? None: unknown."""
    moved = play.moved
    if moved is None:
        return None
    return float(np.dot(moved, intended_direction(intent, play.start))) >= HELPED_MIN


def record(plays: Sequence[Play], track_ids: set[int], intent: Intent) -> TrackRecord:
    """The counts over the plays of any of `track_ids`: whether they helped only over the plays made with
    `intent` (a song played to calm is not evidence that it lifts), skips and likes over all of them."""
    own = [p for p in plays if p.track_id in track_ids]
    judged = [h for h in (helped(p, intent) for p in own if p.intent == intent) if h is not None]
    return TrackRecord(plays=len(judged), helped=sum(judged), skipped=sum(p.skipped for p in own),
                       liked=sum(p.liked > 0 for p in own), disliked=sum(p.liked < 0 for p in own))


def similar(ids: np.ndarray, features: np.ndarray, reference: np.ndarray) -> set[int]:
    """The ids among `ids` (m,) whose features (m, 8) are within SIMILAR_WITHIN of `reference` (8,), the
    bias left aside."""
    spread = np.sqrt(np.mean((features[:, 1:] - reference[1:]) ** 2, axis=1))
    return {int(i) for i in ids[spread <= SIMILAR_WITHIN]}


def turned_away(plays: Sequence[Play], track_ids: set[int]) -> tuple[int, str]:
    """How many of the latest plays of `track_ids`, in a row, were skipped or disliked, and the verb
    ("skipped", "disliked", "skipped or disliked")."""
    streak: list[Play] = []
    for play in reversed(plays):
        if play.track_id not in track_ids:
            continue
        if not (play.skipped or play.liked < 0):
            break
        streak.append(play)
    skips, dislikes = any(p.skipped for p in streak), any(p.liked < 0 for p in streak)
    verb = "skipped or disliked" if skips and dislikes else "disliked" if dislikes else "skipped"
    return len(streak), verb


def times_phrase(counts: TrackRecord, intent: Intent, subject: str = "it", pronoun: str = "it") -> str:
    """"it lifted you 3 of the 4 times it played" (empty when it never played with a face seen)."""
    if not counts.plays:
        return ""
    verb = INTENT_VERB.get(intent, "lift")
    if counts.plays == 1:
        done = f"{verb}ed you" if counts.helped else f"did not {verb} you"
        return f"{subject} {done} the one time {pronoun} played"
    return f"{subject} {verb}ed you {counts.helped} of the {counts.plays} times {pronoun} played"

def streak_phrase(streak: int, verb: str, like: str = "this") -> str:
    """"you skipped the last two songs like this" / "you skipped the last song like this"."""
    if streak == 1:
        return f"you {verb} the last song like {like}"
    return f"you {verb} the last {ORDINAL_WORDS.get(streak, str(streak))} songs like {like}"
