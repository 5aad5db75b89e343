"""`emotune bench` (device.demo.bench): the figures it promises, from a real run on the replay frames."""

from __future__ import annotations

import json

import pytest

from device.config import Config
from device.demo.bench import run_bench

pytestmark = pytest.mark.slow  # each runs the camera loop on real frames for seconds


def test_bench_reports_the_followed_frame_the_whole_frame_searches_and_the_loop_cpu(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_bench(config, frames=14, as_json=True, loop_seconds=0.5) == 0
    result = json.loads(capsys.readouterr().out)
    # the design's contract, then what issue 15 added
    assert set(result["stages_ms"]) == {"grey", "detect", "preprocess", "classify"}
    assert result["frame_ms"] > 0 and result["whole_frame_ms"] > 0 and result["rss_mb"] > 0
    assert 0 < result["cpu_percent"] <= 100 * 2  # a share of one core; two threads at most here
    # a listener who stays is mostly followed: only some frames need a whole-frame search
    assert 0 < result["full_search_share"] < 0.5
    assert result["motion_faces_found"] >= 0.5 * result["motion_frames"]
    assert result["frames"] == 14 and result["fps"] == config.camera.fps


def test_bench_prints_the_figures_for_a_person(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    run_bench(config, frames=7, as_json=False, loop_seconds=0.2)
    out = capsys.readouterr().out
    assert "whole-frame searches on" in out and "% of one core" in out and "the daemon follows the face" in out
