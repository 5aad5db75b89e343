"""Benchmark: strangers' faces as a camera sees them, through the real camera path (issue 16).

Nothing full-size and labelled can be downloaded here, so the set is built from FER2013 **PublicTest**
faces (never fit on: the model is fit on Training and only chosen on PublicTest; PrivateTest, the split
its figures are reported on, is not touched). For each face, one 640×480 frame:

- size: the 48×48 face upscaled (bicubic) to a side of 80–250 px, three bands (small 80–110, medium
  110–160, large 160–250), placed at a random spot, its edge fading over 4 % of its side into a
  background (a smooth random wall with a few furniture-like rectangles and fine texture);
- light (over the whole frame): even (gain and gamma ±10 %), dim (gain 0.35–0.55, gamma 1.1–1.4),
  washed out (lifted blacks, gain on highlights: 0.3–0.45 + 0.55·x^0.7), side-lit (a ramp across the
  face from 0.3–0.5 of the light on one side to 1.1 on the other);
- blur (optics / focus, Gaussian σ in frame pixels): sharp 0, soft 1.5, blurred 3;
- sensor noise (Gaussian σ 2–5 grey levels) and JPEG compression (quality 60–90), then decoded as
  `emotune classify` would read the file.

Size × light × blur form 36 cells; the faces are dealt to them in turn (a balanced design), the rest
drawn per face from the seed. Each frame then goes through:

- `emotune classify`'s path: `StillPhotoDetector(FacesConfig())` (dlib HOG at the camera's and near
  full size, eye levelling with dlib's 5-point landmarks, square crop with `faces.margin`) and the
  shipped model (`EmotionClassifier.classify`); the detection overlapping the placed face (IoU ≥ 0.3)
  is the one scored;
- the daemon's face finder as the daemon builds it (`TrackedFaceFinder(FaceDetector(faces))`,
  device/assembly.py), a fresh one per frame, i.e. its first frame with nothing followed yet: the
  whole-frame search (480 px wide, no upsampling), then, when that finds nothing, the small-face search
  (`faces.small_face_width`; `--small-face-width 0` turns it off, as before issue 16's change): found
  (IoU >= 0.3) or not;
- the model on exactly the placed square cut from the degraded frame ("exact crop": what size, light,
  blur, noise and JPEG cost without the detector's box), and on the original 48×48 face ("48×48").

So 48×48 → exact crop is what the camera's image costs, exact crop → camera path what detection,
levelling and cropping cost. Variants re-crop the same detected faces (margins, levelling off) and try
an inference-only illumination normalisation (the crop's mean and spread matched to FER2013 Training's
per-face averages), also on the 48×48 faces to show what it does to FER2013 itself.

    .venv/bin/python bench/strangers.py [--faces 1080] [--seed 0] [--model PATH] [--data NPZ]
        [--min-score S] [--small-face-width W] [--fer-check] [--save-frames DIR] [--json]

About 0.1–0.2 s per frame on one core (`--faces 0`: all 3,589 PublicTest faces, about 6–10 minutes).
`--timing N` instead times the daemon's finder per frame (see `timing`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
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

from device import EMOTION_LABELS  # noqa: E402
from device.config import FacesConfig  # noqa: E402
from device.emotion import SHIPPED_MODEL, EmotionClassifier  # noqa: E402
from device.faces import FaceDetector, StillPhotoDetector, level_crop, overlap, square_crop, to_grey  # noqa: E402
from device.listener.fer2013 import load_split  # noqa: E402
from device.preprocess import INPUT_SIZE  # noqa: E402
from device.tracking import TrackedFaceFinder  # noqa: E402

FRAME_W, FRAME_H = 640, 480
SIZES: dict[str, tuple[int, int]] = {"small 80-110": (80, 110), "medium 110-160": (110, 160),
                                     "large 160-250": (160, 250)}
LIGHTS = ("even", "dim", "washed out", "side-lit")
BLURS: dict[str, float] = {"sharp": 0.0, "soft s1.5": 1.5, "blurred s3": 3.0}  # Gaussian sigma, frame px
MATCH_IOU = 0.3  # a detection overlapping the placed face at least this much is that face
MARGINS = (0.0, 0.05, 0.10, 0.15)
# the face's edge fades into the wall over this fraction of its side (about 2 of FER2013's 48 px): no hard
# square outline for the detector; a wider fade (0.08) replaces enough of FER's border to cost the model
# 1.5-3 points on the exact crop by itself (measured on 400 faces)
FEATHER = 0.04


@dataclass(frozen=True)
class Condition:
    size: str
    light: str
    blur: str


@dataclass
class Frame:
    """One built frame: the JPEG-decoded BGR image (480, 640, 3) uint8 and where the face was put."""

    image: np.ndarray
    box: tuple[int, int, int, int]  # left, top, right, bottom of the placed square, frame pixels
    condition: Condition
    details: dict[str, float] = field(default_factory=dict)


def background(rng: np.random.Generator) -> np.ndarray:
    """A 480×640 float wall in [0, 1]: smooth shading, 2–5 furniture-like rectangles, fine texture."""
    coarse = rng.uniform(0.25, 0.75, (4, 5)).astype(np.float32)
    wall = cv2.resize(coarse, (FRAME_W, FRAME_H), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = int(rng.integers(0, FRAME_W - 60)), int(rng.integers(0, FRAME_H - 60))
        x1, y1 = x0 + int(rng.integers(40, 260)), y0 + int(rng.integers(40, 300))
        wall[y0:y1, x0:x1] = rng.uniform(0.1, 0.9)
    wall = cv2.GaussianBlur(wall, (0, 0), 2.0)
    wall = wall + np.asarray(rng.normal(0, 0.02, wall.shape), np.float32)
    return np.clip(wall, 0, 1)


def relight(frame: np.ndarray, light: str, box: tuple[int, int, int, int],
            rng: np.random.Generator) -> np.ndarray:
    """The scene's light on a float frame in [0, 1] (H, W): see the module docstring for each kind."""
    if light == "even":
        return np.clip(rng.uniform(0.9, 1.1) * frame ** rng.uniform(0.9, 1.1), 0, 1)
    if light == "dim":
        return rng.uniform(0.35, 0.55) * frame ** rng.uniform(1.1, 1.4)
    if light == "washed out":
        return np.clip(rng.uniform(0.3, 0.45) + 0.55 * frame ** 0.7, 0, 1)
    if light == "side-lit":
        left, _, right, _ = box
        low, high = rng.uniform(0.3, 0.5), 1.1
        x = np.arange(frame.shape[1], dtype=np.float32)
        ramp = np.clip((x - left) / max(right - left, 1), 0, 1)
        if rng.random() < 0.5:
            ramp = ramp[::-1]
        return np.clip(frame * (low + (high - low) * ramp)[None, :], 0, 1)
    raise ValueError(f"unknown light {light!r}")


