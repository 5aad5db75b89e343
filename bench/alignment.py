"""Benchmark: does levelling the eyes (faces.align, dlib's 5-point landmarks) help a tilted head?

For every fixture face (data/fixtures/fer_faces.npz, 148 FER2013 faces) and each head roll it builds a
640×480 frame the way the demo does (device.demo.faces.face_frame) with the face turned by that many
degrees, runs the daemon's detector with and without alignment, and compares the model's label on the
crop with its label on the original upright 48×48 face ("agreement"). It also prints how often dlib
found the face, the roll the landmarks measured (it should be minus the roll applied), and the time
the landmark step adds per face.

    .venv/bin/python bench/alignment.py [--model PATH] [--rolls 0 10 20 30] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from device.config import FacesConfig  # noqa: E402
from device.demo.faces import face_frame, load_fixture  # noqa: E402
from device.emotion import SHIPPED_MODEL, EmotionClassifier  # noqa: E402
from device.faces import FaceDetector  # noqa: E402


def measure(model: Path, rolls: list[float], seed: int) -> list[dict[str, Any]]:
    fixture = load_fixture()
    classifier = EmotionClassifier(model, threads=1)
    reference = [int(np.argmax(classifier.probabilities(image))) for image in fixture.images]
    plain = FaceDetector(dataclasses.replace(FacesConfig(), align=False))
    aligned = FaceDetector(dataclasses.replace(FacesConfig(), align=True))
    if not aligned.aligns:
        raise SystemExit("dlib's landmark model is not installed: pip install face-recognition-models")
    rows = []
    for roll in rolls:
        rng = np.random.default_rng(seed)
        found = agree_plain = agree_aligned = 0
        measured: list[float] = []
        extra_ms: list[float] = []
        for index, image in enumerate(fixture.images):
            frame = face_frame(image, rng, roll_deg=roll)
            started = time.perf_counter()
            face = plain.largest(frame)
            plain_ms = (time.perf_counter() - started) * 1000
            if face is None:
                continue
            started = time.perf_counter()
            levelled = aligned.largest(frame)
            extra_ms.append((time.perf_counter() - started) * 1000 - plain_ms)
            found += 1
            agree_plain += int(np.argmax(classifier.probabilities(face.crop))) == reference[index]
            if levelled is not None:
                measured.append(levelled.roll_deg)
                agree_aligned += int(np.argmax(classifier.probabilities(levelled.crop))) == reference[index]
        rows.append({
            "roll_deg": roll,
            "frames": len(fixture.images),
            "found": found,
            "agreement_plain": agree_plain / max(1, found),
            "agreement_aligned": agree_aligned / max(1, found),
            "measured_roll_median": statistics.median(measured) if measured else None,
            "landmark_ms_median": statistics.median(extra_ms) if extra_ms else None,
        })
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--rolls", type=float, nargs="+", default=[0, 10, 20, 30])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = measure(args.model, args.rolls, args.seed)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"model {args.model}; agreement = same label as the model gives the upright 48×48 original")
    print(f"{'roll':>5} {'found':>9} {'plain':>7} {'aligned':>8} {'measured roll':>14} {'landmark ms':>12}")
    for row in rows:
        roll = row["measured_roll_median"]
        print(f"{row['roll_deg']:5.0f} {row['found']:4d}/{row['frames']:<4d} {row['agreement_plain']:7.1%} "
              f"{row['agreement_aligned']:8.1%} {'' if roll is None else f'{roll:+.1f}':>14} "
              f"{row['landmark_ms_median'] or 0:12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
