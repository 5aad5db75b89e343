"""Loading FER2013-style npz data (device.listener.fer2013)."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.listener.fer2013 import DataError, load_fer2013


def test_limit_keeps_a_random_subset(synthetic_npz: Path) -> None:
    data = load_fer2013(synthetic_npz, limit=50)
    assert len(data.train) == 50 and data.train_total == 280
    assert len(data.public_test) == 70 and len(data.private_test) == 70
    with pytest.raises(DataError, match="--limit"):
        load_fer2013(synthetic_npz, limit=0)
