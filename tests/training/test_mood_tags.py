"""The mood tag reference (device.training.mood_tags): a tag speaks for the quadrants its strong clips lie in,
and the held-out check tells a tag that follows the quadrant from one that does not."""

from __future__ import annotations

import numpy as np

from device.music.embedding import MSD_TAGS
from device.music.moods import AGREES_AT, MoodReference, agreeing_moods
from device.training.mood_tags import held_out_check, reference


def _clips(rng: np.random.Generator, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tags where "sad" rises with Q3 clips and "party" is noise."""
    quadrant = np.array(["Q1", "Q2", "Q3", "Q4"])[rng.integers(0, 4, n)]
    tags = rng.uniform(0.0, 0.05, (n, len(MSD_TAGS)))
    tags[:, MSD_TAGS.index("sad")] += np.where(quadrant == "Q3", 0.2, 0.0) + rng.uniform(0, 0.05, n)
    artist = np.array([f"artist {i // 5}" for i in range(n)])
    return tags, quadrant, artist


def test_a_tag_that_follows_a_quadrant_speaks_for_it_and_noise_for_none() -> None:
    tags, quadrant, _ = _clips(np.random.default_rng(3))
    made = reference(tags, quadrant)
    assert made["sad"]["share"]["Q3"] > 0.9 and made["sad"]["strong_clips"] >= 100
    assert max(made["party"]["share"].values()) < AGREES_AT
    shipped_like = MoodReference.from_tags(made)
    sad_clip = tags[np.flatnonzero(quadrant == "Q3")[0]]
    assert agreeing_moods(sad_clip, "Q3", shipped_like) == ["sad"]
    assert agreeing_moods(sad_clip, "Q1", shipped_like) == []


def test_the_held_out_check_judges_artists_the_reference_did_not_see() -> None:
    tags, quadrant, artist = _clips(np.random.default_rng(4))
    check = held_out_check(tags, quadrant, artist)
    assert check["learnt_clips"] + check["judged_clips"] == len(quadrant) and check["judged_clips"] > 100
    sad = check["tags"]["sad"]
    assert sad["agrees_with"] == ["Q3"] and sad["in_those_quadrants"] > 0.9 > 0.4 > sad["chance"]
    assert check["tags"]["party"]["agrees_with"] == []