def build_frame(face: np.ndarray, condition: Condition, rng: np.random.Generator) -> Frame:
    """A camera-like 640×480 frame of `face` (48×48 uint8) under `condition`, as a JPEG decodes."""
    frame, box, side = build_scene(face, condition, rng)
    image, noise, quality = expose(frame, rng)
    return Frame(image, box, condition, {"side": side, "noise": noise, "jpeg_quality": quality})


def build_scene(face: np.ndarray, condition: Condition, rng: np.random.Generator
                ) -> tuple[np.ndarray, tuple[int, int, int, int], int]:
    """The scene of build_frame before the camera's noise and JPEG: a float frame in [0, 1] (H, W), the
    placed square and its side."""
    low, high = SIZES[condition.size]
    side = int(rng.integers(low, high + 1))
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    x = int(rng.integers(20, FRAME_W - side - 20))
    y = int(rng.integers(10, FRAME_H - side - 10))
    box = (x, y, x + side, y + side)
    frame = background(rng)
    ramp = np.clip(np.minimum(np.arange(side), np.arange(side)[::-1]) / (FEATHER * side), 0, 1).astype(np.float32)
    alpha = np.minimum(ramp[:, None], ramp[None, :])  # a feathered edge, no hard square outline
    frame[y : y + side, x : x + side] = alpha * big + (1 - alpha) * frame[y : y + side, x : x + side]
    frame = relight(frame, condition.light, box, rng)
    sigma = BLURS[condition.blur]
    if sigma:
        frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    return frame, box, side


