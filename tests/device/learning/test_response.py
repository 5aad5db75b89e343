"""The response model on its own: plays summed per track, φ of a track, the direction an intent wants, and
the posterior: no evidence gives the prior, a song that lifted the face several times is expected to lift
it again, few plays are shrunk toward what similar songs did, and the quick gain equals the slow one."""

from __future__ import annotations

import numpy as np
import pytest

from device.catalog.candidates import Candidates
from device.contract import Play
from device.learning.credit import credited, play_arrays
from device.learning.response import (
    APPROVAL_WEIGHT,
    FEATURES,
    ResponseModel,
    gain,
    intended_direction,
    sum_responses,
    track_features,
)
from device.recommend import CALM_GOAL, ENHANCE_GOAL

SAD = (-0.6, -0.3)
NO_TASTE = [np.nan] * 5  # candidates.TASTE_COLUMNS unknown: read as average


def play(n: int, track_id: int, lift: float = 0.0, outcome: str = "ended", liked: int = 0,
         seen: bool = True) -> Play:
    """A play that moved a sad face up in valence by `lift` (None at both ends when not `seen`)."""
    return Play(id=n, track_id=track_id, intent="enhance", outcome=outcome, liked=liked,
                emotion="sad" if seen else "nobody", valence=SAD[0], arousal=SAD[1],
                end_valence=SAD[0] + lift if seen else None, end_arousal=SAD[1] if seen else None, played_s=180.0)


def catalog(points: dict[int, tuple[float, float]], taste: dict[int, list[float]] | None = None) -> Candidates:
    """Candidates built directly: `points` id → (valence, arousal), taste NaN unless given."""
    ids = sorted(points)
    return Candidates(ids=np.array(ids, dtype=np.int64), points=np.array([points[i] for i in ids], dtype=float),
                      taste=np.array([(taste or {}).get(i, NO_TASTE) for i in ids], dtype=float),
                      lookup=lambda _: None)


def model(plays: list[Play], tracks: Candidates) -> ResponseModel:
    return ResponseModel(play_arrays(plays), tracks)


def sum_plays(plays: list[Play]):  # type: ignore[no-untyped-def]
    arrays = play_arrays(plays)
    return sum_responses(arrays.track_ids, arrays.responses)


def expected(fitted: ResponseModel, tracks: Candidates, track_id: int) -> np.ndarray:
    """The model's mean responses (3,: valence move, arousal move, approval) of one catalog track."""
    row = int(np.flatnonzero(tracks.ids == track_id)[0])
    features = track_features(tracks.points[row:row + 1], tracks.taste[row:row + 1])
    return fitted.mean(tracks.ids[row:row + 1], features)[0]


# ---- track_features -----------------------------------------------------------------------------------


def test_features_are_bias_point_and_taste_scaled_to_about_one() -> None:
    features = track_features(np.array([[0.5, -0.25]]), np.array([[180.0, 1.0, 0.0, 0.5, 1.0]]))
    assert features.shape == (1, len(FEATURES))
    assert features[0] == pytest.approx([1.0, 0.5, -0.25, 1.0, 1.0, -1.0, 0.0, 1.0])


def test_unknown_taste_reads_as_average_and_extremes_are_clipped() -> None:
    features = track_features(np.array([[0.0, 0.0], [0.0, 0.0]]),
                              np.array([NO_TASTE, [400.0, 0.5, 0.5, 0.5, 0.5]]))
    assert features[0, 3:] == pytest.approx([0.0] * 5)
    assert features[1, 3] == 1.5  # 400 bpm would be 4.7 tempo-widths away: one odd tag cannot dominate


def test_no_tracks_give_no_rows() -> None:
    assert track_features(np.zeros((0, 2)), np.zeros((0, 5))).shape == (0, len(FEATURES))


# ---- intended_direction -------------------------------------------------------------------------------


def test_modulate_or_no_face_moves_toward_pleasant() -> None:
    assert intended_direction("modulate", SAD) == pytest.approx([1.0, 0.0])
    assert intended_direction("enhance", None) == pytest.approx([1.0, 0.0])
    assert intended_direction("calm", None) == pytest.approx([1.0, 0.0])


def test_enhance_points_from_the_face_to_its_goal_as_a_unit_vector() -> None:
    direction = intended_direction("enhance", SAD)
    goal = np.subtract(ENHANCE_GOAL, SAD)
    assert np.hypot(*direction) == pytest.approx(1.0)
    assert direction == pytest.approx(goal / np.hypot(*goal))


def test_calm_never_asks_for_more_arousal() -> None:
    below_goal = (0.0, CALM_GOAL[1] - 0.4)  # already calmer than the goal
    assert intended_direction("calm", below_goal) == pytest.approx([1.0, 0.0])
    tense = intended_direction("calm", (-0.5, 0.7))
    assert tense[0] > 0 and tense[1] < 0


def test_never_toward_unpleasant_and_at_the_goal_toward_pleasant() -> None:
    beyond = intended_direction("enhance", (0.95, 0.0))  # more pleasant than the goal: only up in arousal
    assert beyond == pytest.approx([0.0, 1.0])
    assert intended_direction("enhance", ENHANCE_GOAL) == pytest.approx([1.0, 0.0])


