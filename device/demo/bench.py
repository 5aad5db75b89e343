"""`emotune bench`: how long each stage of a frame takes, and what the loop costs in CPU and memory.

Replay frames of real FER2013 faces on a 640×480 wall, so the figures compare between machines: the
demo's scenes (a face placed anew each frame) time each stage of a whole-frame detection (grey, detect,
preprocess, classify; median ms on one thread); device.demo.motion's sequences (a listener who moves,
leaves, turns) time the daemon's path, which follows the face (median and mean per frame), and count the
frames that needed a whole-frame search. Then the sensing loop runs over the sequences at the configured
frame rate for `loop_seconds`, and its CPU is reported as a share of one core.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from device.config import Config
from device.demo.faces import load_fixture, write_scenes
from device.demo.motion import motion_sequences
from device.emotion import Classifier, load_classifier
from device.faces import FaceDetector, to_grey
from device.preprocess import preprocess_face
from device.tracking import TrackedFaceFinder

LOOP_SECONDS = 10.0
MOTION_FRAMES = 40  # per sequence: 10 s at 4 fps


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def _scene_frames(frames: int) -> list[np.ndarray]:
    fixture = load_fixture()
    labels = sorted(set(fixture.labels))
    with tempfile.TemporaryDirectory() as tmp:
        write_scenes(Path(tmp), [(label, max(1, frames // len(labels))) for label in labels], fixture)
        return [np.asarray(cv2.imread(str(p))) for p in sorted(Path(tmp).glob("*.png"))]


def _stages(detector: FaceDetector, classifier: Any, images: list[np.ndarray]) -> tuple[dict[str, list[float]], int]:
    """Each stage's seconds per scene frame (whole-frame detection), and the frames with a face."""
    stages: dict[str, list[float]] = {"grey": [], "detect": [], "preprocess": [], "classify": [], "frame": []}
    found = 0
    for frame in images:
        t0 = time.perf_counter()
        grey = to_grey(frame)
        t1 = time.perf_counter()
        face = detector.largest(grey)
        t2 = time.perf_counter()
        stages["grey"].append(t1 - t0)
        stages["detect"].append(t2 - t1)
        if face is not None:
            found += 1
            preprocess_face(face.crop, classifier.input_size)
            t3 = time.perf_counter()
            classifier.classify(face.crop)  # includes its own preprocessing, as the daemon runs it
            t4 = time.perf_counter()
            stages["preprocess"].append(t3 - t2)
            stages["classify"].append(t4 - t3)
            stages["frame"].append((t1 - t0) + (t2 - t1) + (t4 - t3))
        else:
            stages["frame"].append(t2 - t0)
    return stages, found


def _followed(detector: FaceDetector, classifier: Classifier, sequences: list[list[np.ndarray]]
              ) -> tuple[list[float], int, int]:
    """The daemon's path (follow, classify) over each sequence with a fresh finder: seconds per frame,
    frames with a face, whole-frame searches."""
    seconds, found, full = [], 0, 0
    for sequence in sequences:
        finder = TrackedFaceFinder(detector)
        for frame in sequence:
            started = time.perf_counter()
            face = finder.largest(frame)
            if face is not None:
                classifier.classify(face.crop)
                found += 1
            seconds.append(time.perf_counter() - started)
        full += finder.counts.full_searches
    return seconds, found, full


def _loop_cpu(detector: FaceDetector, classifier: Classifier, frames: list[np.ndarray], fps: float,
              seconds: float) -> float:
    """CPU of the daemon's sensing loop at `fps` over `frames` (looped), % of one core (playback is VLC's)."""
    finder = TrackedFaceFinder(detector)
    tick = 1.0 / fps
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    i = 0
    while time.perf_counter() - wall_start < seconds:
        started = time.perf_counter()
        face = finder.largest(frames[i % len(frames)])
        if face is not None:
            classifier.classify(face.crop)
        i += 1
        time.sleep(max(0.0, tick - (time.perf_counter() - started)))
    return 100 * (time.process_time() - cpu_start) / (time.perf_counter() - wall_start)


def run_bench(config: Config, frames: int, as_json: bool, loop_seconds: float = LOOP_SECONDS) -> int:
    """Measure and print (text, or one JSON document with `as_json`); returns the exit status, 0.

    `frames`: scene frames for the stage timings (rounded down to a multiple of the 7 labels, at least 7).
    """
    detector = FaceDetector(config.faces)
    classifier = load_classifier(config)
    images = _scene_frames(frames)
    stages, found = _stages(detector, classifier, images)
    scene_count = len(images)
    del images  # the motion sequences' frames come next: one set in memory at a time
    sequences = list(motion_sequences(MOTION_FRAMES).values())
    followed, followed_found, full = _followed(detector, classifier, sequences)
    motion_frames = len(followed)
    cpu_percent = _loop_cpu(detector, classifier, [f for s in sequences for f in s], config.camera.fps, loop_seconds)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    result = {
        "stages_ms": {name: _median_ms(v) for name, v in stages.items() if v and name != "frame"},
        "frame_ms": _median_ms(followed),
        "frame_ms_mean": round(statistics.fmean(followed) * 1000, 3),
        "whole_frame_ms": _median_ms(stages["frame"]),
        "full_search_share": round(full / motion_frames, 3),
        "cpu_percent": round(cpu_percent, 1),
        "rss_mb": round(rss_mb, 1),
        "frames": scene_count,
        "faces_found": found,
        "motion_frames": motion_frames,
        "motion_faces_found": followed_found,
        "fps": config.camera.fps,
        "model": str(classifier.model_path),
    }
    if as_json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        _print(result)
    return 0


def _print(result: dict[str, Any]) -> None:
    print(f"{result['frames']} scene frames 640×480 (a face placed anew each frame), faces found in "
          f"{result['faces_found']}; whole-frame detection:")
    for name, ms in result["stages_ms"].items():
        print(f"  {name:11s} {ms:8.2f} ms (median)")
    print(f"  {'whole frame':11s} {result['whole_frame_ms']:8.2f} ms (median)")
    print(f"{result['motion_frames']} frames of a listener moving (device.demo.motion), faces found in "
          f"{result['motion_faces_found']}; the daemon follows the face:")
    print(f"  {'frame':11s} {result['frame_ms']:8.2f} ms (median), {result['frame_ms_mean']:.2f} ms (mean); "
          f"whole-frame searches on {result['full_search_share']:.1%} of frames")
    print(f"sensing loop at {result['fps']:g} fps: {result['cpu_percent']:.1f} % of one core; "
          f"peak RSS {result['rss_mb']:.0f} MB")


__all__ = ["run_bench"]
