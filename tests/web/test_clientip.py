"""Which client a socket peer's connections count for, in the per-client connection share."""

from __future__ import annotations

import ipaddress

import pytest

from app.services.limits import address_key
from app.web.clientip import peer_key, proxied_client_key

TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ff::/48")]


def test_addresses_of_one_ipv6_network_are_one_client() -> None:
    peers = ("2001:db8:0:7::1", "2001:db8:0:7::2", "2001:db8:0:7:ffff:ffff:ffff:ffff")
    keys = {peer_key(peer, TRUSTED) for peer in peers}
    assert keys == {"2001:db8:0:7::/64"}
    assert peer_key("2001:db8:0:8::1", TRUSTED) != peer_key("2001:db8:0:7::1", TRUSTED)


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.8", "203.0.113.8"),  # IPv4: each address is its own client
        ("::ffff:203.0.113.7", "203.0.113.7"),  # the same client through an IPv6 socket
        ("fe80::1%eth0", "fe80::/64"),
        ("10.1.2.3", None),  # a trusted proxy carries many clients
        ("2001:db8:ff:1::5", None),
        (None, None),  # a local socket: no address
        ("", None),
    ],
)
def test_peer_key(peer: str | None, expected: str | None) -> None:
    assert peer_key(peer, TRUSTED) == expected


@pytest.mark.parametrize(
    "address", ["203.0.113.7", "2001:db8::1", "2001:db8:0:7:ffff::1", "::1", "fe80::1%eth0"]
)
def test_a_client_is_the_one_the_rate_limits_count(address: str) -> None:
    assert peer_key(address, TRUSTED) == address_key(address)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("10.1.2.3", "2001:db8:0:7::1", "2001:db8:0:7::/64"),
        ("10.1.2.3", "2001:db8:0:7::2, 10.0.0.9", "2001:db8:0:7::/64"),  # past trusted hops
        ("10.1.2.3", "198.51.100.4", "198.51.100.4"),
        ("10.1.2.3", None, "10.1.2.3"),  # the proxy's own request
        ("203.0.113.7", "198.51.100.4", None),  # no proxy: its header is not believed
        (None, "198.51.100.4", None),
    ],
)
def test_proxied_client_key(peer: str | None, forwarded: str | None, expected: str | None) -> None:
    assert proxied_client_key(peer, forwarded, TRUSTED) == expected
