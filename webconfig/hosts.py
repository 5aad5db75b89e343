"""Which Host headers the page answers: the names the device goes by and its own addresses, nothing else.

A web page the phone visits can point a name of its own at the device (DNS rebinding) and then read the
page as if it were its own site; the browser still sends that name as Host, so refusing names the device
does not go by closes the hole. Accepted: the hostname, `hostname.local`, `emotune.local`, `localhost`,
loopback addresses, the device's own addresses (read again when an unknown one arrives, so a new DHCP
lease works at once), and the names in the config's `web.allowed_hosts`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from werkzeug.sansio.utils import host_is_trusted

logger = logging.getLogger(__name__)

AVAHI_NAME = "emotune.local"
REREAD_EVERY_S = 10.0  # at most this often, an unknown address makes the device read its addresses again
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def device_names(extra: Iterable[str] = ()) -> list[str]:
    """The names the page answers to, lower case, each once."""
    hostname = socket.gethostname().lower().rstrip(".")
    short = hostname.split(".")[0]
    names = [hostname, short, f"{short}.local", AVAHI_NAME, "localhost", *(name.lower() for name in extra)]
    return list(dict.fromkeys(name for name in names if name))


def _fib_trie(text: str) -> set[IPAddress]:
    """The IPv4 addresses /proc/net/fib_trie lists as this host's own ("/32 host LOCAL")."""
    found: set[IPAddress] = set()
    last = ""
    for line in text.splitlines():
        word = line.strip()
        if word.startswith("|-- "):
            last = word[4:]
        elif word.startswith("/32 host LOCAL") and last:
            found.add(ipaddress.ip_address(last))
    return found


def _if_inet6(text: str) -> set[IPAddress]:
    found: set[IPAddress] = set()
    for line in text.splitlines():
        digits = line.split()[0] if line.split() else ""
        if len(digits) == 32:
            found.add(ipaddress.IPv6Address(int(digits, 16)))
    return found


def local_addresses() -> set[IPAddress]:
    """This device's own addresses (Linux's /proc; elsewhere what the hostname resolves to)."""
    found: set[IPAddress] = set()
    for path, parse in ((Path("/proc/net/fib_trie"), _fib_trie), (Path("/proc/net/if_inet6"), _if_inet6)):
        try:
            found |= parse(path.read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
    if not found:
        try:
            found = {ipaddress.ip_address(a) for a in socket.gethostbyname_ex(socket.gethostname())[2]}
        except (OSError, ValueError):
            found = set()
    return found


def _address(host: str) -> IPAddress | None:
    """The IP address a Host header names ("192.168.1.5:8080", "[fe80::1]:80"), None for a name."""
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        return ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return None


class HostCheck:
    """`allowed(host)`: whether a request's Host header names this device."""

    def __init__(
        self,
        extra: Iterable[str] = (),
        addresses: Callable[[], set[IPAddress]] = local_addresses,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.names = device_names(extra)
        self._read_addresses = addresses
        self._clock = clock
        self._lock = threading.Lock()
        self._addresses = addresses()
        self._read_at = clock()

    def allowed(self, host: str) -> bool:
        host = host.strip().lower()
        if not host:
            return False
        address = _address(host)
        if address is None:
            return host_is_trusted(host, self.names)
        return address.is_loopback or self._is_own(address)

    def _is_own(self, address: IPAddress) -> bool:
        with self._lock:
            if address in self._addresses:
                return True
            if self._clock() - self._read_at < REREAD_EVERY_S:
                return False
            self._addresses, self._read_at = self._read_addresses(), self._clock()
            return address in self._addresses