def expose(frame: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float, int]:
    """A float scene in [0, 1] (H, W) as the camera delivers it: sensor noise (σ 2–5 grey levels), JPEG
    (quality 60–90), decoded to BGR uint8; and the noise and quality drawn."""
    noise = float(rng.uniform(2, 5))
    quality = int(rng.integers(60, 91))
    grey = np.clip(frame * 255 + rng.normal(0, noise, frame.shape), 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    image = cv2.imdecode(encoded, cv2.IMREAD_COLOR)  # as `emotune classify` reads a file
    if image is None:
        raise RuntimeError("JPEG decoding failed")
    return image, noise, quality


def conditions(count: int, rng: np.random.Generator) -> list[Condition]:
    """`count` conditions, the 36 size × light × blur cells dealt in turn, in a seeded order."""
    cells = [Condition(s, light, b) for s in SIZES for light in LIGHTS for b in BLURS]
    dealt = [cells[i % len(cells)] for i in range(count)]
    return [dealt[i] for i in rng.permutation(count)]


def fer_normaliser(training: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A crop → the same crop with its mean and standard deviation set to FER2013 Training's averages
    (per-face mean and spread, averaged over the split): an illumination normalisation that needs no
    retraining. Input and output: grey uint8 (H, W)."""
    flat = training.reshape(len(training), -1).astype(np.float32)
    target_mean, target_std = float(flat.mean(axis=1).mean()), float(flat.std(axis=1).mean())

    def normalise(grey: np.ndarray) -> np.ndarray:
        values = grey.astype(np.float32)
        std = float(values.std())
        if std < 1.0:  # a flat patch: nothing to stretch
            return grey
        return np.clip((values - values.mean()) / std * target_std + target_mean, 0, 255).astype(np.uint8)

    return normalise


def at_input(grey: np.ndarray) -> np.ndarray:
    """A crop resized as device.preprocess does (area when shrinking), still uint8 (48, 48)."""
    if grey.shape == (INPUT_SIZE, INPUT_SIZE):
        return grey
    interpolation = cv2.INTER_AREA if grey.shape[0] > INPUT_SIZE else cv2.INTER_LINEAR
    return cv2.resize(grey, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation)


def measure(model: Path, data: Path | None, count: int, seed: int, min_score: float | None = None,
            small_face_width: int | None = None) -> dict[str, Any]:
    """Build the frames, run every path; per face: condition, truth and each path's label (or -1).

    `min_score`: dlib's detection threshold for both detectors (default: `faces.min_score`'s default);
    `small_face_width`: the daemon's small-face search (default: `faces.small_face_width`'s; 0: none)."""
    split = load_split(data, "PublicTest")
    images, labels = split.images, split.labels.astype(int)
    usable = np.flatnonzero(images.reshape(len(images), -1).std(axis=1) >= 1.0)  # drop blank images
    rng = np.random.default_rng(seed)
    picked = rng.permutation(usable)[: count or len(usable)]
    normalise = fer_normaliser(load_split(data, "Training").images)
    classifier = EmotionClassifier(model, threads=1)
    faces_config = FacesConfig() if min_score is None else dataclasses.replace(FacesConfig(), min_score=min_score)
    daemon_config = faces_config if small_face_width is None else dataclasses.replace(
        faces_config, small_face_width=small_face_width)
    still, camera = StillPhotoDetector(faces_config), FaceDetector(daemon_config)

    def label(grey: np.ndarray) -> int:
        return int(np.argmax(classifier.probabilities(grey)))

    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for index, condition in zip(picked, conditions(len(picked), rng), strict=True):
        face = images[index]
        frame = build_frame(face, condition, rng)
        grey = to_grey(frame.image)
        left, top, right, bottom = frame.box
        exact = grey[top:bottom, left:right]
        row: dict[str, Any] = {
            "publictest_index": int(index), "truth": int(labels[index]), **condition.__dict__, **frame.details,
            "direct": label(face), "direct_normalised": label(normalise(face)), "exact": label(exact),
        }
        finder = TrackedFaceFinder(camera)  # nothing followed yet: this frame is its first
        daemon_face = finder.largest(frame.image)
        row["daemon_found"] = daemon_face is not None and overlap(daemon_face.box, frame.box) >= MATCH_IOU
        row["daemon_false"] = daemon_face is not None and not row["daemon_found"]
        row["daemon_small_search"] = finder.counts.small_searches > 0
        detected = still.detect_all(frame.image)
        found = [f for f in detected if overlap(f.box, frame.box) >= MATCH_IOU]
        row["false_detections"] = len(detected) - len(found)
        if found:
            hit = max(found, key=lambda f: overlap(f.box, frame.box))
            row["camera"] = label(hit.crop)
            row["roll_deg"] = hit.roll_deg
            row["camera_normalised"] = label(normalise(at_input(hit.crop)))
            row["no_levelling"] = label(square_crop(grey, hit.box, faces_config.margin))
            for margin in MARGINS:
                crop = level_crop(grey, hit.box, margin, hit.roll_deg) if hit.roll_deg else square_crop(
                    grey, hit.box, margin)
                row[f"margin_{margin:.2f}"] = label(crop)
        else:
            row["camera"] = -1
        rows.append(row)
    return {"model": str(model), "seed": seed, "min_score": faces_config.min_score,
            "small_face_width": daemon_config.small_face_width, "faces": len(rows),
            "seconds": time.perf_counter() - started, "rows": rows}


TIMING_FRAMES = 40  # frames per timing sequence: 10 s at the daemon's 4 fps
TIMING_KINDS = ("nobody, still", "nobody, changing", "small face, still")


def timing_sequence(kind: str, split_images: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """TIMING_FRAMES camera frames (BGR uint8) of one kind: a still wall (each frame only its own noise
    and JPEG), a new wall every frame (the worst case: every frame changed, nobody to find), or a still
    wall with one PublicTest face of 80–110 px (even light, sharp) on it."""
    if kind == "nobody, still":
        wall = background(rng)
        return [expose(wall, rng)[0] for _ in range(TIMING_FRAMES)]
    if kind == "nobody, changing":
        return [expose(background(rng), rng)[0] for _ in range(TIMING_FRAMES)]
    if kind == "small face, still":
        face = split_images[int(rng.integers(len(split_images)))]
        scene, _, _ = build_scene(face, Condition("small 80-110", "even", "sharp"), rng)
        return [expose(scene, rng)[0] for _ in range(TIMING_FRAMES)]
    raise ValueError(f"unknown timing sequence {kind!r}")


def timing(data: Path | None, sequences: int, seed: int, widths: tuple[int, ...]) -> dict[str, Any]:
    """The daemon's finder (`TrackedFaceFinder` over `FaceDetector`, as device/assembly.py builds it) over
    `sequences` sequences of each kind, a fresh finder per sequence, for each `faces.small_face_width` in
    `widths` (0: no small-face search) on the same frames, alternating: CPU ms per frame (one thread),
    split by what the finder did on the frame, and the frames with a face found."""
    split = load_split(data, "PublicTest")
    images = split.images[split.images.reshape(len(split.images), -1).std(axis=1) >= 1.0]
    detectors = {width: FaceDetector(dataclasses.replace(FacesConfig(), small_face_width=width)) for width in widths}
    rng = np.random.default_rng(seed)
    samples: dict[tuple[str, int], list[tuple[float, str, bool]]] = {(k, w): [] for k in TIMING_KINDS for w in widths}
    for _ in range(sequences):
        for kind in TIMING_KINDS:
            frames = timing_sequence(kind, images, rng)
            for width, detector in detectors.items():
                finder = TrackedFaceFinder(detector)
                for frame in frames:
                    before = dataclasses.replace(finder.counts)
                    started = time.process_time()
                    face = finder.largest(frame)
                    seconds = time.process_time() - started
                    if finder.counts.small_searches > before.small_searches:
                        did = "small"
                    elif finder.counts.full_searches > before.full_searches:
                        did = "whole"
                    elif finder.counts.unchanged > before.unchanged:
                        did = "none"
                    else:
                        did = "window"
                    samples[(kind, width)].append((seconds, did, face is not None))
    out: dict[str, Any] = {}
    for (kind, width), rows in samples.items():
        ms = np.array([r[0] for r in rows]) * 1000
        entry: dict[str, Any] = {"frames": len(rows), "found": sum(r[2] for r in rows),
                                 "median_ms": float(np.median(ms)), "mean_ms": float(ms.mean())}
        for did in ("small", "whole", "window", "none"):
            picked = ms[[r[1] == did for r in rows]]
            entry[did] = {"frames": len(picked), "median_ms": float(np.median(picked)) if len(picked) else None}
        out[f"{kind} / small_face_width {width}"] = entry
    return {"sequences": sequences, "frames_per_sequence": TIMING_FRAMES, "seed": seed, "timing": out}


def print_timing(result: dict[str, Any]) -> None:
    print(f"the daemon's finder, {result['sequences']} sequences of {result['frames_per_sequence']} frames 640x480 "
          f"per kind, seed {result['seed']}; CPU ms per frame on one thread")
    print("  per frame: median / mean over all frames; then median (frames) of those with a small-face search, "
          "a whole-frame search only, a window search only, no search")
    for name, e in result["timing"].items():
        parts = [f"{did} {e[did]['median_ms']:.1f} ({e[did]['frames']})" if e[did]["frames"] else f"{did} - (0)"
                 for did in ("small", "whole", "window", "none")]
        print(f"  {name:<40} median {e['median_ms']:6.2f}  mean {e['mean_ms']:6.2f}  found {e['found']:>3}/"
              f"{e['frames']}  | " + ", ".join(parts))


def fer_check(model: Path, data: Path | None) -> None:
    """What the inference-only normalisation does on FER2013's own faces (what `emotune evaluate` reads):
    accuracy without and with it on every PublicTest and PrivateTest face, and the faces it fixes/breaks."""
    classifier = EmotionClassifier(model, threads=1)
    normalise = fer_normaliser(load_split(data, "Training").images)
    for name in ("PublicTest", "PrivateTest"):
        split = load_split(data, name)
        truth = split.labels.astype(int)
        plain = np.array([np.argmax(classifier.probabilities(face)) for face in split.images])
        normed = np.array([np.argmax(classifier.probabilities(normalise(face))) for face in split.images])
        print(f"{name} 48x48, {len(truth)} faces: plain {100 * np.mean(plain == truth):.2f} %, normalised "
              f"{100 * np.mean(normed == truth):.2f} %, fixes {int(np.sum((normed == truth) & (plain != truth)))}, "
              f"breaks {int(np.sum((plain == truth) & (normed != truth)))}")


def _pct(hits: int, total: int) -> float:
    return 100.0 * hits / total if total else float("nan")


def summarise(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Figures for a group of faces (percentages)."""
    n = len(rows)
    found = [r for r in rows if r["camera"] >= 0]
    out = {
        "n": n,
        "found": _pct(len(found), n),
        "daemon_found": _pct(sum(r["daemon_found"] for r in rows), n),
        "direct": _pct(sum(r["direct"] == r["truth"] for r in rows), n),
        "exact": _pct(sum(r["exact"] == r["truth"] for r in rows), n),
        "camera_found": _pct(sum(r["camera"] == r["truth"] for r in found), len(found)),
        "camera_all": _pct(sum(r["camera"] == r["truth"] for r in rows), n),
        "direct_on_found": _pct(sum(r["direct"] == r["truth"] for r in found), len(found)),
        "exact_on_found": _pct(sum(r["exact"] == r["truth"] for r in found), len(found)),
        "agree": _pct(sum(r["camera"] == r["direct"] for r in found), len(found)),
    }
    for key in ("no_levelling", "camera_normalised", *(f"margin_{m:.2f}" for m in MARGINS)):
        out[key] = _pct(sum(r[key] == r["truth"] for r in found), len(found))
    out["direct_normalised"] = _pct(sum(r["direct_normalised"] == r["truth"] for r in rows), n)
    return out