# ---- sum_responses-------------------------------------------------------------------------------------


def test_no_plays_sum_to_nothing() -> None:
    sums = sum_plays([])
    assert sums.ids.shape == (0,) and sums.counts.shape == (0, 3) and sums.means.shape == (0, 3)


def test_plays_are_summed_per_track_in_id_order() -> None:
    sums = sum_plays([play(1, 7, lift=0.2), play(2, 3, lift=-0.1, outcome="skipped"), play(3, 7, lift=0.4, liked=1)])
    assert sums.ids.tolist() == [3, 7]
    assert sums.counts.tolist() == [[1, 1, 1], [2, 2, 2]]
    assert sums.means[0] == pytest.approx([-0.1, 0.0, -1.0])  # a skip disapproves
    assert sums.means[1] == pytest.approx([0.3, 0.0, 0.5])  # one like, one played on


def test_a_play_nobody_watched_gives_approval_only() -> None:
    sums = sum_plays([play(1, 5, seen=False, liked=-1), play(2, 5, lift=0.2)])
    assert sums.counts.tolist() == [[1, 1, 2]]
    assert sums.means[0] == pytest.approx([0.2, 0.0, -0.5])


# ---- ResponseModel ------------------------------------------------------------------------------------


def test_no_evidence_gives_the_prior() -> None:
    tracks = catalog({1: (0.5, 0.5), 2: (-0.5, 0.0)})
    fitted = model([], tracks)
    assert fitted.empty and fitted.played == 0
    features = track_features(tracks.points, tracks.taste)
    assert fitted.mean(tracks.ids, features) == pytest.approx(np.zeros((2, 3)))
    assert fitted.catalog_gain(np.array([1.0, 0.0])) == pytest.approx([0.0, 0.0])


def test_plays_of_tracks_no_longer_in_the_catalog_are_left_out() -> None:
    fitted = model([play(n, 99, lift=0.5) for n in range(5)], catalog({1: (0.0, 0.0)}))
    assert fitted.empty
    assert fitted.ids.tolist() == []


def test_a_track_that_lifted_the_face_several_times_is_expected_to_lift_it() -> None:
    tracks = catalog({1: (0.0, 0.0), 2: (0.0, 0.0)})
    fitted = model([play(n, 1, lift=0.3) for n in range(5)] + [play(5 + n, 2) for n in range(5)], tracks)
    assert not fitted.empty and fitted.played == 2
    lifter, flat = expected(fitted, tracks, 1), expected(fitted, tracks, 2)
    assert lifter[0] > flat[0] + 0.05
    toward_pleasant = np.array([1.0, 0.0])
    assert gain(lifter[None], toward_pleasant)[0] > gain(flat[None], toward_pleasant)[0]


def lift_difference(count: int) -> float:
    """How much more track 1 (lifted a sad face 0.3 each of its `count` plays) is expected to lift it than
    track 2 (left it as it was, as often)."""
    tracks = catalog({1: (0.0, 0.0), 2: (0.0, 0.0)})
    plays = [play(2 * n + k, k + 1, lift=0.3 if k == 0 else 0.0) for n in range(count) for k in range(2)]
    fitted = model(plays, tracks)
    return float(expected(fitted, tracks, 1)[0] - expected(fitted, tracks, 2)[0])


def test_few_plays_are_shrunk_and_many_approach_what_was_seen() -> None:
    estimates = [lift_difference(count) for count in (1, 5, 200)]
    assert 0 < estimates[0] < 0.1  # one play moves the estimate little: the camera is noisy
    assert estimates[0] < estimates[1] < estimates[2] < 0.3
    assert estimates[2] == pytest.approx(0.3, abs=0.02)


def test_a_move_every_song_makes_is_not_credited_to_the_songs() -> None:
    # Whatever plays, this listener's face reads 0.3 happier a song later (their own drift): the songs
    # played did not cause it, and neither is expected to lift them.
    tracks = catalog({1: (0.0, 0.0), 2: (0.5, 0.0)})
    fitted = model([play(n, 1 + n % 2, lift=0.3) for n in range(40)], tracks)
    assert expected(fitted, tracks, 1)[0] == pytest.approx(0.0, abs=0.03)
    assert expected(fitted, tracks, 2)[0] == pytest.approx(0.0, abs=0.03)


def regression_to_the_mean(rng: np.random.Generator, count: int, lifter_bonus: float = 0.0) -> list[Play]:
    """Plays under "modulate" (each song sits where the face was) by a listener whom music does not move:
    the face is read halfway back toward neutral a song later, whatever played. Songs are ids 1-21, id k
    at valence (k − 11) / 10; `lifter_bonus` is what song 11 (neutral) adds on top."""
    plays = []
    for n in range(count):
        start = float(rng.uniform(-0.9, 0.9))
        song = int(np.clip(round(start * 10) + 11, 1, 21))
        end = 0.5 * start + rng.normal(0.0, 0.1) + (lifter_bonus if song == 11 else 0.0)
        plays.append(Play(id=n, track_id=song, intent="modulate", outcome="ended", emotion="sad",
                          valence=start, arousal=0.0, end_valence=end, end_arousal=0.0, played_s=180.0))
    return plays


