"""A model trained once for the whole session on tests.synthetic's patterns (train → int8 export)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from device.training.commands import add_train_arguments


def parse_train_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def train_args() -> Callable[..., argparse.Namespace]:
    """`emotune train`'s arguments parsed from the given words."""
    return parse_train_args


@pytest.fixture(scope="session")
def trained(synthetic_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """run_dir, output (.tflite) and report of `emotune train` on the synthetic data (8 epochs, width 8)."""
    pytest.importorskip("tensorflow")
    from device.config import load_config
    from device.training.commands import train_command

    base = tmp_path_factory.mktemp("train")
    paths = {"run_dir": base / "run", "output": base / "models" / "emotion.tflite", "report": base / "report"}
    args = parse_train_args(
        "--data",
        str(synthetic_npz),
        "--epochs",
        "8",
        "--batch-size",
        "16",
        "--width",
        "8",
        "--learning-rate",
        "3e-3",
        "--run-dir",
        str(paths["run_dir"]),
        "--output",
        str(paths["output"]),
        "--report",
        str(paths["report"]),
    )
    assert train_command(args, load_config(state_dir=base / "state")) == 0
    return paths
