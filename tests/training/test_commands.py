"""`emotune train`'s command: clear errors for missing or malformed data, and no TensorFlow at import."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from device.listener.fer2013 import DataError, load_fer2013
from device.training.commands import train_command

TrainArgs = Callable[..., argparse.Namespace]


def test_missing_data_file_is_a_clear_error(tmp_path: Path, config, train_args: TrainArgs) -> None:
    missing = tmp_path / "nowhere" / "fer2013.npz"
    args = train_args("--data", str(missing), "--run-dir", str(tmp_path / "run"))
    with pytest.raises(DataError, match=r"not found; pass --data"):
        train_command(args, config)
    assert not (tmp_path / "run").exists()


def test_wrong_arrays_are_a_clear_error(tmp_path: Path, config, train_args: TrainArgs) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, pixels=np.zeros((3, 48, 48), np.uint8), labels=np.zeros(3, np.uint8))
    with pytest.raises(DataError, match=r"missing array\(s\) images, usage"):
        train_command(train_args("--data", str(bad)), config)
    wrong = tmp_path / "wrong.npz"
    np.savez(
        wrong, images=np.zeros((3, 48, 48), np.uint8), labels=np.array([0, 9, 1], np.uint8), usage=np.zeros(3, np.uint8)
    )
    with pytest.raises(DataError, match=r"'labels' must be 0\.\.6"):
        load_fer2013(wrong)


def test_importing_the_commands_does_not_load_tensorflow() -> None:
    import subprocess
    import sys

    code = (
        "import sys, device.training.commands, device.listener.evaluate; "
        "sys.exit(1 if 'tensorflow' in sys.modules or 'keras' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
