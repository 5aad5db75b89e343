"""What the daemon tells systemd (readiness, watchdog, status) and where it logs.

systemd-python's notify() returns False outside systemd without raising, so the same calls work in a
terminal; without the package (a dev machine without libsystemd-dev) they are no-ops.
"""

from __future__ import annotations

import logging
import os
import sys

try:
    from systemd import daemon as sd_daemon
except ImportError:  # pragma: no cover - depends on the machine
    sd_daemon = None

logger = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self) -> None:
        self.available = sd_daemon is not None

    def _send(self, message: str) -> bool:
        if sd_daemon is None:
            return False
        return bool(sd_daemon.notify(message))

    def ready(self, status: str = "") -> bool:
        return self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, text: str) -> bool:
        return self._send(f"STATUS={text}")

    def watchdog(self) -> bool:
        return self._send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self._send("STOPPING=1")


def under_systemd() -> bool:
    return bool(os.environ.get("INVOCATION_ID") or os.environ.get("JOURNAL_STREAM"))


def setup_logging(verbose: bool = False) -> None:
    """journald under systemd (structured, with priorities), stderr elsewhere."""
    level = logging.DEBUG if verbose else logging.INFO
    handler: logging.Handler
    if under_systemd():
        try:
            from systemd.journal import JournalHandler

            handler = JournalHandler(SYSLOG_IDENTIFIER="emotune")
            handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        except ImportError:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # VLC and numba chatter is not the listener's business
    for noisy in ("numba", "PIL", "matplotlib", "waitress"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
