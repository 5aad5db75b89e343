"""How much of a face's move during a song the song caused: the move less what was expected without it.

A face read sad is read less sad a song later whatever played (the mood drifts back to the listener's
usual one, a misread is rarely repeated: regression to the mean). Crediting the whole move to the song
teaches that the songs chosen for sad faces lift, and under "modulate" (songs where the face is) that sad
songs do. So each move is compared with a model of all this listener's moves, fitted jointly per axis:
move = a[intent] + e[expression] + C · start + W · φ(track) + noise; the song's credit is the move less
its situation's part (`expected_without_song`), W left in for the response model to learn per track.
The reading's confidence is not in the history, so every play weighs the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from device import EMOTION_LABELS
from device.contract import Intent, Play

INTENTS = (Intent.MODULATE, Intent.ENHANCE, Intent.CALM)
SITUATION = len(INTENTS) + len(EMOTION_LABELS) + 2  # the design's columns that are not the song's
DRIFT_SD = 0.5  # prior sd of a per-intent drift, in plane units per song
START_SD = 0.5  # prior sd of each entry of C (a move of −0.5 × the start is a strong regression)
FEATURE_SD = 0.1  # prior sd of a feature's weight (response.PRIORS' weight for the face moves)
NOISE_SD = 0.3  # sd of one play's move around the model (response.PRIORS' noise)


@dataclass(frozen=True)
class PlayArrays:
    """The plays as arrays, oldest first: `track_ids` (n,) int64; `intents` (n,) index into INTENTS;
    `labels` (n,) the face's expression when the song was chosen, index into EMOTION_LABELS (−1: none);
    `starts` (n, 2) the face's point then (NaN: none); `responses` (n, 3) the face's move in valence and
    arousal (NaN unless a face was seen at both ends) and approval (+1/0/−1)."""

    track_ids: np.ndarray
    intents: np.ndarray
    labels: np.ndarray
    starts: np.ndarray
    responses: np.ndarray

    def __len__(self) -> int:
        return len(self.track_ids)

    def subset(self, keep: np.ndarray) -> PlayArrays:
        """The plays where `keep` (n,) bool is True."""
        return PlayArrays(self.track_ids[keep], self.intents[keep], self.labels[keep], self.starts[keep],
                          self.responses[keep])


def play_arrays(plays: Sequence[Play], previous: tuple[Sequence[Play], PlayArrays] | None = None) -> PlayArrays:
    """`plays` (each with a track and an intent: records.learnable) as PlayArrays. With `previous` (an
    earlier list of plays and its arrays) the rows of the plays found there again, as the very same
    objects in the same order (a history that grew and slid forward), are copied rather than read again:
    after a song, one play is new (2,000 plays read one by one cost about 4 ms)."""
    count = len(plays)
    track_ids = np.zeros(count, np.int64)
    intents = np.zeros(count, np.int64)
    labels = np.full(count, -1, np.int64)
    starts = np.full((count, 2), np.nan)
    responses = np.full((count, 3), np.nan)
    fresh: Sequence[int] = range(count)
    if previous is not None and count and len(previous[0]):
        before, arrays = previous
        offset = next((k for k, play in enumerate(before) if play is plays[0]), None)
        if offset is not None:
            overlap = min(count, len(before) - offset)
            same = np.fromiter((plays[j] is before[offset + j] for j in range(overlap)), bool, overlap)
            reused = np.flatnonzero(same)
            track_ids[reused], intents[reused] = arrays.track_ids[reused + offset], arrays.intents[reused + offset]
            labels[reused] = arrays.labels[reused + offset]
            starts[reused], responses[reused] = arrays.starts[reused + offset], arrays.responses[reused + offset]
            fresh = [*np.flatnonzero(~same).tolist(), *range(overlap, count)]
    for row in fresh:
        play = plays[row]
        track_ids[row] = play.track_id or 0
        intents[row] = INTENTS.index(play.intent) if play.intent in INTENTS else 0
        labels[row] = EMOTION_LABELS.index(play.emotion) if play.emotion in EMOTION_LABELS else -1
        if play.start is not None:
            starts[row] = play.start
        moved = play.moved
        if moved is not None:
            responses[row, :2] = moved
        responses[row, 2] = play.approval
    return PlayArrays(track_ids, intents, labels, starts, responses)


def expected_without_song(plays: PlayArrays, features: np.ndarray) -> np.ndarray:
    """(n, 2) the move each play's face was expected to make without its song: a[intent] + e[expression]
    + C · start, fitted with the songs' `features` (n, 8: response.track_features of each play's track);
    0 for a play without a face at both ends (nothing of it is credited either way).

    A Bayesian linear regression over the plays with a face at both ends: `a` the listener's own drift
    per intent, `e` per expression read when the song was chosen (the camera's misreads differ by
    expression, so how far a reading comes back is not linear in its point: with the expressions a
    simulated unmoved listener's drift toward sad songs fell from 0.012 to 0.004), `C` (2 × 2) the pull
    back toward their usual mood from where the face started, `W` what the songs' features did. The
    priors let the situation explain a move before a song's features do (sd 0.5 against W's 0.1), so
    when the two go together (modulate plays songs that sit where the face is) the regression, not the
    song, takes the credit."""
    expected = np.zeros((len(plays), 2))
    seen = ~np.isnan(plays.responses[:, 0])
    if not seen.any():
        return expected
    design = _design(plays.intents[seen], plays.labels[seen], plays.starts[seen], features[seen])
    prior = np.concatenate([np.full(SITUATION - 2, DRIFT_SD), np.full(2, START_SD),
                            np.full(features.shape[1] - 1, FEATURE_SD)])
    precision = design.T @ design / NOISE_SD**2 + np.diag(1.0 / prior**2)
    weights = np.linalg.solve(precision, design.T @ plays.responses[seen, :2] / NOISE_SD**2)  # (k, 2)
    expected[seen] = design[:, :SITUATION] @ weights[:SITUATION]
    return expected


def credited(plays: PlayArrays, features: np.ndarray) -> np.ndarray:
    """(n, 3) the responses with each face move replaced by the song's credit: the move less
    `expected_without_song`; approval as it was."""
    responses = plays.responses.copy()
    responses[:, :2] -= expected_without_song(plays, features)
    return responses


def _design(intents: np.ndarray, labels: np.ndarray, starts: np.ndarray, features: np.ndarray) -> np.ndarray:
    """(n, SITUATION + 7): one-hot intent, one-hot expression, the start; the song's features without the bias."""
    design = np.zeros((len(intents), SITUATION + features.shape[1] - 1))
    rows = np.arange(len(intents))
    design[rows, intents] = 1.0
    known = labels >= 0
    design[rows[known], len(INTENTS) + labels[known]] = 1.0
    design[:, SITUATION - 2:SITUATION] = starts
    design[:, SITUATION:] = features[:, 1:]
    return design
