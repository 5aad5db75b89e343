"""The deploy files: systemd accepts every unit, their sandbox stays tight, the config template parses."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from device.config import SECTIONS, Config, parse_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = ("emotune.service", "emotune-web.service", "emotune-scan.service")
TIMERS = ("emotune-scan.timer",)  # systemd-analyze security scores services only
INSTALLED_BINARY = "/opt/emotune/.venv/bin/emotune"
MAX_EXPOSURE = 2.0  # systemd-analyze security's 0 (locked down) … 10 (unprotected)

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (apt install systemd)"
)


def unit_settings(name: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit file, every value of a repeated key kept in order."""
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


@pytest.fixture
def stubbed_units(tmp_path: Path) -> list[Path]:
    """The units (and timers) with ExecStart pointing at a stub, since /opt/emotune is not installed here."""
    binary = tmp_path / "bin" / "emotune"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    copies = []
    for name in UNITS + TIMERS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        assert INSTALLED_BINARY in text or name in TIMERS
        copy = tmp_path / name
        copy.write_text(text.replace(INSTALLED_BINARY, str(binary)), encoding="utf-8")
        copies.append(copy)
    return copies


@needs_systemd_analyze
def test_systemd_accepts_every_unit(stubbed_units: list[Path]) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, stubbed_units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 even for unknown keys; any line naming our files is a problem.
    output = (result.stdout + result.stderr).splitlines()
    complaints = [line for line in output if any(unit in line for unit in UNITS + TIMERS)]
    assert result.returncode == 0, result.stdout + result.stderr
    assert complaints == []


@needs_systemd_analyze
@pytest.mark.parametrize("name", UNITS)
def test_units_are_sandboxed(name: str) -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(DEPLOY / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, result.stdout


def test_units_say_what_the_design_asks() -> None:
    daemon = unit_settings("emotune.service")
    assert daemon["ExecStart"] == [f"{INSTALLED_BINARY} run"]
    assert daemon["Type"] == ["notify"] and daemon["NotifyAccess"] == ["main"]
    assert daemon["WatchdogSec"] == ["30"] and daemon["Restart"] == ["on-failure"]
    assert daemon["User"] == ["emotune"] and daemon["SupplementaryGroups"] == ["video audio"]
    assert daemon["DevicePolicy"] == ["closed"]
    assert "AF_INET" not in " ".join(daemon["RestrictAddressFamilies"])
    assert "NUMBA_CACHE_DIR=/var/cache/emotune/numba" in daemon["Environment"]
    assert "OPENBLAS_NUM_THREADS=1" in daemon["Environment"]  # a decision's p95 (bench/learning_bench.py)

    web = unit_settings("emotune-web.service")
    assert web["ExecStart"] == [f"{INSTALLED_BINARY} web"]
    assert web["Type"] == ["simple"] and web["User"] == ["emotune"] and web["PrivateDevices"] == ["yes"]
    scan = unit_settings("emotune-scan.service")
    assert scan["ExecStart"] == [f"{INSTALLED_BINARY} catalog scan"]  # no folder: the configured music_dirs
    assert scan["Type"] == ["oneshot"] and scan["User"] == ["emotune"] and scan["PrivateDevices"] == ["yes"]
    assert (scan["Nice"], scan["CPUSchedulingPolicy"], scan["IOSchedulingClass"]) == (["19"], ["idle"], ["idle"])
    assert scan["RestrictAddressFamilies"] == ["AF_UNIX"] and scan["PrivateNetwork"] == ["yes"]
    assert "MemoryDenyWriteExecute" not in scan  # numba JIT-compiles the audio analysis
    # the daemon's dirs, so numba's compiled code is shared and the database is the daemon's
    for key in ("StateDirectory", "CacheDirectory", "ConfigurationDirectory", "Environment"):
        assert scan[key] == daemon[key], key
    timer = unit_settings("emotune-scan.timer")
    assert timer["OnBootSec"] == ["2min"] and timer["OnUnitActiveSec"] == ["30min"]  # "plays within the hour"
    assert timer["WantedBy"] == ["timers.target"]
    for unit in (daemon, web, scan):
        assert unit["StateDirectory"] == ["emotune"] and unit["CapabilityBoundingSet"] == [""]
        assert unit["ProtectSystem"] == ["strict"] and unit["NoNewPrivileges"] == ["yes"]


def template_text() -> str:
    text = (DEPLOY / "config.toml").read_text(encoding="utf-8")
    assert 'pin = "@PIN@"' in text  # install.sh fills this in
    return text.replace("@PIN@", "482913")


def test_config_template_parses() -> None:
    config = parse_config(template_text(), "deploy/config.toml")
    assert config.state_dir == Path("/var/lib/emotune")
    assert config.web.pin == "482913"


def test_config_template_documents_every_key_with_its_default() -> None:
    raw = tomllib.loads(template_text())
    config = parse_config(template_text(), "deploy/config.toml")
    defaults = Config()
    for name, cls in SECTIONS.items():
        assert set(raw[name]) == {f.name for f in dataclasses.fields(cls)}, f"[{name}] is incomplete"
        expected = getattr(defaults, name)
        if name == "web":
            expected = dataclasses.replace(expected, pin="482913")
        assert getattr(config, name) == expected, f"[{name}] does not show the defaults"
