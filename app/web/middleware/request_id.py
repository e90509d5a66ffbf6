"""The request id's header, and the client as the access log shows it (`front.Front` uses both)."""

from __future__ import annotations

import ipaddress

HEADER = b"x-request-id"


def masked(client: tuple[str, int] | None) -> str:
    """The client's network, never its full address: /24 for IPv4, /48 for IPv6."""
    if not client:
        return "-"
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return "-"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
