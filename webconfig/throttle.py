"""Slows down PIN guessing per client address, persisted in the database, without locking out the owner.

The rule (README, "Using it from a phone"): each address gets FREE_TRIES wrong PINs; every further wrong
one blocks that address for FIRST_BLOCK_S seconds, doubling each time up to MAX_BLOCK_S. The right PIN
clears the address's count; a count with no new miss for FORGET_AFTER_S is forgotten. IPv6 addresses
count per /64 network (one device can take any address in its network). Another address, the owner's
phone, is never slowed by a stranger's misses, and a restart forgets nothing (table `login_failures`).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlite_utils

FREE_TRIES = 5
FIRST_BLOCK_S = 30.0
MAX_BLOCK_S = 900.0
FORGET_AFTER_S = 24 * 3600.0


def client_key(address: str | None) -> str:
    """What one client is: its IPv4 address, or its IPv6 /64 network."""
    try:
        parsed = ipaddress.ip_address((address or "").partition("%")[0])
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


@dataclass
class LoginThrottle:
    free_tries: int = FREE_TRIES
    first_block_s: float = FIRST_BLOCK_S
    max_block_s: float = MAX_BLOCK_S
    forget_after_s: float = FORGET_AFTER_S
    clock: Callable[[], float] = field(default=time.time)

    def _row(self, db: sqlite_utils.Database, key: str) -> tuple[int, float, float]:
        row = db.execute("SELECT failures, last_failed_at, blocked_until FROM login_failures WHERE address = ?",
                         [key]).fetchone()
        if row is None or self.clock() - float(row[1] or 0) > self.forget_after_s:
            return 0, 0.0, 0.0
        return int(row[0] or 0), float(row[1] or 0), float(row[2] or 0)

    def wait_s(self, db: sqlite_utils.Database, address: str | None) -> float:
        """Seconds until this address may try again (0: now)."""
        return max(0.0, self._row(db, client_key(address))[2] - self.clock())

    def failed(self, db: sqlite_utils.Database, address: str | None) -> int:
        """Records a wrong PIN from `address`; returns how many tries it has left before a block."""
        key = client_key(address)
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")
            failures = self._row(db, key)[0] + 1
            now = self.clock()
            over = failures - self.free_tries
            blocked = now + min(self.max_block_s, self.first_block_s * 2 ** min(over, 30)) if over >= 0 else 0.0
            db.execute(
                "INSERT INTO login_failures (address, failures, last_failed_at, blocked_until) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (address) DO UPDATE SET failures = excluded.failures, "
                "last_failed_at = excluded.last_failed_at, blocked_until = excluded.blocked_until",
                [key, failures, now, blocked],
            )
        return max(0, -over)

    def succeeded(self, db: sqlite_utils.Database, address: str | None) -> None:
        db.execute("DELETE FROM login_failures WHERE address = ?", [client_key(address)])
        db.execute("DELETE FROM login_failures WHERE last_failed_at < ?", [self.clock() - self.forget_after_s])
