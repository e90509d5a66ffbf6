"""The client's address: the socket peer, or, behind a trusted proxy, the forwarded one."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """Walk X-Forwarded-For from the right while each hop is a trusted proxy.

    A header from an untrusted peer changes nothing, and a garbled entry stops the walk at
    the last hop that could be believed.
    """
    address = _parse(peer)
    if address is None:
        return peer or UNKNOWN
    if forwarded_for and trusted:
        for entry in reversed(forwarded_for.split(",")):
            if not _trusted(address, trusted):
                break
            hop = _parse(entry.strip())
            if hop is None:
                break
            address = hop
    return str(address)


def _parse(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
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


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]
) -> bool:
    return any(address.version == net.version and address in net for net in trusted)
