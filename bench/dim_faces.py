"""Benchmark: faces in a dim room, and someone whose face cannot be read (issue 25).

A dim series built by code, from FER2013 **PublicTest** faces (the model is never fit on them) placed on
camera-like 640×480 frames as bench/strangers.py builds them (its functions, imported): each face 110–250 px
(the sizes the daemon's whole-frame search finds), even light, sharp, on a random wall. The same scene is
then taken at 100, 50, 25, 15 and 10 % of its light, each with the camera's sensor noise (σ 2–5 grey levels,
absolute: it does not dim with the light) and JPEG (quality 60–90); beside each, the same wall with nobody
in front of it, at the same light.

Printed per light level:

- faces found (IoU ≥ 0.3 with the placed square) by `FaceDetector` as it ships (a dark frame brightened
  first: `device.faces.lift_dark`), without that, and with CLAHE instead (on dark frames only), and the
  boxes each puts elsewhere: on the face's frame and on the wall alone;
- the model on the faces found: the crop the detector hands over (from the brightened frame) against the
  same box cut from the frame as the camera gave it;
- presence (`device.faces.PresenceCheck`, what the daemon asks on a frame with no face): the same faces
  with a surgical mask or dark glasses drawn on (the 48×48 face, before placing) — readable (a face found),
  someone seen on a first look, and someone seen after the bare face was read at that spot; the wall alone
  after a face was read there (the listener left) and on a first look: false presence.

Then the case photos `../shared/cases/img/i06_*.jpg` and `i08_*.jpg` (HOG's best score without and with the
brightening, found or not, the presence check on a first look and after the same person's bare face), and
the cost per call of the brightening and the presence check. Figures only; nothing is asserted.

    .venv/bin/python bench/dim_faces.py [--faces 200] [--seed 0] [--data NPZ] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:  # run as a script from anywhere
        sys.path.insert(0, str(path))

from strangers import FRAME_H, FRAME_W, MATCH_IOU, SIZES, Condition, background, build_scene, expose, relight  # noqa: E402

from device.config import FacesConfig  # noqa: E402
from device.emotion import SHIPPED_MODEL, EmotionClassifier  # noqa: E402
from device.faces import DARK_MEAN, FaceDetector, PresenceCheck, level_crop, lift_dark, overlap, to_grey  # noqa: E402
from device.listener.fer2013 import load_split  # noqa: E402

LEVELS = (1.0, 0.5, 0.25, 0.15, 0.10)  # share of the scene's light
PRESENCE_LEVELS = (1.0, 0.25, 0.15)  # where the masked and glasses faces are taken
CASES = ROOT.parent / "shared" / "cases" / "img"
_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))


def masked(face: np.ndarray) -> np.ndarray:
    """A 48×48 FER2013 face with a light surgical mask over the nose tip, mouth and chin (its pleats drawn)."""
    out = face.copy()
    cv2.rectangle(out, (9, 29), (39, 46), 210, -1)
    for y in (33, 37, 41):
        cv2.line(out, (9, y), (39, y), 180, 1)
    return out


def glasses(face: np.ndarray) -> np.ndarray:
    """A 48×48 FER2013 face with dark glasses over both eyes."""
    out = face.copy()
    for cx in (16, 32):
        cv2.ellipse(out, (cx, 19), (7, 4), 0, 0, 360, 25, -1)
    cv2.line(out, (22, 19), (26, 19), 25, 1)
    return out


class ClaheDetector(FaceDetector):
    """The alternative measured against the gain: CLAHE on dark frames (mean under DARK_MEAN) before HOG."""

    def grey(self, frame: np.ndarray) -> np.ndarray:
        grey = to_grey(frame)
        return _CLAHE.apply(grey) if float(grey.mean()) < DARK_MEAN else grey


def _found(faces: list[Any], box: tuple[int, int, int, int]) -> tuple[Any, int]:
    """The detection that is the placed face (or None), and how many boxes are elsewhere."""
    hits = [f for f in faces if overlap(f.box, box) >= MATCH_IOU]
    hit = max(hits, key=lambda f: overlap(f.box, box)) if hits else None
    return hit, len(faces) - len(hits)


def _grey(image: np.ndarray) -> np.ndarray:
    return to_grey(image)


def measure(data: Path | None, count: int, seed: int) -> dict[str, Any]:
    split = load_split(data, "PublicTest")
    usable = np.flatnonzero(split.images.reshape(len(split.images), -1).std(axis=1) >= 1.0)
    rng = np.random.default_rng(seed)
    picked = rng.permutation(usable)[:count]
    config = FacesConfig()
    detectors = {"shipped (gain)": FaceDetector(config), "none": FaceDetector(config, normalise_light=False),
                 "CLAHE": ClaheDetector(config, normalise_light=False)}
    classifier = EmotionClassifier(SHIPPED_MODEL, threads=1)
    tools = _Tools(detectors["shipped (gain)"], PresenceCheck(config))
    dim: dict[str, Any] = {f"{round(level * 100)}%": _dim_counts(detectors) for level in LEVELS}
    presence: dict[str, Any] = {f"{round(level * 100)}%": _presence_counts() for level in PRESENCE_LEVELS}
    for n, index in enumerate(picked):
        face, truth = split.images[index], int(split.labels[index])
        condition = Condition("medium 110-160" if n % 2 else "large 160-250", "even", "sharp")
        scene_seed = int(rng.integers(2**31))
        scene, box, _ = build_scene(face, condition, np.random.default_rng(scene_seed))
        wall = background(rng)
        for level in LEVELS:
            row = dim[f"{round(level * 100)}%"]
            _dim_one(row, detectors, classifier, expose(scene * level, rng)[0], expose(wall * level, rng)[0],
                     box, truth)
            if level in PRESENCE_LEVELS:
                _presence_one(presence[f"{round(level * 100)}%"], tools, face, condition, scene_seed, level,
                              scene, wall, rng)
    return {"faces": len(picked), "seed": seed, "dim": dim, "presence": presence}


def _dim_counts(detectors: dict[str, FaceDetector]) -> dict[str, Any]:
    return {"frames": 0, **{name: {"found": 0, "false_on_face": 0, "false_on_wall": 0} for name in detectors},
            "read_lifted": 0, "read_raw": 0, "read_of": 0}


def _dim_one(row: dict[str, Any], detectors: dict[str, FaceDetector], classifier: EmotionClassifier,
             image: np.ndarray, wall: np.ndarray, box: tuple[int, int, int, int], truth: int) -> None:
    row["frames"] += 1
    for name, detector in detectors.items():
        hit, elsewhere = _found(detector.detect_all(image), box)
        row[name]["found"] += hit is not None
        row[name]["false_on_face"] += elsewhere
        row[name]["false_on_wall"] += len(detector.detect_all(wall))
        if name == "shipped (gain)" and hit is not None:
            raw = level_crop(_grey(image), hit.box, detector.config.margin, hit.roll_deg)  # the same crop, unlifted
            row["read_of"] += 1
            row["read_lifted"] += int(np.argmax(classifier.probabilities(hit.crop))) == truth
            row["read_raw"] += int(np.argmax(classifier.probabilities(raw))) == truth


def _presence_counts() -> dict[str, Any]:
    kinds = ("mask", "glasses")
    return {"frames": 0, **{k: {"readable": 0, "seen_first_look": 0, "seen_after_bare": 0} for k in kinds},
            "wall_first_look": 0, "wall_after_face": 0}


@dataclass
class _Tools:
    detector: FaceDetector
    check: PresenceCheck


def _presence_one(row: dict[str, Any], tools: _Tools, face: np.ndarray, condition: Condition,
                  scene_seed: int, level: float, scene: np.ndarray, wall: np.ndarray,
                  rng: np.random.Generator) -> None:
    """One face's masked and glasses frames at `level` (the same spot and wall as its bare scene)."""
    row["frames"] += 1
    detector, check = tools.detector, tools.check
    bare_image = expose(scene * level, rng)[0]
    bare = detector.largest(bare_image)
    for kind, cover in (("mask", masked), ("glasses", glasses)):
        covered, _, _ = build_scene(cover(face), condition, np.random.default_rng(scene_seed))
        image = expose(covered * level, rng)[0]
        row[kind]["readable"] += detector.largest(image) is not None
        check.forget()
        row[kind]["seen_first_look"] += check.someone(image)
        check.forget()
        if bare is not None:
            check.face_read(bare_image, bare)
        row[kind]["seen_after_bare"] += check.someone(image)
    check.forget()
    row["wall_first_look"] += check.someone(expose(wall * level, rng)[0])
    check.forget()
    if bare is not None:  # the listener was read, then left: the room behind them, same wall (not `wall`)
        check.face_read(bare_image, bare)
    row["wall_after_face"] += check.someone(expose(_wall_behind(condition, scene_seed, scene) * level, rng)[0])


