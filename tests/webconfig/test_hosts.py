"""The Host header: the page answers only to the names and addresses of the device (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from flask.testing import FlaskClient

from device.config import Config, parse_config
from device.errors import ConfigError
from webconfig import create_app
from webconfig.hosts import HostCheck, _fib_trie, _if_inet6

FIB_TRIE = """Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
           |-- 127.0.0.1
              /32 host LOCAL
     +-- 192.168.1.0/24 2 0 2
           |-- 192.168.1.0
              /24 link UNICAST
           |-- 192.168.1.5
              /32 host LOCAL
"""


def test_a_foreign_host_is_refused_before_anything_else(signed_in: FlaskClient) -> None:
    for path in ("/login", "/", "/api/state"):
        response = signed_in.get(path, headers={"Host": "rebind.attacker.example:8080"})
        assert response.status_code == 400, path
        assert "answers only to its own names" in response.get_data(as_text=True)
    refused = signed_in.post("/login", data={"pin": "4321"}, headers={"Host": "attacker.example"})
    assert refused.status_code == 400


def test_the_device_names_and_addresses_are_answered(signed_in: FlaskClient) -> None:
    hostname = socket.gethostname().split(".")[0]
    for host in ("localhost:8080", "emotune.local:8080", f"{hostname}.local", hostname, "127.0.0.1:8080",
                 "[::1]:8080", "EMOTUNE.LOCAL"):
        assert signed_in.get("/login", headers={"Host": host}).status_code in (200, 302), host


def test_the_config_adds_names(config: Config) -> None:
    client = create_app(config.replace_section("web", allowed_hosts=("music.lan", ".home.arpa"))).test_client()
    assert client.get("/login", headers={"Host": "music.lan:8080"}).status_code == 200
    assert client.get("/login", headers={"Host": "emotune.home.arpa"}).status_code == 200
    assert client.get("/login", headers={"Host": "music.lan.attacker.example"}).status_code == 400


def test_own_addresses_are_read_again_when_one_is_new() -> None:
    now = [0.0]
    addresses = {ipaddress.ip_address("192.168.1.5")}
    check = HostCheck(addresses=lambda: set(addresses), clock=lambda: now[0])
    assert check.allowed("192.168.1.5:8080")
    assert not check.allowed("192.168.1.77")
    addresses.add(ipaddress.ip_address("192.168.1.77"))  # a new DHCP lease
    now[0] += 11
    assert check.allowed("192.168.1.77:8080")
    assert not check.allowed("10.0.0.1") and not check.allowed("") and not check.allowed("[fe80::1]:80")


def test_addresses_come_from_the_kernel() -> None:
    assert _fib_trie(FIB_TRIE) == {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("192.168.1.5")}
    assert _if_inet6("fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n") == {
        ipaddress.ip_address("fe80::fc:ff:fe00:1")}


@pytest.mark.parametrize("bad", ["http://music.lan", "music.lan:8080", "music lan", "", "a..b"])
def test_allowed_hosts_must_be_names(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"web.allowed_hosts\[0\] must be a host name"):
        parse_config(f'[web]\nallowed_hosts = ["{bad}"]\n', "config.toml")
    assert parse_config('[web]\nallowed_hosts = ["music.lan"]\n', "c").web.allowed_hosts == ("music.lan",)
