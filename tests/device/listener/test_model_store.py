"""The personal model slot without TensorFlow: install, `model status`, rollback and back again.

The "personal" model is the shipped one copied into a candidate folder, with a JSON that says it was
fine-tuned (date, accuracy), the way `emotune train --personal` hands its models to install_model.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from device.cli import main
from device.config import Config
from device.emotion import SHIPPED_MODEL, load_classifier, personal_model_path
from device.errors import ModelError
from device.listener.model_store import (
    count_faces,
    format_status,
    install_model,
    model_status,
    models_dir,
    previous_dir,
    rollback,
)

FINE_TUNED = {"date": "2026-11-24T12:00:00", "metrics": {"split": "your held-out faces",
                                                          "int8": {"accuracy": 0.875, "n": 8},
                                                          "before": {"accuracy": 0.5}}}


def personal_candidate(state_dir: Path) -> Path:
    """A folder in models/ holding emotion.tflite + .json: the shipped model, described as fine-tuned."""
    models = models_dir(state_dir)
    models.mkdir(parents=True, exist_ok=True)
    candidate = Path(tempfile.mkdtemp(prefix=".candidate-", dir=models))
    shutil.copy(SHIPPED_MODEL, candidate / "emotion.tflite")
    meta = json.loads(SHIPPED_MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    (candidate / "emotion.json").write_text(json.dumps({**meta, **FINE_TUNED}), encoding="utf-8")
    return candidate


def test_a_fresh_device_uses_the_shipped_model_with_nothing_to_roll_back(config: Config) -> None:
    status = model_status(config)
    assert status["in_use"]["kind"] == "shipped" and status["in_use"]["path"] == str(SHIPPED_MODEL)
    assert status["previous"] is None and status["warning"] is None
    assert set(status["faces"].values()) == {0}
    assert format_status(config).splitlines()[1] == "previous: none"
    with pytest.raises(ModelError, match="nothing to roll back to"):
        rollback(config)
    assert not personal_model_path(config.state_dir).exists()


def test_install_then_rollback_and_back_again(config: Config) -> None:
    candidate = personal_candidate(config.state_dir)
    installed = install_model(candidate, config.state_dir)
    assert installed == personal_model_path(config.state_dir)
    assert list(candidate.iterdir()) == []  # moved into place, not copied
    assert load_classifier(config).model_path == installed
    status = model_status(config)
    assert status["in_use"]["kind"] == "personal" and status["in_use"]["accuracy"] == 0.875
    assert status["in_use"]["accuracy_before"] == 0.5 and status["in_use"]["measured_on"] == "your held-out faces"
    assert status["previous"]["kind"] == "shipped"
    text = format_status(config)
    assert text.startswith(f"in use:   your personal model {installed} (made 2026-11-24 12:00; 87.5% on your "
                           "held-out faces (8 faces), the model before it 50.0%)")
    [previous_line] = [line for line in text.splitlines() if line.startswith("previous: ")]
    assert previous_line.startswith(f"previous: the shipped model {SHIPPED_MODEL}")
    assert previous_line.endswith("(emotune model rollback)")

    message = rollback(config)
    assert message.startswith(f"rolled back: now using the shipped model {SHIPPED_MODEL}")
    assert "'emotune model rollback' again returns to the model you just left" in message
    assert not installed.exists() and load_classifier(config).model_path == SHIPPED_MODEL
    status = model_status(config)
    assert status["in_use"]["kind"] == "shipped"
    assert status["previous"]["kind"] == "personal" and status["previous"]["accuracy"] == 0.875

    message = rollback(config)  # the second rollback undoes the first
    assert message.startswith(f"rolled back: now using your personal model {installed}")
    assert json.loads(installed.with_suffix(".json").read_text(encoding="utf-8"))["date"] == FINE_TUNED["date"]
    assert installed.read_bytes() == SHIPPED_MODEL.read_bytes()
    assert model_status(config)["previous"]["kind"] == "shipped"
    assert sorted(p.name for p in previous_dir(config.state_dir).iterdir()) == ["SHIPPED"]


def test_a_configured_model_wins_and_rollback_says_so(config: Config, tmp_path: Path) -> None:
    install_model(personal_candidate(config.state_dir), config.state_dir)
    configured = config.replace_section("model", path=str(SHIPPED_MODEL))
    assert model_status(configured)["in_use"]["kind"] == "configured"
    message = rollback(configured)
    assert f"note: the config's model.path ({SHIPPED_MODEL}) wins over the personal model" in message


def test_a_broken_previous_model_is_not_rolled_back_to(config: Config) -> None:
    installed = install_model(personal_candidate(config.state_dir), config.state_dir)
    rollback(config)  # the personal model is now the previous one
    (previous_dir(config.state_dir) / "emotion.tflite").write_bytes(b"half a model")
    with pytest.raises(ModelError, match="cannot roll back: the previous model is unusable"):
        rollback(config)
    assert not installed.exists() and model_status(config)["in_use"]["kind"] == "shipped"  # nothing moved


def test_captured_faces_are_counted_per_emotion(config: Config) -> None:
    happy = config.state_dir / "faces" / "happy"
    happy.mkdir(parents=True)
    face = np.full((48, 48), 128, np.uint8)
    for name in ("1.png", "2.PNG", "3.jpg"):
        assert cv2.imwrite(str(happy / name), face)
    (happy / ".4.png").write_bytes(b"a hidden file, e.g. half written")
    (happy / "notes.txt").write_text("not a face")
    (config.state_dir / "faces" / "bored").mkdir()  # not an emotion of the model: not counted
    counts = count_faces(config.state_dir)
    assert counts["happy"] == 3 and sum(counts.values()) == 3
    assert "faces:    happy 3 (" in format_status(config)


@pytest.mark.usefixtures("keep_test_logging")
def test_rollback_with_nothing_to_roll_back(config: Config, capsys: pytest.CaptureFixture) -> None:
    assert main(["model", "rollback", "--state-dir", str(config.state_dir)]) == 1
    assert "nothing to roll back to" in capsys.readouterr().err
