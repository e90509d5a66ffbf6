"""Where an upstream may be: the public internet, and what the operator allows besides.

By default an upstream may not be (or resolve to) a loopback, private, link-local (cloud
metadata included), multicast, reserved or unspecified address: a key holder could otherwise
make this server call into the network it runs in. `RETRIEVER_PAGES_UPSTREAM_ALLOW` names what
may be reached anyway: a host (any port), a host:port, or a CIDR network.

The policy is applied twice: when an upstream is registered (its URL, and whatever its name
resolves to then), and by the resolver of every connection (so a name that later resolves
elsewhere, DNS rebinding, is refused too).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from app.errors import invalid

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
HOST_NAME = re.compile(
    r"(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?"
)
NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+))*", re.IGNORECASE)
FIELD = "backend.base_url"


class Refused(OSError):
    """A destination the policy does not allow (a connection error to the HTTP client)."""


@dataclass(frozen=True)
class DestinationPolicy:
    hosts: frozenset[str] = frozenset()
    host_ports: frozenset[tuple[str, int]] = frozenset()
    networks: tuple[Network, ...] = field(default=())

    @classmethod
    def parse(cls, entries: list[str]) -> DestinationPolicy:
        """From the setting's entries: `host`, `host:port`, `[v6]:port` or a CIDR network."""
        hosts: set[str] = set()
        host_ports: set[tuple[str, int]] = set()
        networks: list[Network] = []
        for entry in entries:
            text = entry.strip().lower()
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            host, port = _split_port(text)
            if port is None:
                hosts.add(host)
            else:
                host_ports.add((host, port))
        return cls(frozenset(hosts), frozenset(host_ports), tuple(networks))

    def named(self, host: str, port: int) -> bool:
        """Whether the operator allowed this host by name (or literal address)."""
        host = host.lower().strip("[]")
        return host in self.hosts or (host, port) in self.host_ports

    def allows(self, address: Address, host: str, port: int) -> bool:
        if self.named(host, port) or any(address in net for net in self.networks):
            return True
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.is_global and not address.is_multicast

    def literal_allowed(self, url: str) -> bool:
        """For a URL whose host is an address (which no resolver sees): whether it may be
        reached. True for host names; their resolver decides. Asked at every upstream call:
        the answer is kept per policy and URL."""
        return _literal_allowed(self, url)

    def _literal_allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        address = _literal(parts.hostname or "")
        if address is None:
            return True
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return self.allows(address, parts.hostname or "", port)

    def check_url(self, url: str, field: str = FIELD) -> None:
        """Refuse (422, naming `field`) an upstream URL that is not a plain http(s) URL to an
        allowed place."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid(field, "an http(s) URL", f"{field} must be an http(s) URL with a host.")
        if parts.username is not None or parts.password is not None:
            raise invalid(field, "no user:password@", f"{field} must not carry a user or password.")
        if parts.query or parts.fragment:
            raise invalid(field, "no query or fragment", f"{field} must not carry ?query or #.")
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise invalid(field, "a valid port", f"{field} has a port out of range.") from None
        literal = _literal(host)
        if literal is None and (not HOST_NAME.fullmatch(host) or NUMERIC_HOST.fullmatch(host)):
            # Decimal, octal or hex forms of an address (2130706433, 0x7f000001) and the like.
            raise invalid(
                field, "a host name or a plain IP address", f"{field} has a host ({host[:60]!r}) "
                "that is neither a host name nor a plain IP address.",
            )  # fmt: skip
        addresses = [literal] if literal is not None else _resolve(host, port)
        for address in addresses:
            if not self.allows(address, host, port):
                raise invalid(
                    field,
                    "a public address, or one in RETRIEVER_PAGES_UPSTREAM_ALLOW",
                    f"{field} reaches {address}, an internal address (loopback, private, "
                    "link-local or reserved); an operator can allow it with "
                    "RETRIEVER_PAGES_UPSTREAM_ALLOW.",
                )


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver, keeping only the addresses the policy allows."""

    def __init__(self, policy: DestinationPolicy) -> None:
        self.policy = policy
        self._resolver = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        allowed = [r for r in results if self.policy.allows(_address(r), host, port)]
        if not allowed:
            raise Refused(f"{host} resolves only to addresses upstreams may not use")
        return allowed

    async def close(self) -> None:
        await self._resolver.close()


@lru_cache(maxsize=1024)
def _literal_allowed(policy: DestinationPolicy, url: str) -> bool:
    return policy._literal_allowed(url)


def _address(result: ResolveResult) -> Address:
    return ipaddress.ip_address(result["host"])


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _resolve(host: str, port: int) -> list[Address]:
    """What the name resolves to now; nothing when it does not resolve (yet): the resolver
    of each connection checks again."""
    try:
        infos: list[Any] = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def _split_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return text, None
