"""The audio features of the demo clips, extracted once for the music tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.music.features import extract_features
from tests.helpers import MODE_PIECES


@pytest.fixture(scope="session")
def features(demo_clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    """extract_features of the three clear major/minor demo clips, by title."""
    state = tmp_path_factory.mktemp("state")
    return {title: extract_features(demo_clips[title], state) for title in MODE_PIECES}
