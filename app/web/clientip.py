"""The client's address: the socket peer, or, behind a trusted proxy, the forwarded one."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from app.services.limits import IPV6_CLIENT_PREFIX

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"
IPV6_HOST_BITS = 128 - IPV6_CLIENT_PREFIX
KNOWN_ADDRESSES = 4096  # parsed addresses remembered: a client sends many requests


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """Walk X-Forwarded-For from the right while each hop is a trusted proxy.

    A header from an untrusted peer changes nothing, and a garbled entry stops the walk at
    the last hop that could be believed.
    """
    if not (forwarded_for and trusted):
        return _peer_text(peer)
    address = _parse(peer)
    if address is None:
        return peer or UNKNOWN
    return str(_walk(address, forwarded_for, trusted))


@lru_cache(maxsize=KNOWN_ADDRESSES)
def _peer_text(peer: str | None) -> str:
    """The peer's address as the rest of the server writes it (parsed once per address)."""
    address = _parse(peer)
    if address is None:
        return peer or UNKNOWN
    return str(address)


def peer_key(peer: str | None, trusted: Sequence[Network]) -> str | None:
    """Which client a socket peer's connections count for, or None for a peer that is no
    single client: a trusted proxy, which carries many, or a local socket with no address."""
    address = _parse(peer)
    if address is None or _trusted(address, trusted):
        return None
    return _client_key(address)


def proxied_client_key(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> str | None:
    """Which client a request through a trusted proxy is for (the proxy itself when the
    header names none), or None when the peer is no trusted proxy."""
    address = _parse(peer)
    if address is None or not _trusted(address, trusted):
        return None
    return _client_key(_walk(address, forwarded_for, trusted))


def _walk(address: Address, forwarded_for: str | None, trusted: Sequence[Network]) -> Address:
    if forwarded_for and trusted:
        for entry in reversed(forwarded_for.split(",")):
            if not _trusted(address, trusted):
                break
            hop = _parse(entry.strip())
            if hop is None:
                break
            address = hop
    return address


def _client_key(address: Address) -> str:
    """An IPv4 address, or the IPv6 network it lies in, as the rate limits count a client
    (`address_key`); from the parsed address, since parsing a network again costs five times
    as much, at every connection."""
    if address.version == 4:
        return str(address)
    network = ipaddress.IPv6Address(int(address) >> IPV6_HOST_BITS << IPV6_HOST_BITS)
    return f"{network}/{IPV6_CLIENT_PREFIX}"


def _parse(text: str | None) -> Address | None:
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is the same client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)
