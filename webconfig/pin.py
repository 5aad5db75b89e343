"""The page's two secrets, each generated once into the state dir (mode 0600) unless configured.

- the PIN the listener types on the phone: `web.pin` from the config, else `<state_dir>/web-pin`;
- the key that signs the session cookie: `<state_dir>/web-secret`.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from device.config import PIN_MAX_DIGITS, PIN_MIN_DIGITS, Config, is_valid_pin
from device.errors import ConfigError

logger = logging.getLogger(__name__)

PIN_FILE = "web-pin"
SECRET_FILE = "web-secret"
PIN_DIGITS = 6


def pin_path(config: Config) -> Path:
    return config.state_dir / PIN_FILE


def device_pin(config: Config) -> str:
    """The PIN the page asks for: the configured one, else one generated once into the state dir."""
    if config.web.pin:
        return config.web.pin
    path = pin_path(config)
    pin = _read_or_create(path, lambda: f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}")
    if not is_valid_pin(pin):
        raise ConfigError(
            f"{path} must hold a PIN of {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits; delete it to get a new one"
        )
    return pin


def secret_key(config: Config) -> str:
    """The key that signs session cookies; changing it logs every phone out."""
    return _read_or_create(config.state_dir / SECRET_FILE, lambda: secrets.token_hex(32))


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    try:
        return _read_private(path)
    except FileNotFoundError:
        pass
    # Written to a private temporary file, then linked into place: the link fails if another process
    # got there first (then its value wins), and nobody ever reads a half-written file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(make() + "\n")
        try:
            os.link(temporary, path)
            logger.info("generated %s", path)
        except FileExistsError:
            pass
    except OSError as error:
        hint = " (or set [web] pin in the config)" if path.name == PIN_FILE else ""
        raise ConfigError(
            f"cannot create {path}: {error.strerror}; make {path.parent} writable by the user running emotune"
            f"{hint}, or choose another state dir with --state-dir"
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return _read_private(path)


def _read_private(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning("%s was readable by others; making it private (0600)", path)
            path.chmod(0o600)
        value = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    if not value:
        raise ConfigError(f"{path} is empty; delete it to get a new one")
    return value
