"""Benchmark: telling people apart with dlib's face descriptor (issue 25, "Who is listening").

People: the three in ../shared/data/jaffe-dev/ (posed grey photos, all seven expressions; evaluation
only, never copied here). Each photo is put on a camera-like 640×480 frame (bench/calibration_jaffe.py's
`camera_frame`: a wall, the face at 170–230 px, tilt, light, sensor noise, JPEG), the camera's detector
finds the face, and device.calibration.identity describes it, as the daemon does on (re)acquisition.

Reported: every same-person and other-person distance between two faces (min, mean, max; how many fall
on the wrong side of dlib's 0.6), each face's distance to each person's identity (the mean of their
other faces' descriptors, as a calibration collects it), who `match` names with all three calibrated
and with the face's own person left out (a stranger), under the device's rule and under a bare 0.6, and
the cost of one descriptor (landmarks + network, the call the daemon makes) in ms on this machine.

    .venv/bin/python bench/identity_jaffe.py [--frames 1] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.calibration_jaffe import JAFFE, camera_frame, grey, read_people  # noqa: E402
from device.calibration.identity import (  # noqa: E402
    MARGIN,
    MATCH_DISTANCE,
    MEAN_DISTANCE,
    Identity,
    describer,
    distance,
    match,
)
from device.config import FacesConfig  # noqa: E402
from device.faces import FaceDetector  # noqa: E402


def describe_all(frames_per_photo: int, seed: int) -> tuple[list[tuple[str, np.ndarray]], list[float]]:
    """(subject, descriptor) per photo and frame, and each descriptor's cost in ms."""
    rng = np.random.default_rng(seed)
    detector = FaceDetector(FacesConfig())
    describe = describer().describe
    found: list[tuple[str, np.ndarray]] = []
    costs: list[float] = []
    for subject, classes in sorted(read_people(JAFFE).items()):
        for path in itertools.chain.from_iterable(classes.values()):
            for _ in range(frames_per_photo):
                frame = camera_frame(grey(path), rng)
                face = detector.largest(frame)
                if face is None:
                    continue
                started = time.perf_counter()
                vector = describe(frame, face.box)
                costs.append((time.perf_counter() - started) * 1000)
                found.append((subject, vector))
    return found, costs


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "min": round(min(values), 3), "mean": round(float(np.mean(values)), 3),
            "max": round(max(values), 3)}


def leave_one_out(found: list[tuple[str, np.ndarray]], i: int, people: list[str]) -> dict[str, Identity]:
    """Each person's identity from every descriptor but the i-th (as a calibration would have collected it)."""
    return {person: Identity(np.mean([v for j, (s, v) in enumerate(found) if s == person and j != i], axis=0)
                             .astype(np.float32), 1) for person in people}


def count(answers: list[str]) -> dict[str, int]:
    return {answer: answers.count(answer) for answer in sorted(set(answers))}


def measure(frames_per_photo: int, seed: int) -> dict[str, Any]:
    found, costs = describe_all(frames_per_photo, seed)
    people = sorted({s for s, _ in found})
    same: list[float] = []
    other: list[float] = []
    for (a, x), (b, y) in itertools.combinations(found, 2):
        (same if a == b else other).append(distance(x, y))
    own_mean: list[float] = []
    other_mean: list[float] = []
    known: dict[str, list[str]] = {p: [] for p in people}  # each face, all three calibrated
    known_plain: dict[str, list[str]] = {p: [] for p in people}  # the same with a bare 0.6 to the mean
    stranger: dict[str, list[str]] = {p: [] for p in people}  # each face, the two others calibrated
    stranger_plain: dict[str, list[str]] = {p: [] for p in people}
    for i, (subject, vector) in enumerate(found):
        identities = leave_one_out(found, i, people)
        own_mean.append(distance(vector, identities[subject].mean))
        other_mean += [distance(vector, identities[p].mean) for p in people if p != subject]
        known[subject].append(match(vector, identities) or "nobody")
        known_plain[subject].append(match(vector, identities, MATCH_DISTANCE, 0.0) or "nobody")
        others = {p: identity for p, identity in identities.items() if p != subject}
        stranger[subject].append(match(vector, others) or "nobody")
        stranger_plain[subject].append(match(vector, others, MATCH_DISTANCE, 0.0) or "nobody")
    warm = costs[1:] or costs
    return {
        "rule": {"pairwise": MATCH_DISTANCE, "to_mean": round(MEAN_DISTANCE, 3), "margin": MARGIN},
        "pairs": {"same_person": {**summary(same), "at_or_above_0.6": sum(d >= MATCH_DISTANCE for d in same)},
                  "other_person": {**summary(other), "below_0.6": sum(d < MATCH_DISTANCE for d in other)}},
        "to_mean": {"own": summary(own_mean), "other": summary(other_mean)},
        "named_all_calibrated": {p: count(a) for p, a in known.items()},
        "named_all_calibrated_bare_0.6": {p: count(a) for p, a in known_plain.items()},
        "named_as_stranger": {p: count(a) for p, a in stranger.items()},
        "named_as_stranger_bare_0.6": {p: count(a) for p, a in stranger_plain.items()},
        "descriptor_ms": {"median": round(float(np.median(warm)), 1), "p90": round(float(np.percentile(warm, 90)), 1),
                          "first": round(costs[0], 1), "n": len(costs)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1, help="camera-like frames per photo (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (JAFFE / "labels.csv").is_file():
        raise SystemExit(f"{JAFFE} is not here")
    result = measure(args.frames, args.seed)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    pairs, to_mean, cost = result["pairs"], result["to_mean"], result["descriptor_ms"]
    same, other = pairs["same_person"], pairs["other_person"]
    print(f"pairs, same person:  {same['n']}, distance {same['min']}–{same['max']} (mean {same['mean']}), "
          f"{same['at_or_above_0.6']} at or above 0.6")
    print(f"pairs, other person: {other['n']}, distance {other['min']}–{other['max']} (mean {other['mean']}), "
          f"{other['below_0.6']} below 0.6")
    print(f"to a person's mean: own faces {to_mean['own']['min']}–{to_mean['own']['max']} (mean "
          f"{to_mean['own']['mean']}), other people's {to_mean['other']['min']}–{to_mean['other']['max']} "
          f"(mean {to_mean['other']['mean']})")
    rule = result["rule"]
    print(f"the device's rule (to the mean < {rule['to_mean']}, nearest by {rule['margin']}):")
    print(f"  all three calibrated: {result['named_all_calibrated']}")
    print(f"  each as a stranger to the other two: {result['named_as_stranger']}")
    print("a bare 0.6 to the mean:")
    print(f"  all three calibrated: {result['named_all_calibrated_bare_0.6']}")
    print(f"  each as a stranger to the other two: {result['named_as_stranger_bare_0.6']}")
    print(f"one descriptor (landmarks + network): {cost['median']} ms median, {cost['p90']} ms p90 "
          f"({cost['n']} calls; first {cost['first']} ms)")


if __name__ == "__main__":
    main()
