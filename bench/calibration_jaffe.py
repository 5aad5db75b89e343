"""Benchmark: one person read before and after calibrating on their own face (issue 25).

People: the three in ../shared/data/jaffe-dev/ (posed photos, ~3 per expression; evaluation only, never
copied here). For each person and fold k, each expression's k-th photo is *unseen*; the others are the
calibration photos. The calibration goes the way the page's does: a request in the contract
(device.contract.request_calibration), taken by the daemon's `device.runtime.calibrating.Calibrating`
with its default timings (3 s countdowns, 10 crops per expression and round, rounds at least 60 s apart;
on a simulated clock, 4 frames a second), whose session judges each frame with capture's checks and
saves the crops; the person in front of the camera poses what the session asks: camera-like 640×480
frames (`camera_frame`: a wall, the photo at 170–230 px with a little movement, tilt, light change, then
bench/strangers.py's sensor noise and JPEG) of their first calibration photo in round 1 and their second
in round 2. The check then fits, decides and installs (device.calibration.fit.calibrate, as the daemon
calls it, but forced, so the figure is the head's own; whether the rule would keep it is counted
beside). The unseen photos are then read as `emotune classify` reads a photo (StillPhotoDetector,
mirror-averaged): by the general model and by the person's calibrated reader.

`--tensorflow` also runs today's TensorFlow fine-tune (`train --personal`, FER2013 mixed in) on the same
crops and reads the unseen photos with the model it makes (forced install, so the figure is the model's
own; whether the rule would have installed it is reported beside).

    .venv/bin/python bench/calibration_jaffe.py [--folds 3] [--strength S] [--tensorflow] [--json]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from device import EMOTION_LABELS  # noqa: E402
from device.calibration.faces import PersonalDataError  # noqa: E402
from device.calibration.fit import base_classifier  # noqa: E402
from device.calibration.head import STRENGTH  # noqa: E402
from device.calibration.reader import calibrated_reader  # noqa: E402
from device.calibration.store import person_faces_dir  # noqa: E402
from device.config import Config, load_config  # noqa: E402
from device.emotion import open_model  # noqa: E402
from device.faces import FaceDetector, StillPhotoDetector  # noqa: E402

JAFFE = ROOT.parent / "shared" / "data" / "jaffe-dev"


def read_people(folder: Path) -> dict[str, dict[int, list[Path]]]:
    """subject → class → photo paths (sorted), from labels.csv."""
    people: dict[str, dict[int, list[Path]]] = defaultdict(lambda: defaultdict(list))
    with open(folder / "labels.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            people[row["subject"]][int(row["label"])].append(folder / "images" / row["file"])
    return {subject: {c: sorted(p) for c, p in classes.items()} for subject, classes in people.items()}


def grey(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise SystemExit(f"{path}: not a readable image")
    return image


def camera_frame(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One BGR 640×480 frame of a grey photo: placed at 170–230 px on a wall (strangers.background),
    tilted ±4°, its light ×0.85–1.15, then the camera's noise and JPEG (strangers.expose)."""
    from bench.strangers import FRAME_H, FRAME_W, background, expose

    side = int(rng.integers(170, 231))
    turn = cv2.getRotationMatrix2D((photo.shape[1] / 2, photo.shape[0] / 2), float(rng.uniform(-4, 4)), 1.0)
    tilted = cv2.warpAffine(photo, turn, photo.shape[::-1], borderMode=cv2.BORDER_REPLICATE)
    face = cv2.resize(tilted, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    frame = background(rng)
    x, y = int(rng.integers(100, FRAME_W - side - 100)), int(rng.integers(40, FRAME_H - side - 40))
    frame[y : y + side, x : x + side] = np.clip(face * rng.uniform(0.85, 1.15), 0, 1)
    return expose(frame, rng)[0]


def calibrate_like_the_page(config: Config, subject: str, rounds: dict[int, list[np.ndarray]], strength: float,
                            rng: np.random.Generator) -> tuple[int, int, dict[str, Any]]:
    """A calibration asked for in the contract and run by the daemon's Calibrating on a simulated clock,
    the person posing rounds[label][r] in round r+1; returns (crops kept, frames read, the result)."""
    from device import contract, store
    from device.calibration.fit import calibrate
    from device.calibration.session import Timings
    from device.runtime.calibrating import Calibrating

    now = [0.0]
    db = store.open_database(config.database_path)
    try:
        def fit(config: Config, person: str) -> dict[str, Any]:
            return calibrate(config, person, force=True, strength=strength).as_json()

        calibrating = Calibrating(config, db, FaceDetector(config.faces), timings=Timings(), fit=fit,
                                  clock=lambda: now[0])
        contract.request_calibration(db, subject, [EMOTION_LABELS[label] for label in sorted(rounds)])
        request = calibrating.pending()
        assert request is not None and calibrating.start(request)
        frames = 0
        while True:
            session = calibrating.session
            step = session.step if session is not None else None
            frame = None
            if step is not None:
                frames += 1
                shots = rounds[EMOTION_LABELS.index(step.expression)]
                frame = camera_frame(shots[(step.round - 1) % len(shots)], rng)
            if not calibrating.step(frame):
                break
            now[0] += 0.25  # the daemon's 4 frames a second
        _, progress = contract.read_calibration(db)
    finally:
        db.conn.close()
    if progress is None or progress.result is None:
        raise PersonalDataError(progress.message if progress else "no progress written")
    kept = sum(sum(counts) for counts in progress.kept.values())
    return kept, frames, progress.result


def read_photos(reader: Any, photos: list[tuple[np.ndarray, int]], detector: StillPhotoDetector) -> list[int]:
    """Predicted class per unseen photo (-1: no face found), read as `emotune classify` reads a photo."""
    out = []
    for image, _ in photos:
        face = detector.largest(image)
        out.append(-1 if face is None else int(np.argmax(reader.probabilities(face.crop))))
    return out


def run_fold(config: Config, subject: str, classes: dict[int, list[Path]], fold: int, tensorflow: bool,
             rng: np.random.Generator, strength: float = STRENGTH) -> dict[str, Any]:
    unseen: list[tuple[np.ndarray, int]] = []
    rounds: dict[int, list[np.ndarray]] = {}
    for label, photos in classes.items():
        held = photos[fold % len(photos)]
        unseen.append((grey(held), label))
        rounds[label] = [grey(p) for p in photos if p != held][:2]
    truth = [label for _, label in unseen]
    still = StillPhotoDetector(config.faces)
    base = base_classifier(config)
    general = read_photos(base, unseen, still)
    row: dict[str, Any] = {"subject": subject, "fold": fold, "unseen": len(unseen),
                           "general_right": sum(p == t for p, t in zip(general, truth, strict=True))}
    try:
        kept, frames, result = calibrate_like_the_page(config, subject, rounds, strength, rng)
    except PersonalDataError as error:
        row["refused"] = str(error)
        return row
    reader = calibrated_reader(config.state_dir, subject, base)
    assert reader is not None
    calibrated = read_photos(reader, unseen, still)
    decision = result["decision"]
    row.update({"crops": kept, "frames": frames,
                "light_right": sum(p == t for p, t in zip(calibrated, truth, strict=True)),
                "light_fit_s": result["fit_s"], "light_rule_installs": decision["cleared"],
                "held_out": decision["n"], "held_before": decision["before_right"],
                "held_after": decision["after_right"]})
    if tensorflow:
        row.update(tensorflow_fold(config, subject, unseen, truth, still))
    return row


def tensorflow_fold(config: Config, subject: str, unseen: list[tuple[np.ndarray, int]], truth: list[int],
                    still: StillPhotoDetector) -> dict[str, Any]:
    """train --personal on the same crops (it reads <state_dir>/faces: the default person's folder)."""
    import shutil

    from device.training.personal import PersonalOptions, fine_tune_personal

    default_faces = config.state_dir / "faces"
    shutil.rmtree(default_faces, ignore_errors=True)
    shutil.copytree(person_faces_dir(config.state_dir, subject), default_faces)
    started = time.perf_counter()
    log = io.StringIO()
    with redirect_stdout(log):
        code = fine_tune_personal(config, PersonalOptions(force=True))
    seconds = time.perf_counter() - started
    model = open_model(config.state_dir / "models" / "emotion.tflite", flip_average=config.model.flip_average)
    predicted = read_photos(model, unseen, still)
    return {"tf_right": sum(p == t for p, t in zip(predicted, truth, strict=True)), "tf_fit_s": round(seconds, 1),
            "tf_rule_installs": "so it cleared the rule" in log.getvalue(), "tf_exit": code}


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_subject: dict[str, dict[str, Any]] = {}
    for subject in sorted({r["subject"] for r in rows}):
        mine = [r for r in rows if r["subject"] == subject and "refused" not in r]
        n = sum(r["unseen"] for r in mine)
        entry: dict[str, Any] = {"unseen": n, "general": sum(r["general_right"] for r in mine) / n,
                                 "light": sum(r["light_right"] for r in mine) / n,
                                 "light_installs": f"{sum(r['light_rule_installs'] for r in mine)}/{len(mine)}",
                                 "light_fit_s": float(np.median([r["light_fit_s"] for r in mine]))}
        if mine and "tf_right" in mine[0]:
            entry.update({"tensorflow": sum(r["tf_right"] for r in mine) / n,
                          "tf_installs": f"{sum(r['tf_rule_installs'] for r in mine)}/{len(mine)}",
                          "tf_fit_s": float(np.median([r["tf_fit_s"] for r in mine]))})
        by_subject[subject] = entry
    return by_subject


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=3, help="unseen photo index per expression (default 3)")
    parser.add_argument("--tensorflow", action="store_true", help="also run train --personal (slow)")
    parser.add_argument("--strength", type=float, default=STRENGTH, help=f"the head's prior (default {STRENGTH})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (JAFFE / "labels.csv").is_file():
        print(f"{JAFFE} not found: this benchmark reads the shared jaffe-dev set", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    rows = []
    for subject, classes in read_people(JAFFE).items():
        for fold in range(args.folds):
            with tempfile.TemporaryDirectory() as tmp:
                config = load_config(state_dir=Path(tmp) / "state")
                row = run_fold(config, subject, classes, fold, args.tensorflow, rng, args.strength)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    summary = summarise(rows)
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary}, indent=2))
        return 0
    print(f"{'person':8} {'unseen':>6} {'general':>8} {'light':>8} {'installs':>9} {'fit s':>6}"
          + (f" {'TF':>8} {'installs':>9} {'fit s':>6}" if args.tensorflow else ""))
    for subject, s in summary.items():
        line = (f"{subject:8} {s['unseen']:>6} {s['general']:>8.1%} {s['light']:>8.1%} {s['light_installs']:>9} "
                f"{s['light_fit_s']:>6.2f}")
        if "tensorflow" in s:
            line += f" {s['tensorflow']:>8.1%} {s['tf_installs']:>9} {s['tf_fit_s']:>6.1f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
