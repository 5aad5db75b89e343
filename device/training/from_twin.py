"""`python -m device.training.from_twin`: a run of the PyTorch twin (device.training.torch_twin) → the
Keras model → models/emotion.tflite + .json + .keras + report, as `emotune train` exports its own.

    python -m device.training.from_twin --run RUN --output training-runs/gpu/out/emotion.tflite

RUN is the twin's output folder (`weights.npz`, `run.json`, `log.csv`). The int8 model is measured on
PrivateTest here, with the FER2013 file given by --data. A run trained without PublicTest keeps
`weights-e<N>.npz` every few epochs; `--pick` measures each on PublicTest here and exports the best, so
the model is still chosen on PublicTest.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from device.errors import EmotuneError
from device.listener.fer2013 import Fer2013

# The twin's weights file holds "<layer>/<name>" for these, in Keras' order and layouts.
WEIGHT_NAMES = {"Conv2D": ("kernel",), "BatchNormalization": ("gamma", "beta", "moving_mean", "moving_variance"),
                "Dense": ("kernel", "bias")}


def load_into_keras(weights: dict[str, np.ndarray], width: int, convs: tuple[int, ...], dropout: float) -> Any:
    """build_model(ModelSpec(width, convs, dropout)) with the twin's weights (EmotuneError naming the first
    layer whose weights are missing or do not fit)."""
    from device.training.model import ModelSpec, build_model

    model = build_model(ModelSpec(width=width, convs=convs, dropout=dropout))
    for layer in model.layers:
        names = WEIGHT_NAMES.get(type(layer).__name__)
        if names is None:
            continue
        try:
            layer.set_weights([weights[f"{layer.name}/{n}"] for n in names])
        except (KeyError, ValueError) as error:
            raise EmotuneError(f"the twin's weights do not fit layer {layer.name}: {error}") from None
    return model


def snapshot_epoch(name: str, run: dict[str, Any]) -> int:
    """The epoch a weights file holds: N for weights-eN.npz, the run's best_epoch for weights.npz."""
    match = re.fullmatch(r"weights-e(\d+)\.npz", name)
    return int(match.group(1)) if match else int(run.get("best_epoch", 0))


def fitted_on(data: Fer2013, run: dict[str, Any]) -> dict[str, Any]:
    """`emotune train`'s record of the faces (file, sha256, split sizes), for the twin's run: it fit the first
    `training_faces` Training faces of a pack made from this file (class counts only when it fit them all)."""
    from device.training.commands import describe_data

    faces = int(run.get("training_faces", data.train_total))
    record = describe_data(data, faces if faces < data.train_total else None)
    if faces < data.train_total:
        del record["training_class_counts"]  # those of the whole split, not of the faces fit
    return record


def check_packed_from(fitted: dict[str, Any], run: dict[str, Any]) -> None:
    """EmotuneError where the run's faces were packed from another file than the one `fitted` (fitted_on's
    record) describes (the run's `packed_from` sha256, written by `torch_twin pack`): the metrics and
    provenance would describe the wrong faces."""
    packed = (run.get("packed_from") or {}).get("sha256")
    if packed and packed != fitted["sha256"]:
        raise EmotuneError(f"the run's faces were packed from {run['packed_from'].get('file', 'a file')} "
                           f"(sha256 {packed[:12]}…), not from {fitted['path']}; pass that file with --data")


def main(argv: list[str] | None = None) -> int:
    from device.training.export import export_model
    from device.training.report import read_log_csv, write_model_report

    parser = argparse.ArgumentParser(prog="python -m device.training.from_twin", description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="the twin's output folder")
    parser.add_argument("--output", type=Path, required=True, help="the .tflite to write")
    parser.add_argument("--data", type=Path, default=None, help="the FER2013 npz (default: emotune's)")
    parser.add_argument("--pick", action="store_true",
                        help="export the weights file of RUN with the best PublicTest accuracy (float)")
    args = parser.parse_args(argv)
    try:
        run = json.loads((args.run / "run.json").read_text(encoding="utf-8"))
        from device.listener.fer2013 import load_fer2013

        data = load_fer2013(args.data)
        fitted = fitted_on(data, run)
        check_packed_from(fitted, run)
        files = sorted(args.run.glob("weights*.npz")) if args.pick else [args.run / "weights.npz"]
        log = args.run / "log.csv"
        history = read_log_csv(log) if log.is_file() else []
        faces = data.public_test.images[..., None].astype(np.float32) / 255.0
        scored = []
        for path in files:
            with np.load(path) as stored:
                weights = {name: stored[name] for name in stored.files}
            model = load_into_keras(weights, int(run["width"]), tuple(run["convs"]), float(run["dropout"]))
            probabilities = model.predict(faces, verbose=0)
            accuracy = float(np.mean(np.argmax(probabilities, axis=1) == data.public_test.labels))
            epoch = snapshot_epoch(path.name, run)
            print(f"{path.name} (epoch {epoch}): PublicTest {accuracy:.2%} (float, read once)")
            scored.append((accuracy, path.name, epoch, model))
            row = next((r for r in history if int(r["epoch"]) == epoch), None)
            if row is not None and "val_accuracy" not in row:  # trained without PublicTest: measured here
                picked = probabilities[np.arange(len(faces)), data.public_test.labels]
                row.update(val_accuracy=accuracy, val_loss=float(-np.mean(np.log(np.maximum(picked, 1e-7)))))
        accuracy, chosen, epoch, model = max(scored, key=lambda item: item[0])
    except (OSError, KeyError, ValueError, EmotuneError) as error:
        print(f"from_twin: {error}", file=sys.stderr)
        return 1
    provenance = {
        "architecture": {"width": run["width"], "convs": run["convs"], "dropout": run["dropout"],
                         "input_size": 48, "num_classes": 7, "parameters": int(model.count_params())},
        "training": {"data": fitted,
                     "fit_on": "Training", "chosen_on": "PublicTest", "reported_on": "PrivateTest",
                     "trained_by": "device.training.torch_twin",
                     **{k: v for k, v in run.items()
                        if k not in ("best_epoch", "best_epoch_chosen_by", "best_public_test_accuracy")},
                     "weights": chosen, "best_epoch": epoch, "best_public_test_accuracy": round(accuracy, 4)},
        "command": " ".join(["python -m device.training.from_twin", *(argv if argv is not None else sys.argv[1:])]),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    meta = export_model(model, data, args.output, provenance)
    write_model_report(args.output.parent / "report", meta, history, args.output)
    m = meta["metrics"]
    print(f"{args.output}: PrivateTest float {m['float']['accuracy']:.2%}, int8 {m['int8']['accuracy']:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
