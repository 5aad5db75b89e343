"""`emotune train`: train (or resume), export the int8 model with its JSON, write a report.

Importing this module is cheap: TensorFlow is imported inside train_command, after the data is found.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

from device.cli.parser import SHIPPED_EMOTION_MODEL, add_train_arguments
from device.config import Config, load_config
from device.errors import EmotuneError
from device.listener.fer2013 import Fer2013, load_fer2013
from device.training.report import file_sha256

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT = SHIPPED_EMOTION_MODEL


def describe_data(data: Fer2013, limit: int | None) -> dict[str, Any]:
    """The provenance of the faces a model was fit on: file, sha256, split sizes, class counts."""
    return {
        "file": data.path.name,
        "path": str(data.path),
        "sha256": file_sha256(data.path),
        "split_sizes": data.sizes(),
        "training_images_in_file": data.train_total,
        "limit": limit,
        "training_class_counts": data.train.class_counts(),
    }


def _positive(name: str, value: int | float | None) -> None:
    if value is not None and value <= 0:
        raise EmotuneError(f"{name} must be positive, got {value}")


def default_run_name(args: argparse.Namespace) -> str:
    name = "fer2013" if args.width is None else f"fer2013-w{args.width}"
    return f"{name}-limit{args.limit}" if args.limit else name


def command_line() -> str:
    argv0 = Path(sys.argv[0]).name
    program = "python -m device.training" if argv0 == "__main__.py" else argv0
    return " ".join([program, *map(shlex.quote, sys.argv[1:])])


def _start_model_provenance(path: Path | None) -> dict[str, Any] | None:
    """What a warm-restarted run started from: the file, its hash, and how that model was trained."""
    if path is None:
        return None
    described: dict[str, Any] = {"file": str(path), "sha256": file_sha256(path)}
    sibling = path.with_suffix(".json")
    if sibling.is_file():
        try:
            earlier = json.loads(sibling.read_text(encoding="utf-8"))
            described["its_training"] = earlier.get("training")
            described["its_privatetest_int8_accuracy"] = earlier.get("metrics", {}).get("int8", {}).get("accuracy")
            described["its_command"] = earlier.get("command")
        except (OSError, json.JSONDecodeError, AttributeError):
            described["its_training"] = None
    return described


def train_command(args: argparse.Namespace, config: Config) -> int:
    if getattr(args, "personal", False):
        if args.output != DEFAULT_OUTPUT or args.fresh or args.init_from:
            raise EmotuneError(
                "--output, --fresh and --init-from do not apply to --personal (it starts from the model in use "
                "and installs into the state dir)"
            )
        if getattr(args, "ferplus_weight", 0.0):
            raise EmotuneError("--ferplus-weight does not apply to --personal (your faces have your labels)")
        if getattr(args, "camera_augmentation", False):
            raise EmotuneError("--camera-augmentation does not apply to --personal (your faces come from your camera)")
        from device.training.personal import personal_command

        return personal_command(args, config)
    args.epochs = 30 if args.epochs is None else args.epochs
    args.batch_size = 64 if args.batch_size is None else args.batch_size
    args.learning_rate = 1e-3 if args.learning_rate is None else args.learning_rate
    for name in ("epochs", "batch_size", "limit", "width", "learning_rate", "patience"):
        _positive(f"--{name.replace('_', '-')}", getattr(args, name, None))
    ferplus_weight = float(getattr(args, "ferplus_weight", 0.0) or 0.0)
    if not 0.0 <= ferplus_weight <= 1.0:
        raise EmotuneError(f"--ferplus-weight must be between 0 and 1, got {ferplus_weight}")
    data = load_fer2013(args.data, limit=args.limit)  # fails fast, before TensorFlow loads
    if ferplus_weight and data.train.ferplus_votes is None:
        raise EmotuneError(f"--ferplus-weight needs FER+ votes, and {data.path} has no 'ferplus_votes' array")

    from device.training.export import export_model
    from device.training.model import ModelSpec
    from device.training.report import write_model_report, write_report
    from device.training.train import LOG, Augmentation, TrainOptions, configure_threads, run_training

    threads = configure_threads()
    run_dir = Path(args.run_dir) if args.run_dir else config.state_dir / "training-runs" / default_run_name(args)
    options = TrainOptions(
        run_dir=run_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        spec=ModelSpec(width=args.width) if args.width else None,
        fresh=args.fresh,
        init_from=args.init_from,
        augmentation=Augmentation.camera_like() if getattr(args, "camera_augmentation", False) else Augmentation(),
        ferplus_weight=ferplus_weight,
        verbose=1 if sys.stdout.isatty() else 2,  # a bar on a terminal, a line per epoch in a log
    )
    print(f"training on {data.path} {data.sizes()} in {run_dir} ({threads} threads)", file=sys.stderr)
    result = run_training(data, options)
    seconds_per_epoch = (
        sorted(row["seconds"] for row in result.history)[len(result.history) // 2] if result.history else 0.0
    )
    provenance: dict[str, Any] = {
        "architecture": {**result.spec.to_dict(), "parameters": int(result.model.count_params())},
        "training": {
            "data": describe_data(data, args.limit),
            "fit_on": "Training",
            "chosen_on": "PublicTest",
            "reported_on": "PrivateTest",
            "epochs": result.epochs_run,
            "epochs_planned": args.epochs,
            "best_epoch": result.best_epoch,
            "best_public_test_accuracy": round(result.best_val_accuracy, 4),
            "stopped_early": result.stopped_early,
            "batch_size": args.batch_size,
            "learning_rate": {"peak": args.learning_rate, "schedule": "cosine per epoch to 1 %"},
            "optimizer": "adam",
            "class_weights": result.class_weights,
            "augmentation": (options.augmentation.__dict__ if options.augmentation else None),
            "targets": (
                f"soft: {1 - ferplus_weight:g} FER2013 label + {ferplus_weight:g} FER+ vote shares"
                if ferplus_weight
                else "FER2013 labels"
            ),
            "seconds": round(result.seconds, 1),
            "median_epoch_seconds": seconds_per_epoch,
            "threads": threads,
            "run_dir": str(run_dir),
            "initialised_from": _start_model_provenance(args.init_from),
        },
        "command": command_line(),
    }
    meta = export_model(result.model, data, Path(args.output), provenance)
    report = write_report(args.report or run_dir / "report", meta, result.history, run_dir / LOG)
    # the report that ships beside the model: models/report/ for models/emotion.tflite
    output = Path(args.output)
    write_model_report(output.parent / "report", meta, result.history, output)
    m = meta["metrics"]
    print(
        f"{args.output}: {meta['file_size'] / 1e6:.2f} MB int8, best epoch {result.best_epoch}/{result.epochs_run}\n"
        f"PrivateTest accuracy float {m['float']['accuracy']:.2%} int8 {m['int8']['accuracy']:.2%}; "
        f"macro-F1 float {m['float']['macro_f1']:.3f} int8 {m['int8']['macro_f1']:.3f}\n"
        f"report: {report}; beside the model: {output.parent / 'report'}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m device.training`: the train command without the emotune CLI."""
    parser = argparse.ArgumentParser(prog="python -m device.training", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=None)
    add_train_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return train_command(args, load_config(state_dir=args.state_dir))
    except EmotuneError as error:
        print(f"emotune train: {error}", file=sys.stderr)
        return 1
