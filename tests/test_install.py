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


def test_help_names_the_uninstall_and_the_hostname() -> None:
    out = run("--help").stdout
    for option in ("--uninstall", "--purge", "--hostname", "--with-training"):
        assert option in out
    assert "set -euo" not in out  # only the comment block


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--purge",), "--purge goes with --uninstall"),
        (("--hostname", "my_pi!"), "not a valid name"),
        (("--hostname",), "--hostname needs a name"),
    ],
)
def test_bad_combinations_fail_before_anything_changes(args: tuple[str, ...], message: str) -> None:
    result = run(*args, "--dry-run")
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="the appliance install refuses to plan without root")
def test_the_wrong_os_is_one_clear_line(tmp_path: Path) -> None:
    fake = tmp_path / "os-release"
    fake.write_text('PRETTY_NAME="Raspbian GNU/Linux 11 (bullseye)"\nVERSION_CODENAME=bullseye\n', encoding="utf-8")
    result = subprocess.run(["bash", str(INSTALL), "--pi", "--dry-run"], capture_output=True, text=True, timeout=60,
                            check=False, env={**os.environ, "EMOTUNE_OS_RELEASE": str(fake)})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "install.sh: emotune needs Raspberry Pi OS bookworm (Debian 12); this system is 'bullseye' "
        "(Raspbian GNU/Linux 11 (bullseye))"
    )
    assert "would run" not in result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="the appliance install refuses to plan without root")
def test_first_power_on_plan_has_music_a_name_and_the_scan_timer() -> None:
    out = run("--pi", "--dry-run").stdout
    assert "install -d -o emotune -g emotune -m 2775 /var/lib/emotune/music" in out
    assert "emotune catalog starter" in out  # something to play before any music is added
    assert "/etc/avahi/services/emotune.service (_http._tcp on port" in out
    assert "systemctl enable emotune.service emotune-web.service emotune-scan.timer" in out
    # the starter catalog is built before the services start, so the daemon has music at once
    assert out.index("catalog starter") < out.index("systemctl restart emotune.service")


@pytest.mark.skipif(os.geteuid() != 0, reason="uninstalling refuses to plan without root")
def test_uninstall_keeps_the_listeners_data_unless_purged() -> None:
    kept = run("--uninstall", "--dry-run")
    assert kept.returncode == 0, kept.stderr
    assert "rm -rf /opt/emotune" in kept.stdout
    assert "rm -f /etc/systemd/system/emotune-scan.timer" in kept.stdout
    assert "rm -rf /var/lib/emotune" not in kept.stdout
    assert "kept /var/lib/emotune" in kept.stdout
    purged = run("--uninstall", "--purge", "--dry-run")
    assert purged.returncode == 0, purged.stderr
    assert "rm -rf /var/lib/emotune /etc/emotune /var/cache/emotune" in purged.stdout
