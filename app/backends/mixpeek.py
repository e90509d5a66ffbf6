"""A Mixpeek-compatible upstream: `POST {base_url}/v1/retrievers/{id}/execute`.

The upstream's key comes from an organization secret and goes only to the upstream. Errors
come back as 502 (down, refused, bad answer) or 504 (too slow), naming neither the key nor
the upstream's address.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import orjson

from app.backends import Page, Query
from app.errors import BadGateway, GatewayTimeout

CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 15.0
POOL_TIMEOUT_SECONDS = 5.0
MAX_CONNECTIONS = 200
MAX_KEEPALIVE_CONNECTIONS = 50
MAX_UPSTREAM_BODY_BYTES = 16 * 1024 * 1024


def make_client(
    read_timeout: float = READ_TIMEOUT_SECONDS, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one upstream client of the process, shared by every query."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            read_timeout, connect=CONNECT_TIMEOUT_SECONDS, pool=POOL_TIMEOUT_SECONDS
        ),
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
        ),
        transport=transport,
        follow_redirects=False,
    )


class MixpeekBackend:
    def __init__(
        self, client: httpx.AsyncClient, key_for: Callable[[str, str], Awaitable[str]]
    ) -> None:
        self.client = client
        # (namespace, secret name) -> the upstream key; raises if the secret is gone.
        self.key_for = key_for

    async def execute(self, query: Query) -> Page:
        config = query.backend
        url = f"{config['base_url'].rstrip('/')}/v1/retrievers/{config['retriever_id']}/execute"
        key = await self.key_for(query.namespace, config["api_key_secret_name"])
        body = {
            "inputs": query.inputs,
            "pagination": {
                "method": "offset",
                "page_number": query.page_number,
                "page_size": query.page_size,
            },
        }
        headers = {
            "Authorization": f"Bearer {key}",
            "X-Namespace": config["namespace"],
            "Content-Type": "application/json",
        }
        try:
            async with self.client.stream(
                "POST", url, content=orjson.dumps(body), headers=headers
            ) as response:
                raw = await _read_capped(response)
        except httpx.TimeoutException:
            raise GatewayTimeout("The search backend did not answer in time.") from None
        except httpx.HTTPError as error:
            raise BadGateway(
                "The search backend could not be reached.",
                details={"reason": type(error).__name__},
            ) from None
        if response.status_code >= 400:
            raise BadGateway(
                f"The search backend answered with an error (HTTP {response.status_code}).",
                details={"upstream_status": response.status_code},
            )
        return _page_of(raw)


async def _read_capped(response: httpx.Response) -> bytes:
    chunks = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_UPSTREAM_BODY_BYTES:
            raise BadGateway("The search backend's answer is too large.")
        chunks.append(chunk)
    return b"".join(chunks)


def _page_of(raw: bytes) -> Page:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadGateway("The search backend's answer is not JSON.") from None
    if not isinstance(data, dict):
        raise BadGateway("The search backend's answer is not a JSON object.")
    documents = data.get("documents")
    if documents is None:
        documents = data.get("results")
    if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
        raise BadGateway("The search backend's answer has no list of documents.")
    pagination = data.get("pagination")
    total = pagination.get("total") if isinstance(pagination, dict) else None
    return Page(documents=documents, total=total if isinstance(total, int) else None)
