"""Benchmark: does the camera path (dlib box → square crop → resize) give the model the face it was trained on?

For every face of the shipped fixture (data/fixtures/fer_faces.npz, 148 FER2013 faces) it builds full
640×480 frames the way the demo does (device.demo.faces.face_frame: the face upscaled to about 144 px on
a plain wall), runs the daemon's detector (FaceDetector(...).largest) and classifies the crop, and
compares that label with the model's label on the original 48×48 face. It sweeps the crop margin
(config `faces.margin`) and contrast normalisations of the face (none, histogram equalisation, CLAHE),
applied to the camera crop and to the 48×48 original alike, as they would be if device.preprocess did
them for training and inference. The model was trained without them, so their accuracy columns show
what the current model makes of them, not what a retrained one would reach.

It also says how dlib's box relates to the face's real square: the margin at which the crop would
cover exactly the placed 48×48 face.

    .venv/bin/python bench/camera_path.py [--model PATH] [--frames 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from device.config import FacesConfig  # noqa: E402
from device.demo.faces import BACKGROUND, face_frame, load_fixture  # noqa: E402
from device.emotion import SHIPPED_MODEL, EmotionClassifier  # noqa: E402
from device.faces import FaceDetector, square_crop, to_grey  # noqa: E402

MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))


def _clahe(grey: np.ndarray) -> np.ndarray:
    return _CLAHE.apply(grey)


CONTRAST: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
    "none": None,
    "equalize": cv2.equalizeHist,
    "clahe": _clahe,
}


def _at_model_size(grey: np.ndarray, size: int) -> np.ndarray:
    """The crop as device.preprocess resizes it, still uint8, so a contrast step can run on 48×48."""
    if grey.shape == (size, size):
        return grey
    interpolation = cv2.INTER_AREA if grey.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(grey, (size, size), interpolation=interpolation)


def placed_square(frame: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pasted face: everything that is not the plain wall."""
    grey = to_grey(frame)
    ys, xs = np.nonzero(grey != BACKGROUND)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def measure(
    model: Path,
    frames_per_face: int,
    seed: int,
    margins: tuple[float, ...],
    size: int,
    shift: tuple[float, float] = (0.0, 0.0),
) -> dict[str, Any]:
    fixture = load_fixture()
    classifier = EmotionClassifier(model, threads=1)
    label_index = {label: i for i, label in enumerate(classifier.labels)}
    truth = np.array([label_index[label] for label in fixture.labels])
    detector = FaceDetector(FacesConfig())
    rng = np.random.default_rng(seed)

    def predict(grey48: np.ndarray, contrast: Callable[[np.ndarray], np.ndarray] | None) -> int:
        face = contrast(grey48) if contrast else grey48
        return int(np.argmax(classifier.probabilities(face)))

    reference = {name: np.array([predict(img, fn) for img in fixture.images]) for name, fn in CONTRAST.items()}
    counts = {(name, m): [0, 0] for name in CONTRAST for m in margins}  # agree, correct
    frames = detected = 0
    ideal_margins: list[float] = []
    centre_offsets: list[float] = []
    shifts: list[tuple[float, float]] = []  # (dx, dy) from the box centre to the face's, in box sides
    oracle = [0, 0]  # crop = exactly the placed face: what the resampling alone costs (agree, correct)
    shifted = {m: [0, 0] for m in margins}  # crops re-centred by --shift (agree, correct), no contrast step
    for index, image in enumerate(fixture.images):
        for _ in range(frames_per_face):
            frame = face_frame(image, rng, size=size)
            frames += 1
            face = detector.largest(frame)
            if face is None:
                continue
            detected += 1
            left, top, right, bottom = face.box
            pl, pt, pr, pb = placed_square(frame)
            box_side = max(right - left, bottom - top)
            ideal_margins.append(((pr - pl) / box_side - 1) / 2)
            centre_offsets.append(
                float(np.hypot((left + right - pl - pr) / 2, (top + bottom - pt - pb) / 2)) / (pr - pl)
            )
            shifts.append(((pl + pr - left - right) / 2 / box_side, (pt + pb - top - bottom) / 2 / box_side))
            grey = to_grey(frame)
            predicted = predict(_at_model_size(grey[pt:pb, pl:pr], classifier.input_size), None)
            oracle[0] += predicted == reference["none"][index]
            oracle[1] += predicted == truth[index]
            dx, dy = round(shift[0] * box_side), round(shift[1] * box_side)
            moved = (left + dx, top + dy, right + dx, bottom + dy)
            for m in margins:
                predicted = predict(_at_model_size(square_crop(grey, moved, m), classifier.input_size), None)
                shifted[m][0] += predicted == reference["none"][index]
                shifted[m][1] += predicted == truth[index]
            for m in margins:
                crop48 = _at_model_size(square_crop(grey, face.box, m), classifier.input_size)
                for name, fn in CONTRAST.items():
                    predicted = predict(crop48, fn)
                    counts[(name, m)][0] += predicted == reference[name][index]
                    counts[(name, m)][1] += predicted == truth[index]
    rows = []
    for (name, m), (agree, correct) in counts.items():
        rows.append(
            {
                "contrast": name,
                "margin": m,
                "agreement": agree / detected,
                "accuracy": correct / detected,
                "original_accuracy": float(np.mean(reference[name] == truth)),
            }
        )
    return {
        "model": str(model),
        "faces": len(fixture.images),
        "frames": frames,
        "detected": detected,
        "face_size": size,
        "ideal_margin_median": statistics.median(ideal_margins),
        "ideal_margin_quartiles": [float(q) for q in np.percentile(ideal_margins, [25, 75])],
        "box_centre_offset_median": statistics.median(centre_offsets),
        "centre_shift_median": [statistics.median(x for x, _ in shifts), statistics.median(y for _, y in shifts)],
        "oracle": {"agreement": oracle[0] / detected, "accuracy": oracle[1] / detected},
        "shift": list(shift),
        "shifted_rows": [
            {"margin": m, "agreement": agree / detected, "accuracy": correct / detected}
            for m, (agree, correct) in shifted.items()
        ],
        "rows": rows,
    }


