"""Shared fixtures: every test gets its own state dir and a config that needs no hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.config import Config, load_config


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.delenv("EMOTUNE_CONFIG", raising=False)
    monkeypatch.delenv("EMOTUNE_STATE_DIR", raising=False)
    base = load_config(state_dir=tmp_path / "state")
    return base.replace_section("player", audio_output="dummy", fade_s=0.2).replace_section(
        "web", pin="4321"
    )