def test_regression_to_the_mean_does_not_make_sad_songs_look_uplifting() -> None:
    # A sad face is read less sad a song later, a happy one less happy, whatever played. The sad songs
    # chosen for sad faces did not lift them: they are expected to do what the bright ones do.
    tracks = catalog({k: ((k - 11) / 10, 0.0) for k in range(1, 22)})
    plays = regression_to_the_mean(np.random.default_rng(4), 400)
    raw = [p.moved[0] for p in plays if p.track_id == 2]  # type: ignore[index]
    assert np.mean(raw) > 0.3  # as the camera saw it, the saddest songs "lifted" by 0.4
    fitted = model(plays, tracks)
    sad, bright = expected(fitted, tracks, 2)[0], expected(fitted, tracks, 20)[0]
    assert abs(sad) < 0.05 and abs(bright) < 0.05
    credit = credited(play_arrays(plays), track_features(tracks.points, tracks.taste)[[p.track_id - 1 for p in plays]])
    assert np.abs(credit[:, 0]).mean() < 0.12  # what is left is the reading's noise (sd 0.1)


def test_a_song_that_lifts_beyond_the_regression_is_credited_with_it() -> None:
    tracks = catalog({k: ((k - 11) / 10, 0.0) for k in range(1, 22)})
    fitted = model(regression_to_the_mean(np.random.default_rng(5), 400, lifter_bonus=0.2), tracks)
    neutral, neighbours = expected(fitted, tracks, 11)[0], expected(fitted, tracks, 10)[0]
    assert neutral > neighbours + 0.1


def test_an_unplayed_track_learns_from_similar_ones_less_than_they_did() -> None:
    # Tracks 1-6 are slow and acoustic and lift the face; 7 is like them, never played; 8 is unlike them.
    quiet, loud = [70.0, 0.2, 0.9, 0.2, 1.0], [170.0, 0.9, 0.1, 0.9, 0.0]
    points = {i: (0.0, -0.3) for i in range(1, 8)} | {8: (0.0, 0.6)}
    tracks = catalog(points, {i: quiet for i in range(1, 8)} | {8: loud})
    fitted = model([play(10 * t + n, t, lift=0.3) for t in range(1, 7) for n in range(4)], tracks)
    similar, unlike = expected(fitted, tracks, 7), expected(fitted, tracks, 8)
    assert 0 < similar[0] < expected(fitted, tracks, 1)[0]
    assert similar[0] > unlike[0]


def test_skips_and_dislikes_lower_the_expected_approval() -> None:
    tracks = catalog({1: (0.0, 0.0), 2: (0.0, 0.0)})
    plays = [play(n, 1, outcome="skipped") for n in range(4)] + [play(4 + n, 2, liked=1) for n in range(4)]
    fitted = model(plays, tracks)
    assert expected(fitted, tracks, 1)[2] < 0 < expected(fitted, tracks, 2)[2]


def test_the_quick_gain_equals_the_gain_of_the_means() -> None:
    rng = np.random.default_rng(3)
    points = {i: tuple(rng.uniform(-1, 1, 2)) for i in range(1, 41)}
    taste = {i: [rng.uniform(60, 180), *rng.random(3), float(rng.integers(0, 2))] for i in range(1, 41)}
    tracks = catalog(points, taste)
    plays = [play(n, int(rng.integers(1, 41)), lift=float(rng.normal(0.1, 0.2)), liked=int(rng.integers(-1, 2)))
             for n in range(60)]
    fitted = model(plays, tracks)
    features = track_features(tracks.points, tracks.taste)
    direction = intended_direction("enhance", SAD)
    assert fitted.catalog_gain(direction) == pytest.approx(
        gain(fitted.mean(tracks.ids, features), direction))


def test_draws_scatter_around_the_mean_and_narrow_with_plays() -> None:
    tracks = catalog({1: (0.0, 0.0), 2: (0.0, 0.0)})
    fitted = model([play(n, 1, lift=0.3) for n in range(30)], tracks)
    features = track_features(tracks.points, tracks.taste)
    rng = np.random.default_rng(0)
    draws = np.stack([fitted.sample(tracks.ids, features, rng) for _ in range(4000)])  # (draws, 2, 3)
    assert draws.mean(axis=0) == pytest.approx(fitted.mean(tracks.ids, features), abs=0.02)
    played_spread, unplayed_spread = draws[:, :, 0].std(axis=0)
    assert played_spread < unplayed_spread
    again = fitted.sample(tracks.ids, features, np.random.default_rng(0))
    assert again == pytest.approx(draws[0])  # a seeded generator draws the same


def test_gain_weighs_the_move_along_the_direction_and_approval() -> None:
    responses = np.array([[0.2, 0.1, 1.0], [0.0, 0.0, -1.0]])
    assert gain(responses, np.array([0.0, 1.0])) == pytest.approx([0.1 + APPROVAL_WEIGHT, -APPROVAL_WEIGHT])