def format_result(result: dict[str, Any]) -> str:
    lines = [
        f"{result['model']}: {result['faces']} fixture faces × {result['frames'] // result['faces']} frames "
        f"(face ≈{result['face_size']} px on 640×480), dlib found {result['detected']}/{result['frames']}",
        f"margin that would crop exactly the placed face: median {result['ideal_margin_median']:.3f} "
        f"(quartiles {result['ideal_margin_quartiles'][0]:.3f}–{result['ideal_margin_quartiles'][1]:.3f}); "
        f"box centre off by {result['box_centre_offset_median']:.1%} of the face; the face's centre is at "
        f"({result['centre_shift_median'][0]:+.3f}, {result['centre_shift_median'][1]:+.3f}) box sides "
        "from the box's (median x, y; + is right, down)",
        f"crop = exactly the placed face (resampling only): agree {result['oracle']['agreement']:.1%}, "
        f"acc {result['oracle']['accuracy']:.1%}",
        "",
        f"{'contrast':<9} {'margin':>6} {'agree %':>8} {'acc %':>6} {'acc 48×48 %':>12}",
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['contrast']:<9} {row['margin']:>6.2f} {row['agreement'] * 100:>8.1f} {row['accuracy'] * 100:>6.1f} "
            f"{row['original_accuracy'] * 100:>12.1f}"
        )
    if any(result["shift"]):
        dx, dy = result["shift"]
        lines.append(f"crop centre moved by ({dx:+.3f}, {dy:+.3f}) box sides, no contrast step:")
        for row in result["shifted_rows"]:
            lines.append(
                f"{'shifted':<9} {row['margin']:>6.2f} {row['agreement'] * 100:>8.1f} {row['accuracy'] * 100:>6.1f}"
            )
    lines.append(
        "agree: camera-path label == the model's label on the original 48×48 face (same contrast step), over "
        "detected frames; acc: camera-path label == the fixture's label; acc 48×48: the model on the originals"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    parser.add_argument("--frames", type=int, default=3, help="frames per fixture face (random size and place)")
    parser.add_argument("--size", type=int, default=144, help="face side in the frame, ±10 %%")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--margins", type=float, nargs="+", default=list(MARGINS))
    parser.add_argument(
        "--shift",
        type=float,
        nargs=2,
        default=(0.0, 0.0),
        metavar=("DX", "DY"),
        help="also try crops re-centred by (DX, DY) box sides (+ is right, down)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.model, args.frames, args.seed, tuple(args.margins), args.size, tuple(args.shift))
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