def report(result: dict[str, Any]) -> dict[str, Any]:
    rows = result["rows"]
    groups: dict[str, dict[str, float]] = {"all": summarise(rows)}
    for key, names in (("size", SIZES), ("blur", BLURS), ("light", LIGHTS)):
        for name in names:
            groups[f"{key}: {name}"] = summarise([r for r in rows if r[key] == name])
    found = [r for r in rows if r["camera"] >= 0]
    recall = {label: _pct(sum(r["camera"] == r["truth"] for r in found if r["truth"] == i),
                          sum(r["truth"] == i for r in found)) for i, label in enumerate(EMOTION_LABELS)}
    # paired: on how many found faces does each variant fix / break the shipped camera path's answer
    paired = {key: {"fixes": sum(r[key] == r["truth"] != r["camera"] for r in found),
                    "breaks": sum(r["camera"] == r["truth"] != r[key] for r in found)}
              for key in ("no_levelling", "camera_normalised", *(f"margin_{m:.2f}" for m in MARGINS))}
    false = sum(r["false_detections"] for r in rows)
    return {"groups": groups, "camera_recall": recall, "paired": paired, "false_detections": false,
            "daemon_false": sum(r["daemon_false"] for r in rows),
            "daemon_small_searches": sum(r["daemon_small_search"] for r in rows)}


