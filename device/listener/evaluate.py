"""`emotune evaluate`: accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix of an
emotion model on labelled faces. Runs the model the way the daemon does (device.emotion's LiteRT
interpreter, device.preprocess), so it never imports TensorFlow and works on the device itself.

Data: a FER2013-style npz (one split, PrivateTest by default) or a folder with one subfolder per label
(`angry/`, `happy/`, ... as in EMOTION_LABELS) of grey or colour face crops.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from device import EMOTION_LABELS
from device.calibration.faces import read_labelled_faces
from device.config import Config
from device.errors import EmotuneError

logger = logging.getLogger(__name__)



def classification_metrics(
    labels: Sequence[int] | np.ndarray,
    predictions: Sequence[int] | np.ndarray,
    label_names: Sequence[str] = EMOTION_LABELS,
) -> dict[str, Any]:
    """The design's evaluate shape from true and predicted class indices.

    {"accuracy", "macro_f1", "per_class": {label: {"precision", "recall", "f1"}}, "confusion", "n"};
    confusion[i][j] counts faces of true class i predicted as j. A class never predicted has
    precision 0; a class absent from `labels` has recall 0 (and counts in the macro average).
    """
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(predictions, dtype=np.int64)
    k = len(label_names)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"labels {y.shape} and predictions {p.shape} must be matching 1-D arrays")
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, p), 1)
    tp = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(k), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    n = len(y)
    return {
        "accuracy": float(tp.sum()) / n if n else 0.0,
        "macro_f1": float(f1.mean()),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i])}
            for i, name in enumerate(label_names)
        },
        "confusion": confusion.tolist(),
        "n": n,
    }


def predict_classes(
    model_path: Path | str, images: Sequence[np.ndarray] | np.ndarray, flip_average: bool = False
) -> np.ndarray:
    """Class index per grey face, from the model file as the daemon runs it (flip_average: as
    `[model] flip_average` reads faces; off: the model's own single reading)."""
    from device.emotion import EmotionClassifier  # LiteRT, loaded only when a model is evaluated

    classifier = EmotionClassifier(Path(model_path), flip_average=flip_average)
    if list(classifier.labels) != list(EMOTION_LABELS):
        raise EmotuneError(f"{model_path}: its labels {classifier.labels} are not emotune's {list(EMOTION_LABELS)}")
    return np.fromiter(
        (int(np.argmax(classifier.probabilities(image))) for image in images),
        dtype=np.int64,
        count=len(images),
    )


def evaluate_model(
    model_path: Path | str,
    images: Sequence[np.ndarray] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    flip_average: bool = False,
) -> dict[str, Any]:
    """Run the model on grey faces (uint8, any size) and score it against `labels` (EMOTION_LABELS order).

    flip_average: average each face's reading with its mirror image's, as the device does by default.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(images) != len(labels):
        raise EmotuneError(f"{len(images)} images but {len(labels)} labels")
    if not len(labels):
        raise EmotuneError("nothing to evaluate: no labelled images")
    if labels.min() < 0 or labels.max() >= len(EMOTION_LABELS):
        raise EmotuneError(f"labels must be 0..{len(EMOTION_LABELS) - 1} ({', '.join(EMOTION_LABELS)})")
    return classification_metrics(labels, predict_classes(model_path, images, flip_average))


def _load_folder(folder: Path) -> tuple[list[np.ndarray], np.ndarray]:
    images, labels, skipped = read_labelled_faces(folder)
    if skipped:  # an evaluation on part of the data would report a figure for data it did not see
        raise EmotuneError(skipped[0])
    if not images:
        raise EmotuneError(
            f"{folder}: no images found; expected subfolders named {', '.join(EMOTION_LABELS)} with image files"
        )
    return images, np.asarray(labels, dtype=np.uint8)


def load_eval_data(path: Path | str, split: str = "PrivateTest") -> tuple[np.ndarray | list[np.ndarray], np.ndarray]:
    """(grey faces, labels) from a FER2013 npz (one split) or a folder of label-named subfolders."""
    from device.listener.fer2013 import load_split  # numpy only

    path = Path(path).expanduser()
    if path.is_dir():
        return _load_folder(path)
    if not path.exists():
        raise EmotuneError(f"evaluation data {path} not found; pass a FER2013 .npz or a folder of label folders")
    data = load_split(path, split)
    return data.images, data.labels


# --- CLI ---------------------------------------------------------------------------------------------


def format_report(result: dict[str, Any], title: str = "") -> str:
    lines = [title] if title else []
    lines.append(f"accuracy {result['accuracy']:.2%}   macro-F1 {result['macro_f1']:.3f}   n = {result['n']}")
    lines.append("")
    lines.append(f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for i, (label, values) in enumerate(result["per_class"].items()):
        support = sum(result["confusion"][i])
        lines.append(
            f"{label:<10}{values['precision']:>10.3f}{values['recall']:>10.3f}{values['f1']:>10.3f}{support:>10d}"
        )
    lines.append("")
    names = list(result["per_class"])
    lines.append("confusion (rows: true, columns: predicted)")
    lines.append(" " * 10 + "".join(f"{name[:7]:>8}" for name in names))
    for name, row in zip(names, result["confusion"], strict=True):
        lines.append(f"{name:<10}" + "".join(f"{count:>8d}" for count in row))
    return "\n".join(lines)


def evaluate_command(args: argparse.Namespace, config: Config) -> int:
    from device.emotion import resolve_model_path

    model_path = Path(args.model) if args.model else resolve_model_path(config)
    images, labels = load_eval_data(args.data, args.split)
    # read the way the daemon reads faces with this config (by default each face and its mirror image)
    result = evaluate_model(model_path, images, labels, flip_average=config.model.flip_average)
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        where = f"{args.data} ({args.split})" if Path(args.data).suffix == ".npz" else str(args.data)
        reading = "each face and its mirror image, averaged" if config.model.flip_average else "each face once"
        print(format_report(result, f"model {model_path}\ndata  {where}\nread  {reading} ([model] flip_average)"))
    return 0