def _wall_behind(condition: Condition, scene_seed: int, scene: np.ndarray) -> np.ndarray:
    """The scene build_scene made from `scene_seed`, without its face: its draws replayed in its order (the
    face's side and spot, the wall, the light), checked against the scene outside the face's square."""
    rng = np.random.default_rng(scene_seed)
    low, high = SIZES[condition.size]
    side = int(rng.integers(low, high + 1))
    x, y = int(rng.integers(20, FRAME_W - side - 20)), int(rng.integers(10, FRAME_H - side - 10))
    box = (x, y, x + side, y + side)
    wall = relight(background(rng), condition.light, box, rng)
    outside = np.ones(wall.shape, bool)
    outside[y : y + side, x : x + side] = False
    if condition.blur != "sharp" or not np.allclose(wall[outside], scene[outside]):
        raise RuntimeError("bench/strangers.py builds its scenes differently now: update _wall_behind")
    return wall


def cases() -> list[dict[str, Any]]:
    """The i06 and i08 case photos: HOG's best score (down to -2) without and with the brightening,
    found (score >= faces.min_score), and the presence check on a first look and after the bare face."""
    config = FacesConfig()
    hog = dlib.get_frontal_face_detector()
    shipped, plain = FaceDetector(config), FaceDetector(config, normalise_light=False)
    out = []
    for path in sorted([*CASES.glob("i06_*.jpg"), *CASES.glob("i08_*.jpg")]):
        image = _read(path)
        grey = to_grey(image)
        bare_path = {"i06": CASES / "i06_control_lit.jpg"}.get(path.name[:3]) or (
            CASES / f"i08_{path.name.split('_')[1]}_bare.jpg")
        bare_image = _read(bare_path)
        bare = shipped.largest(bare_image)
        after = PresenceCheck(config)
        if bare is not None:
            after.face_read(bare_image, bare)
        out.append({
            "file": path.name, "mean_grey": round(float(grey.mean()), 1),
            "best_score_raw": _best(hog, grey, config), "best_score_lifted": _best(hog, lift_dark(grey), config),
            "found_raw": plain.largest(image) is not None, "found_lifted": shipped.largest(image) is not None,
            "seen_first_look": PresenceCheck(config).someone(image),
            "seen_after_bare": after.someone(image), "bare": bare_path.name,
        })
    return out


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return np.asarray(image)


