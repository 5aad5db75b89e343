"""The page's PIN and session key (webconfig.pin): generated once, private, or the configured PIN."""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

import pytest

from device.config import Config
from device.errors import ConfigError
from webconfig import create_app
from webconfig.pin import device_pin, pin_path, secret_key


@pytest.fixture
def unconfigured(config: Config) -> Config:
    """A config without web.pin: the PIN comes from the state dir."""
    return config.replace_section("web", pin="")


def test_generated_pin_is_six_private_digits(config: Config) -> None:
    config = config.replace_section("web", pin="")
    pin = device_pin(config)
    assert re.fullmatch(r"\d{6}", pin)
    path = config.state_dir / "web-pin"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert device_pin(config) == pin  # generated once
    create_app(config)
    assert stat.S_IMODE((config.state_dir / "web-secret").stat().st_mode) == 0o600


def test_the_generated_pin_differs_from_device_to_device(unconfigured: Config, tmp_path: Path) -> None:
    pins = {device_pin(unconfigured.with_state_dir(tmp_path / f"device{i}")) for i in range(5)}
    assert len(pins) >= 4  # 10⁶ PINs: one repeat among five is unlikely, five alike would be a fixed PIN
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary file left beside any of them


def test_a_configured_pin_wins_and_nothing_is_generated(config: Config) -> None:
    assert config.web.pin == "4321"
    assert device_pin(config) == "4321"
    assert not pin_path(config).exists()
    pin_path(config).parent.mkdir(parents=True, exist_ok=True)
    pin_path(config).write_text("987654\n")  # a PIN file from before the config had one
    assert device_pin(config) == "4321"


def test_a_pin_file_written_by_hand_is_read_as_written(unconfigured: Config) -> None:
    pin_path(unconfigured).parent.mkdir(parents=True)
    pin_path(unconfigured).write_text("  24681357\n")
    pin_path(unconfigured).chmod(0o600)
    assert device_pin(unconfigured) == "24681357"


@pytest.mark.parametrize(
    ("content", "message"),
    [("12ab56\n", "must hold a PIN of 4 to 12 digits"), ("123\n", "must hold a PIN of 4 to 12 digits"),
     ("\n", "is empty"), (b"\xff\xfe1234", "cannot read")],
    ids=["letters", "too-short", "empty", "not-text"],
)
def test_a_bad_pin_file_is_a_config_error_naming_it(unconfigured: Config, content: str | bytes, message: str) -> None:
    path = pin_path(unconfigured)
    path.parent.mkdir(parents=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError) as error:
        device_pin(unconfigured)
    assert str(path) in str(error.value) and message in str(error.value)
    assert "\n" not in str(error.value)
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode())  # left as it was


def test_a_pin_file_others_can_read_is_made_private(
    unconfigured: Config, caplog: pytest.LogCaptureFixture
) -> None:
    path = pin_path(unconfigured)
    path.parent.mkdir(parents=True)
    path.write_text("135790\n")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert device_pin(unconfigured) == "135790"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "readable by others" in caplog.text


def test_the_session_key_is_generated_once_and_is_not_the_pin(unconfigured: Config) -> None:
    key = secret_key(unconfigured)
    assert len(key) >= 32 and secret_key(unconfigured) == key
    assert key != device_pin(unconfigured)
    assert secret_key(unconfigured.with_state_dir(unconfigured.state_dir.parent / "other")) != key
