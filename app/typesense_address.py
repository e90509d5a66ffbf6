"""Where a Typesense cluster is: `typesense://API_KEY@HOST:PORT[,HOST:PORT...]` (or
`typesenses://` over TLS), as `RETRIEVER_PAGES_ENGINE_URL` names it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TYPESENSE_NODE = re.compile(r"(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})")


@dataclass(frozen=True)
class TypesenseAddress:
    """A Typesense cluster: its nodes (host, port), the API key, and whether it speaks TLS."""

    api_key: str
    nodes: tuple[tuple[str, int], ...]
    tls: bool

    @classmethod
    def parse(cls, url: str) -> TypesenseAddress:
        scheme, found, rest = url.partition("://")
        if not found or scheme not in ("typesense", "typesenses"):
            raise ValueError(
                "must be typesense://API_KEY@HOST:PORT[,HOST:PORT...] or typesenses://"
            )
        key, at, hosts = rest.rpartition("@")
        if not at or not key:
            raise ValueError("must name the API key: typesense://API_KEY@HOST:PORT")
        nodes = []
        for entry in hosts.rstrip("/").split(","):
            match = _TYPESENSE_NODE.fullmatch(entry.strip())
            port = int(match["port"]) if match else 0
            if match is None or not 0 < port < 65536:
                raise ValueError(f"{entry.strip()!r} is not HOST:PORT (a port from 1 to 65535)")
            nodes.append((match["host"].strip("[]"), port))
        return cls(api_key=key, nodes=tuple(nodes), tls=scheme == "typesenses")