def _best(hog: Any, grey: np.ndarray, config: FacesConfig) -> float | None:
    scale = config.detect_width / grey.shape[1]
    small = cv2.resize(grey, (config.detect_width, round(grey.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    _, scores, _ = hog.run(small, config.upsample, -2.0)
    return round(float(max(scores)), 2) if len(scores) else None


def timing(seed: int, repeats: int = 60) -> dict[str, float]:
    """Median CPU ms (one thread) of the brightening on a dark 640×480 frame, and of the presence check on
    an empty room (the cost it adds on a frame with no face: first look, and with a face's template)."""
    rng = np.random.default_rng(seed)
    config = FacesConfig()
    walls = [expose(background(rng) * 0.15, rng)[0] for _ in range(repeats)]
    greys = [to_grey(w) for w in walls]
    check = PresenceCheck(config)

    def first_look(i: int) -> bool:
        check.forget()
        return check.someone(walls[i])

    out = {"lift_ms": _median_ms(lambda i: lift_dark(greys[i]), repeats),
           "presence_first_look_ms": _median_ms(first_look, repeats)}
    face = load_split(None, "PublicTest").images[0]
    scene, _, _ = build_scene(face, Condition("large 160-250", "even", "sharp"), rng)
    image = expose(scene, rng)[0]
    read = FaceDetector(config).largest(image)

    def with_template(i: int) -> bool:
        check.forget()
        if read is not None:
            check.face_read(image, read)
        return check.someone(image)  # the face still there: the template answers, no HOG pass

    out["presence_still_there_ms"] = _median_ms(with_template, repeats)
    return out


def _median_ms(call: Any, repeats: int) -> float:
    times = []
    for i in range(repeats):
        started = time.process_time()
        call(i)
        times.append(time.process_time() - started)
    return round(1000 * float(np.median(times)), 2)


def print_report(result: dict[str, Any]) -> None:
    print(f"{result['faces']} FER2013 PublicTest faces, 110-250 px, on 640x480 frames, seed {result['seed']}; "
          "the same scene at each light level, sensor noise and JPEG after the dimming")
    names = ("none", "shipped (gain)", "CLAHE")
    print("found: faces found (IoU >= 0.3); false: boxes elsewhere on the face's frame / on the wall alone")
    print(f"{'light':>6}{'frames':>8}" + "".join(f"{n + ' found':>22}{'false':>9}" for n in names)
          + f"{'model: lifted crop':>21}{'raw crop':>10}")
    for level, row in result["dim"].items():
        cells = "".join(f"{row[n]['found']:>22}{str(row[n]['false_on_face']) + '/' + str(row[n]['false_on_wall']):>9}"
                        for n in names)
        of = row["read_of"]
        read = (f"{100 * row['read_lifted'] / of:>20.1f}%{100 * row['read_raw'] / of:>9.1f}%" if of
                else f"{'-':>21}{'-':>10}")
        print(f"{level:>6}{row['frames']:>8}{cells}{read}")
    print("\npresence (device.faces.PresenceCheck): readable = a face found; seen = someone there, on a first "
          "look / after the bare face was read at that spot")
    print(f"{'light':>6}{'frames':>8}{'mask read':>11}{'seen':>6}{'after':>7}{'glasses read':>14}{'seen':>6}"
          f"{'after':>7}{'wall: false first look':>24}{'after a face left':>19}")
    for level, row in result["presence"].items():
        m, g = row["mask"], row["glasses"]
        print(f"{level:>6}{row['frames']:>8}{m['readable']:>11}{m['seen_first_look']:>6}{m['seen_after_bare']:>7}"
              f"{g['readable']:>14}{g['seen_first_look']:>6}{g['seen_after_bare']:>7}"
              f"{row['wall_first_look']:>24}{row['wall_after_face']:>19}")
    print("\ncases (../shared/cases/img): HOG's best score at faces.detect_width without / with the brightening "
          "(found at >= 0), presence check on a first look / after the bare face")
    for case in result["cases"]:
        print(f"  {case['file']:<26} mean {case['mean_grey']:>5}  score {case['best_score_raw']} / "
              f"{case['best_score_lifted']}  found {case['found_raw']} / {case['found_lifted']}  "
              f"seen {case['seen_first_look']} / {case['seen_after_bare']} (after {case['bare']})")
    t = result["timing"]
    print(f"\ncost, CPU ms on one thread (median): brightening a dark 640x480 frame {t['lift_ms']}; presence check "
          f"on an empty room {t['presence_first_look_ms']}, with the last face still there "
          f"{t['presence_still_there_ms']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=200, help="how many PublicTest faces")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None, help="fer2013.npz (default: the shared copy)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    started = time.perf_counter()
    result = measure(args.data, args.faces, args.seed)
    result["cases"] = cases() if CASES.is_dir() else []
    result["timing"] = timing(args.seed)
    result["seconds"] = round(time.perf_counter() - started)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
        print(f"({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