def print_table(result: dict[str, Any], summary: dict[str, Any]) -> None:
    print(f"{result['faces']} FER2013 PublicTest faces in 640x480 frames, seed {result['seed']}, "
          f"model {result['model']}, detection min_score {result['min_score']}, {result['seconds']:.0f} s")
    print("found: classify's detector found the placed face (IoU >= 0.3); daemon: the daemon's finder on its first "
          f"frame (small-face search width {result['small_face_width'] or 'off'})")
    print("acc %: 48x48 = model on the original face; exact = on exactly the placed square of the degraded frame;")
    print("       camera = classify's path over found faces (48x48 and exact on the same faces in brackets); "
          "end-to-end = misses count wrong")
    header = (f"{'group':<22}{'n':>5}{'found':>7}{'daemon':>8}{'48x48':>7}{'exact':>7}"
              f"{'camera':>8}{'(48x48':>8}{'exact)':>7}{'end-to-end':>11}{'agree':>7}")
    print(header)
    print("-" * len(header))
    for name, g in summary["groups"].items():
        print(f"{name:<22}{g['n']:>5}{g['found']:>7.1f}{g['daemon_found']:>8.1f}{g['direct']:>7.1f}"
              f"{g['exact']:>7.1f}{g['camera_found']:>8.1f}{g['direct_on_found']:>8.1f}{g['exact_on_found']:>7.1f}"
              f"{g['camera_all']:>11.1f}"
              f"{g['agree']:>7.1f}")
    print(f"\nboxes classify's detector put on things that are not the face: {summary['false_detections']}; "
          f"the daemon's: {summary['daemon_false']} (small-face searches run on {summary['daemon_small_searches']} "
          "frames)")
    print("camera path per-class recall %: " + ", ".join(
        f"{label} {value:.0f}" for label, value in summary["camera_recall"].items()))
    print("\nvariants on the same found faces, acc % (shipped: margin 0.05, levelled, no normalisation)")
    keys = [*(f"margin_{m:.2f}" for m in MARGINS), "no_levelling", "camera_normalised"]
    names = {"no_levelling": "not levelled", "camera_normalised": "normalised"}
    print(f"{'group':<22}" + "".join(f"{names.get(k, k.replace('margin_', 'margin ')):>13}" for k in keys)
          + f"{'48x48 norm':>12}{'48x48':>8}")
    for name, g in summary["groups"].items():
        print(f"{name:<22}" + "".join(f"{g[k]:>13.1f}" for k in keys) + f"{g['direct_normalised']:>12.1f}"
              + f"{g['direct']:>8.1f}")
    print("paired against the shipped path (found faces it fixes / breaks): " + ", ".join(
        f"{names.get(k, k.replace('margin_', 'margin '))} +{v['fixes']}/-{v['breaks']}"
        for k, v in summary["paired"].items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--data", type=Path, default=None, help="fer2013.npz (default: the shared copy)")
    parser.add_argument("--faces", type=int, default=1080, help="how many PublicTest faces (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-score", type=float, default=None,
                        help="dlib's detection threshold (default: faces.min_score's default, 0)")
    parser.add_argument("--small-face-width", type=int, default=None,
                        help="the daemon's faces.small_face_width (default: its default; 0: no small-face search)")
    parser.add_argument("--fer-check", action="store_true",
                        help="also: the illumination normalisation on every 48x48 PublicTest and PrivateTest face")
    parser.add_argument("--timing", type=int, default=0, metavar="N",
                        help="instead: the daemon finder's time per frame on N sequences of each kind, "
                             "small-face search off and on")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--save-frames", type=Path, default=None, help="write the first 36 frames here as JPEGs")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    if args.save_frames:
        split = load_split(args.data, "PublicTest")
        rng = np.random.default_rng(args.seed)
        args.save_frames.mkdir(parents=True, exist_ok=True)
        for i, condition in enumerate(conditions(36, rng)):
            frame = build_frame(split.images[i], condition, rng)
            light = condition.light.replace(" ", "_")
            name = f"{i:02d}-{condition.size.split()[0]}-{light}-{condition.blur.split()[0]}"
            cv2.imwrite(str(args.save_frames / f"{name}.jpg"), frame.image)
    if args.timing:
        widths = (0, FacesConfig().small_face_width if args.small_face_width is None else args.small_face_width)
        timed = timing(args.data, args.timing, args.seed, widths)
        if args.json:
            print(json.dumps(timed, indent=2))
        else:
            print_timing(timed)
        return 0
    if args.fer_check:
        fer_check(args.model, args.data)
    result = measure(args.model, args.data, args.faces, args.seed, args.min_score, args.small_face_width)
    summary = report(result)
    if args.json:
        print(json.dumps({**{k: v for k, v in result.items() if k != "rows"}, **summary}, indent=2))
    else:
        print_table(result, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
