"""`emotune run` (device.cli.playback) as a user meets its errors."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Emotune


def test_missing_model_is_one_clear_line(tmp_path: Path, emotune: Emotune) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[model]\npath = "{tmp_path / "gone.tflite"}"\n[camera]\nsource = "replay"\n')
    result = emotune("run", state_dir=tmp_path, env={"EMOTUNE_CONFIG": str(config)})
    assert result.returncode == 1
    assert "gone.tflite not found" in result.stderr
    assert "Traceback" not in result.stderr
