"""How a Typesense cluster's nodes are, for readiness and for the log: asked of each node's
/health, which takes no key, and said in a line that names a node, never the key."""

from __future__ import annotations

import contextlib

import httpx

from app.typesense_address import TypesenseAddress


def nodes_state(http: httpx.Client, address: TypesenseAddress, timeout: float) -> dict[str, str]:
    """Each node (HOST:PORT), asked now: "ok"; "unreachable", no answer within `timeout`; or
    "unhealthy", an answer that is not ok (a node catching up, or out of memory or disk)."""
    scheme = "https" if address.tls else "http"
    states = {}
    for host, port in address.nodes:
        node = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            answer = http.get(f"{scheme}://{node}/health", timeout=timeout)
        except httpx.HTTPError:
            states[node] = "unreachable"
            continue
        healthy = False
        with contextlib.suppress(ValueError):  # (not JSON)
            healthy = answer.status_code == 200 and answer.json() == {"ok": True}
        states[node] = "ok" if healthy else "unhealthy"
    return states


def said(error: Exception) -> str:
    """A failed request in a line: the node it went to, where known, and what went wrong."""
    node = ""
    with contextlib.suppress(AttributeError, RuntimeError):  # (a request is not always known)
        node = f" at {error.request.url.netloc.decode()}"  # type: ignore[attr-defined]
    if getattr(error, "node", ""):  # (`connection.Unanswered`, from the event loop)
        node = f" at {error.node}"  # type: ignore[attr-defined]
    lines = str(error).strip().splitlines()
    return f"Typesense{node}: {lines[0] if lines else type(error).__name__}"
