"""`emotune bench`: how long each stage of a frame takes, and what the loop costs in CPU and memory.

Frames are the demo's replay frames (real FER2013 faces on a 640×480 background), so the figures are
comparable between machines. Median milliseconds per stage, on one thread.
"""

from __future__ import annotations

import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from device.config import Config
from device.demo.faces import load_fixture, write_scenes
from device.emotion import load_classifier
from device.faces import FaceDetector, to_grey
from device.preprocess import preprocess_face

LOOP_SECONDS = 10.0


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def run_bench(config: Config, frames: int, as_json: bool) -> int:
    detector = FaceDetector(config.faces)
    classifier = load_classifier(config)
    fixture = load_fixture()
    labels = sorted(set(fixture.labels))
    with tempfile.TemporaryDirectory() as tmp:
        per_label = max(1, frames // len(labels))
        write_scenes(Path(tmp), [(label, per_label) for label in labels], fixture)
        images = [np.asarray(cv2.imread(str(p))) for p in sorted(Path(tmp).glob("*.png"))]

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

    # CPU of the daemon's sensing loop at the configured frame rate (playback itself is VLC's share)
    tick = 1.0 / config.camera.fps
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    i = 0
    while time.perf_counter() - wall_start < LOOP_SECONDS:
        started = time.perf_counter()
        face = detector.largest(images[i % len(images)])
        if face is not None:
            classifier.classify(face.crop)
        i += 1
        time.sleep(max(0.0, tick - (time.perf_counter() - started)))
    cpu_percent = 100 * (time.process_time() - cpu_start) / (time.perf_counter() - wall_start)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    stages_ms = {name: _median_ms(v) for name, v in stages.items() if v and name != "frame"}
    result = {
        "stages_ms": stages_ms,
        "frame_ms": _median_ms(stages["frame"]),
        "cpu_percent": round(cpu_percent, 1),
        "rss_mb": round(rss_mb, 1),
        "frames": len(images),
        "faces_found": found,
        "fps": config.camera.fps,
        "model": str(classifier.model_path),
    }
    if as_json:
        import json

        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"{len(images)} frames 640×480, faces found in {found}")
        for name, ms in stages_ms.items():
            print(f"  {name:11s} {ms:8.2f} ms (median)")
        print(f"  {'whole frame':11s} {result['frame_ms']:8.2f} ms (median)")
        print(f"sensing loop at {config.camera.fps:g} fps: {cpu_percent:.1f} % of one core; "
              f"peak RSS {rss_mb:.0f} MB")
    return 0


__all__ = ["run_bench"]
