"""install.sh as a user meets it: help, bad options, and the appliance plan (dry run)."""

import os
import subprocess
from pathlib import Path

import pytest

INSTALL = Path(__file__).resolve().parent.parent / "install.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=60, check=False)


def test_help_says_what_each_mode_does() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "Raspberry Pi" in result.stdout and "--dry-run" in result.stdout


def test_unknown_option_fails_early_and_clearly() -> None:
    result = run("--frobnicate")
    assert result.returncode == 2
    assert "unknown option '--frobnicate'" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the appliance install refuses to plan without root")
def test_pi_dry_run_plans_the_appliance_and_changes_nothing() -> None:
    result = run("--pi", "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "venv --system-site-packages /opt/emotune/.venv" in out
    assert "systemctl enable emotune.service emotune-web.service" in out
    assert "config.toml with a new PIN" in out or "keeping /etc/emotune/config.toml" in out
    assert not Path("/etc/systemd/system/emotune.service").exists()
