"""The evaluation report of a model: loss/accuracy curves and confusion matrices as small PNGs.

`write_report` (called by `emotune train`) fills the run's report folder, with metrics.json and log.csv;
`write_model_report` makes the report that ships beside a model (`models/report/`) from the model's JSON
(its PrivateTest metrics) and, where known, the run's log.csv:

    python -m device.training.report --model models/emotion.json [--out models/report] [--log run/log.csv]

Every PNG names the model file and its sha256 in its PNG text ("Source"), so a report can be checked
against the model beside it. Needs matplotlib only (no TensorFlow).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Any, Literal

import numpy as np

logger = logging.getLogger(__name__)

CURVES = "curves.png"
# (metrics key, values shown) -> file name, for write_model_report
CellValues = Literal["both", "counts", "rows"]
CONFUSION_FILES: dict[tuple[str, CellValues], str] = {
    ("int8", "counts"): "confusion_int8_counts.png",
    ("int8", "rows"): "confusion_int8_normalised.png",
    ("float", "counts"): "confusion_float_counts.png",
    ("float", "rows"): "confusion_float_normalised.png",
}
SHIPPED_DPI = 72  # keeps each shipped PNG well under 60 KB

def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on a device or in CI
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path, dpi: int, source: str) -> None:
    """Write `fig` as a PNG at `dpi` with `source` (which model it describes) in its PNG text."""
    metadata = {"Source": source} if source else {}
    fig.savefig(path, dpi=dpi, metadata=metadata)


def plot_curves(
    history: list[dict[str, float]], path: Path, best_epoch: int = 0, dpi: int = 110, source: str = ""
) -> None:
    """Loss and accuracy per epoch, Training against PublicTest, the chosen epoch marked.

    `history`: one row per epoch with epoch, loss, accuracy, val_loss, val_accuracy (log.csv's columns); a
    run measured on PublicTest at some epochs only (the GPU twin's snapshots) has val_* in those rows alone,
    drawn as points.
    """
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    measured = [r for r in history if "val_loss" in r and "val_accuracy" in r]
    style = {"marker": "o"} if len(measured) < len(history) else {}
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    loss_ax.plot(epochs, [r["loss"] for r in history], label="Training (weighted, augmented)")
    loss_ax.plot([r["epoch"] for r in measured], [r["val_loss"] for r in measured], label="PublicTest", **style)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    acc_ax.plot(epochs, [r["accuracy"] for r in history], label="Training (augmented)")
    acc_ax.plot([r["epoch"] for r in measured], [r["val_accuracy"] for r in measured], label="PublicTest", **style)
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss_ax, acc_ax):
        if best_epoch:
            ax.axvline(best_epoch, color="grey", linestyle=":", label=f"chosen (epoch {best_epoch})")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    _save(fig, path, dpi, source)
    plt.close(fig)


def plot_confusion(
    result: dict[str, Any],
    path: Path,
    title: str,
    values: CellValues = "both",
    dpi: int = 110,
    source: str = "",
) -> None:
    """A confusion matrix (rows: true class, columns: predicted) as a PNG.

    `result`: an evaluation result with `per_class` (label → figures, in label order) and `confusion`
    (K×K counts). `values`: what the cells say and the colours show — "rows": the fraction of the true
    class (each row sums to 1), "counts": the number of faces, "both": fraction and count in each cell,
    coloured by fraction.
    """
    plt = _pyplot()
    labels = list(result["per_class"])
    counts = np.asarray(result["confusion"], dtype=np.float64)
    rows = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    shade = counts / max(counts.max(), 1) if values == "counts" else rows
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(counts if values == "counts" else rows, cmap="Blues", vmin=0,
                      vmax=max(counts.max(), 1) if values == "counts" else 1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            text = {
                "both": f"{rows[i, j]:.2f}\n{int(counts[i, j])}",
                "rows": f"{rows[i, j]:.2f}",
                "counts": f"{int(counts[i, j])}",
            }[values]
            ax.text(j, i, text, ha="center", va="center", fontsize=7 if values == "both" else 9,
                    color="white" if shade[i, j] > 0.5 else "black")
    label = "faces" if values == "counts" else "fraction of the true class"
    fig.colorbar(image, ax=ax, fraction=0.046, label=label)
    fig.tight_layout()
    _save(fig, path, dpi, source)
    plt.close(fig)


def read_log_csv(path: Path) -> list[dict[str, float]]:
    """A run's log.csv (device.training.train.LOG_FIELDS, one row per epoch) as plot_curves' history."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [{key: float(value) for key, value in row.items() if value not in (None, "")}
                for row in csv.DictReader(handle)]


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def model_source(model_file: Path | None, meta: dict[str, Any]) -> str:
    """What a shipped PNG says it describes: "<file> sha256 <hex>, <date>" (the model file's own hash)."""
    parts = []
    if model_file is not None and Path(model_file).is_file():
        parts.append(f"{Path(model_file).name} sha256 {file_sha256(Path(model_file))}")
    if meta.get("date"):
        parts.append(str(meta["date"]))
    return ", ".join(parts)


def write_model_report(
    folder: Path,
    meta: dict[str, Any],
    history: list[dict[str, float]] | None = None,
    model_file: Path | None = None,
) -> list[Path]:
    """The PNGs that ship beside a model: its confusion matrices and, with `history`, its curves.

    `meta`: the model's JSON (metrics.split, metrics.int8, metrics.float as device.training.export
    writes them; training.best_epoch marks the chosen epoch). Writes the four CONFUSION_FILES (int8 and
    float, counts and row-normalised) and CURVES when `history` has rows; without it an older curves.png
    in `folder` is removed, so a folder never shows the curves of another model. Small PNGs (72 dpi,
    about 25–45 KB each), their PNG text naming `model_file` and its sha256. Returns the files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = model_source(model_file, meta)
    metrics = meta["metrics"]
    written = []
    for (kind, values), name in CONFUSION_FILES.items():
        result = metrics[kind]
        shown = "counts of faces" if values == "counts" else "row-normalised"
        title = (f"{kind} model on {metrics['split']} ({shown})\n"
                 f"accuracy {result['accuracy']:.2%}, macro-F1 {result['macro_f1']:.3f}, n = {result['n']}")
        plot_confusion(result, folder / name, title, values=values, dpi=SHIPPED_DPI, source=source)
        written.append(folder / name)
    curves = folder / CURVES
    if history:
        best_epoch = int(meta.get("training", {}).get("best_epoch", 0))
        plot_curves(history, curves, best_epoch, dpi=SHIPPED_DPI, source=source)
        written.append(curves)
    elif curves.exists():
        curves.unlink()
        logger.info("removed %s: no training history for this model", curves)
    logger.info("model report written to %s", folder)
    return written


def write_report(folder: Path, meta: dict[str, Any], history: list[dict[str, float]], log_csv: Path) -> Path:
    """A training run's report: curves.png, confusion.png (int8), confusion_float.png, metrics.json,
    log.csv into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    best_epoch = int(meta.get("training", {}).get("best_epoch", 0))
    if history:
        plot_curves(history, folder / CURVES, best_epoch)
    metrics = meta["metrics"]
    split = metrics["split"]
    for kind, name in (("int8", "confusion.png"), ("float", "confusion_float.png")):
        result = metrics[kind]
        plot_confusion(
            result,
            folder / name,
            f"{kind} model on {split}: accuracy {result['accuracy']:.1%}, macro-F1 {result['macro_f1']:.3f}",
        )
    (folder / "metrics.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if log_csv.is_file():
        shutil.copyfile(log_csv, folder / "log.csv")
    logger.info("report written to %s", folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    """`python -m device.training.report`: the shipped report of an existing model, from its JSON."""
    parser = argparse.ArgumentParser(prog="python -m device.training.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True,
                        help="the model's .json (or its .tflite; the .json beside it is read)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the PNGs (default: report/ beside the model)")
    parser.add_argument("--log", type=Path, default=None,
                        help="the training run's log.csv, for the loss/accuracy curves (without it: no curves.png)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    meta_path = args.model.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        history = read_log_csv(args.log) if args.log else None
    except (OSError, json.JSONDecodeError, ValueError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    if "metrics" not in meta:
        print(f"report: {meta_path} has no metrics (made by `emotune train`?)", file=sys.stderr)
        return 1
    model_file = args.model.with_suffix(".tflite")
    folder = args.out or meta_path.parent / "report"
    for path in write_model_report(folder, meta, history, model_file if model_file.is_file() else None):
        print(f"{path} ({path.stat().st_size / 1000:.0f} KB)")
    if not history:
        print("no training history given (--log): no curves.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
