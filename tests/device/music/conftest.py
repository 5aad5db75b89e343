"""The audio features of the demo clips, extracted once for the music tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.music.features import analyse_parts
from tests.helpers import MODE_PIECES


@pytest.fixture(scope="session")
def features(demo_clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    """The features (as the scan computes them) of the three clear major/minor demo clips, by title."""
    state = tmp_path_factory.mktemp("state")
    return {title: analyse_parts(demo_clips[title], state).features for title in MODE_PIECES}
