"""Audio features (device.music.features) of short demo pieces (tests/conftest.py's demo_clips)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from device.music.features import (
    FEATURE_NAMES,
    AudioAnalysis,
    count_onsets,
    estimate_key,
    excerpt_parts,
    stored_parts,
    zero_crossing_rate,
)
from device.music.pieces import DEMO_PIECES

PIECES = {p.title: p for p in DEMO_PIECES}


def test_features_are_named_and_finite(features: dict[str, dict[str, float]]) -> None:
    for values in features.values():
        assert tuple(values) == FEATURE_NAMES
        assert all(math.isfinite(v) for v in values.values())
        assert 0 <= values["key"] <= 11 and values["mode"] in (0.0, 1.0)
        assert -60 < values["loudness"] < 0 and 40 < values["tempo"] < 250


def test_major_and_minor_pieces_are_told_apart(features: dict[str, dict[str, float]]) -> None:
    for title, values in features.items():
        assert values["mode"] == (1.0 if PIECES[title].mode == "major" else 0.0), title
    assert features["Empty Station"]["key"] == PIECES["Empty Station"].tonic
    assert features["Last Letter"]["key"] == PIECES["Last Letter"].tonic


def test_key_profiles_find_c_major_and_a_minor() -> None:
    c_major = np.zeros(12)
    c_major[[0, 4, 7]] = [3, 2, 2]
    c_major[[2, 5, 9, 11]] = 1
    assert estimate_key(c_major)[:2] == (0, 1)
    a_minor = np.zeros(12)
    a_minor[[9, 0, 4]] = [3, 2, 2]
    a_minor[[11, 2, 5, 8]] = 1
    assert estimate_key(a_minor)[:2] == (9, 0)
    assert estimate_key(np.zeros(12))[0] == -1


def test_numpy_onsets_and_zero_crossings() -> None:
    env = np.zeros(430)
    env[::43] = 1.0  # one onset every 43 frames (about 1 s)
    assert count_onsets(env) == 10
    assert count_onsets(np.ones(100)) == 0
    tone = np.sin(2 * np.pi * 441 * np.arange(22050) / 22050)
    assert zero_crossing_rate(tone)[5:-5].mean() == pytest.approx(2 * 441 / 22050, rel=0.05)


def test_a_clip_is_heard_in_parts_like_a_song() -> None:
    """A file read whole is cut into parts of about 10 seconds (a 30-second clip: three, as a song's three
    excerpts), a short one into fewer, and a part in silence is left out."""
    rate = 22050
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(30 * rate) / rate)).astype(np.float32)
    parts = excerpt_parts([tone])
    assert [p.size for p in parts] == [10 * rate] * 3
    assert [p.size for p in excerpt_parts([tone[: 20 * rate]])] == [10 * rate] * 2
    assert len(excerpt_parts([tone[: 12 * rate]])) == 1 and len(excerpt_parts([tone[: 2 * rate]])) == 1
    song = [tone[:rate * 10], tone[rate * 10:rate * 20], tone[rate * 20:]]
    assert excerpt_parts(song) == song  # a long track's excerpts are its parts
    fading = tone.copy()
    fading[20 * rate:] = 0.0  # the last third is silence
    assert [p.size for p in excerpt_parts([fading])] == [10 * rate] * 2


def test_the_track_summary_of_its_parts() -> None:
    def part(tempo: float, key: float, mode: float) -> dict[str, float]:
        return {**dict.fromkeys(FEATURE_NAMES, 1.0), "tempo": tempo, "key": key, "mode": mode}

    a_minor = np.roll(np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]), 9)
    analysis = AudioAnalysis((part(100, 9, 0), part(120, 0, 1), part(140, 4, 1)), 180.0, a_minor)
    features = analysis.features  # key and mode from the whole track's chroma, not from the parts' votes
    assert features["tempo"] == pytest.approx(120) and features["key"] == 9 and features["mode"] == 0
    stored = analysis.stored()
    assert stored_parts(stored) == [dict(p) for p in analysis.parts] and stored["tempo"] == pytest.approx(120)
    assert stored_parts({"tempo": 120}) is None
