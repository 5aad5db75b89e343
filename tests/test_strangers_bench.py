"""bench/strangers.py: camera-like frames of FER2013 PublicTest faces, through the real camera path."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from device.config import PACKAGE_ROOT
from device.demo.faces import load_fixture
from device.faces import to_grey


@pytest.fixture(scope="module")
def strangers() -> ModuleType:
    path = PACKAGE_ROOT / "bench" / "strangers.py"
    spec = importlib.util.spec_from_file_location("bench_strangers", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_strangers"] = module
    spec.loader.exec_module(module)
    return module


def test_the_same_seed_builds_the_same_frames(strangers: ModuleType) -> None:
    face = load_fixture().images[0]
    condition = strangers.Condition("small 80-110", "side-lit", "soft s1.5")
    first = strangers.build_frame(face, condition, np.random.default_rng(3))
    again = strangers.build_frame(face, condition, np.random.default_rng(3))
    other = strangers.build_frame(face, condition, np.random.default_rng(4))
    assert first.image.shape == (480, 640, 3) and first.image.dtype == np.uint8
    assert np.array_equal(first.image, again.image) and first.box == again.box
    assert not np.array_equal(first.image, other.image)


def test_every_size_light_and_blur_cell_gets_its_share(strangers: ModuleType) -> None:
    cells = Counter(strangers.conditions(72, np.random.default_rng(0)))
    assert len(cells) == 36 and set(cells.values()) == {2}


@pytest.mark.parametrize("size", ["small 80-110", "large 160-250"])
def test_the_box_is_where_the_face_was_put(strangers: ModuleType, size: str) -> None:
    """The placed square, cut from a sharp evenly lit frame and shrunk to 48×48, is the face again
    (inside the few pixels where its edge fades into the wall)."""
    face = load_fixture().images[5]
    frame = strangers.build_frame(face, strangers.Condition(size, "even", "sharp"), np.random.default_rng(1))
    left, top, right, bottom = frame.box
    low, high = strangers.SIZES[size]
    assert low <= right - left <= high and right - left == bottom - top
    back = strangers.at_input(to_grey(frame.image)[top:bottom, left:right]).astype(np.float64)
    inner = (slice(3, 45), slice(3, 45))
    assert np.corrcoef(back[inner].ravel(), face[inner].astype(np.float64).ravel())[0, 1] > 0.98


def test_dim_light_darkens_and_washed_out_light_flattens(strangers: ModuleType) -> None:
    rng = np.random.default_rng(0)
    frame = np.linspace(0, 1, 640 * 480, dtype=np.float32).reshape(480, 640)
    box = (200, 100, 400, 300)
    dim = strangers.relight(frame, "dim", box, rng)
    washed = strangers.relight(frame, "washed out", box, rng)
    assert dim.max() < 0.6
    assert washed.min() >= 0.3 and np.ptp(washed) < 0.7


@pytest.mark.slow  # the whole benchmark over every condition
def test_the_benchmark_reports_every_condition(strangers: ModuleType, synthetic_npz: Path) -> None:
    """A short run on the synthetic faces: every face accounted for, each condition in the summary."""
    result = strangers.measure(strangers.SHIPPED_MODEL, synthetic_npz, 12, seed=0)
    assert result["faces"] == 12 and len(result["rows"]) == 12
    summary = strangers.report(result)
    groups = summary["groups"]
    assert groups["all"]["n"] == 12
    assert {f"size: {name}" for name in strangers.SIZES} <= set(groups)
    assert {f"light: {name}" for name in strangers.LIGHTS} <= set(groups)
    assert {f"blur: {name}" for name in strangers.BLURS} <= set(groups)
    for row in result["rows"]:
        assert row["camera"] == -1 or 0 <= row["camera"] < 7
        assert 0 <= row["direct"] < 7 and 0 <= row["exact"] < 7
