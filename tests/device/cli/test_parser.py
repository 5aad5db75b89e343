"""The parser (device.cli.parser) as `emotune --help` shows it."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Emotune


def test_help_lists_the_commands(tmp_path: Path, emotune: Emotune) -> None:
    result = emotune("--help", state_dir=tmp_path)
    assert result.returncode == 0
    for command in ("run", "web", "demo", "classify", "recommend", "train", "evaluate", "bench", "capture",
                    "model"):
        assert command in result.stdout
