"""The evaluation report of a training run: curves, confusion matrix, metrics, as files in a folder."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on a device or in CI
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: list[dict[str, float]], path: Path, best_epoch: int = 0) -> None:
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    loss_ax.plot(epochs, [r["loss"] for r in history], label="Training (weighted, augmented)")
    loss_ax.plot(epochs, [r["val_loss"] for r in history], label="PublicTest")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    acc_ax.plot(epochs, [r["accuracy"] for r in history], label="Training (augmented)")
    acc_ax.plot(epochs, [r["val_accuracy"] for r in history], label="PublicTest")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (loss_ax, acc_ax):
        if best_epoch:
            ax.axvline(best_epoch, color="grey", linestyle=":", label=f"chosen (epoch {best_epoch})")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(result: dict[str, Any], path: Path, title: str) -> None:
    plt = _pyplot()
    labels = list(result["per_class"])
    counts = np.asarray(result["confusion"], dtype=np.float64)
    rows = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j,
                i,
                f"{rows[i, j]:.2f}\n{int(counts[i, j])}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if rows[i, j] > 0.5 else "black",
            )
    fig.colorbar(image, ax=ax, fraction=0.046, label="fraction of the true class")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(folder: Path, meta: dict[str, Any], history: list[dict[str, float]], log_csv: Path) -> Path:
    """curves.png, confusion.png (int8), confusion_float.png, metrics.json, log.csv into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    best_epoch = int(meta.get("training", {}).get("best_epoch", 0))
    if history:
        plot_curves(history, folder / "curves.png", best_epoch)
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
