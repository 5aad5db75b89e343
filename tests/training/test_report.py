"""The report that ships beside the model: confusion matrices (and curves when the history is known)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from device.config import PACKAGE_ROOT  # noqa: E402
from device.training.report import CONFUSION_FILES, CURVES, main  # noqa: E402

MODELS = PACKAGE_ROOT / "models"
MAX_PNG_BYTES = 60_000


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source(png: Path) -> str:
    with Image.open(png) as image:
        return str(image.text.get("Source", ""))


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """The shipped model's JSON beside a stand-in .tflite (the report reads only the JSON's metrics)."""
    shutil.copyfile(MODELS / "emotion.json", tmp_path / "emotion.json")
    (tmp_path / "emotion.tflite").write_bytes(b"a model")
    return tmp_path / "emotion.json"


def test_shipped_report_is_of_the_shipped_model() -> None:
    """models/report/ holds small PNGs of every confusion matrix, made from the model beside it."""
    folder = MODELS / "report"
    shipped = _sha256(MODELS / "emotion.tflite")
    for name in CONFUSION_FILES.values():
        png = folder / name
        assert png.is_file(), f"{png} is missing: run python -m device.training.report --model models/emotion.json"
        assert png.stat().st_size <= MAX_PNG_BYTES
        assert shipped in _source(png), f"{png} describes another model: regenerate it"
    readme = (MODELS / "README.md").read_text(encoding="utf-8")
    assert "python -m device.training.report --model models/emotion.json" in readme
    assert all(f"report/{name}" in readme for name in CONFUSION_FILES.values())


def test_report_command_writes_confusion_pngs_beside_the_model(model_copy: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--model", str(model_copy)]) == 0
    folder = model_copy.parent / "report"
    written = {p.name for p in folder.iterdir()}
    assert written == set(CONFUSION_FILES.values())  # no curves without a training history
    assert "no curves.png" in capsys.readouterr().out
    for name in written:
        assert (folder / name).stat().st_size <= MAX_PNG_BYTES
        assert _sha256(model_copy.with_suffix(".tflite")) in _source(folder / name)
    # counts and row-normalised are different pictures
    assert (folder / CONFUSION_FILES["int8", "counts"]).read_bytes() != (
        folder / CONFUSION_FILES["int8", "rows"]).read_bytes()


def test_curves_come_from_the_log_and_go_when_there_is_none(model_copy: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    with log.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"])
        for epoch in range(1, 6):
            writer.writerow([epoch, 1.8 - 0.1 * epoch, 0.3 + 0.05 * epoch, 1.7 - 0.08 * epoch, 0.3 + 0.04 * epoch,
                             1e-3, 10])
    out = tmp_path / "out"
    assert main(["--model", str(model_copy), "--out", str(out), "--log", str(log)]) == 0
    assert (out / CURVES).is_file() and (out / CURVES).stat().st_size <= MAX_PNG_BYTES
    # the next model without a history: its folder must not keep the curves of the one before
    assert main(["--model", str(model_copy), "--out", str(out)]) == 0
    assert not (out / CURVES).exists()


def test_report_command_refuses_a_json_without_metrics(tmp_path: Path) -> None:
    meta = tmp_path / "emotion.json"
    meta.write_text(json.dumps({"labels": ["a"]}), encoding="utf-8")
    assert main(["--model", str(meta)]) == 1
    assert not (tmp_path / "report").exists()


def test_training_writes_the_report_beside_the_model_it_exports(trained: dict[str, Path]) -> None:
    """`emotune train --output DIR/emotion.tflite` leaves DIR/report/ with the curves and matrices."""
    output = trained["output"]
    folder = output.parent / "report"
    assert {p.name for p in folder.iterdir()} == {*CONFUSION_FILES.values(), CURVES}
    for png in folder.iterdir():
        assert _sha256(output) in _source(png)
