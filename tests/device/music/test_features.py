"""Audio features (device.music.features) of short demo pieces (tests/conftest.py's demo_clips)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from device.demo.music import DEMO_PIECES
from device.music.features import FEATURE_NAMES, count_onsets, estimate_key, zero_crossing_rate

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
