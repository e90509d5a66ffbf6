"""A Mixpeek-compatible upstream: `POST {base_url}/v1/retrievers/{id}/execute`.

The upstream's key comes from an organization secret and goes only to the upstream. Errors
come back as 502 (down, refused, bad answer) or 504 (too slow), naming neither the key nor
the upstream's address.

The call goes through one aiohttp `ClientSession` per process. httpx (default transport, or
httpx's API over aiohttp's transport) was measured and profiled first: its own request and
header handling took half of the event loop under load (docs/design.md).
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict
from yarl import URL

from app import jsonutil
from app.adapters.backends import Page, Query, SecretValues
from app.adapters.destinations import DestinationPolicy, PolicyResolver, Refused
from app.errors import BadGateway, GatewayTimeout, invalid
from app.kept import Kept
from app.metrics import Metrics
from app.schemas.filters import as_mixpeek
from app.schemas.retrievers import MixpeekBackendConfig

CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 15.0
MAX_CONNECTIONS = 200
KEEPALIVE_SECONDS = 30.0
MAX_UPSTREAM_BODY_BYTES = 16 * 1024 * 1024
MAX_KEPT = 1024  # upstream URLs and header sets kept, each built once


class UpstreamClient:
    """The process's one connection pool to upstreams, opened on first use inside the loop."""

    def __init__(
        self,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        policy: DestinationPolicy | None = None,
    ) -> None:
        self.policy = policy or DestinationPolicy()
        self.timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=CONNECT_TIMEOUT_SECONDS,
            sock_read=read_timeout,
            connect=CONNECT_TIMEOUT_SECONDS + read_timeout,
        )
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS,
                keepalive_timeout=KEEPALIVE_SECONDS,
                ttl_dns_cache=60,
                resolver=PolicyResolver(self.policy),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self.timeout,
                auto_decompress=True,
                # No cookie jar: an upstream's cookie, set on one organization's call, would
                # otherwise go with the next call to that host, whoever's it is.
                cookie_jar=aiohttp.DummyCookieJar(),
                json_serialize=lambda value: orjson.dumps(value).decode(),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class MixpeekBackend:
    def __init__(self, client: UpstreamClient, secrets: SecretValues, metrics: Metrics) -> None:
        self.client = client
        self.secrets = secrets
        self.metrics = metrics
        # Built once, not per call: each upstream's URL (parsed), and its headers per key.
        # (Keyed by the upstream's key: held in memory only, as the vault's answer is.)
        self._urls: Kept[tuple[str, str], URL] = Kept(MAX_KEPT)
        self._headers: Kept[tuple[str, str], CIMultiDict[str]] = Kept(MAX_KEPT)

    async def search(self, query: Query) -> Page:
        unsupported = query.asks_engine_only()
        if unsupported:
            raise invalid(
                unsupported,
                "left out for this retriever",
                f"{unsupported} is answered by the embedded engine only; this retriever "
                "searches a Mixpeek backend.",
            )
        search = query.search
        request: dict[str, Any] = {
            "inputs": dict(search.inputs),
            "pagination": {
                "method": "offset",
                "page_number": search.page_number,
                "page_size": search.page_size,
            },
        }
        if search.filters:
            request["filters"] = as_mixpeek(search.filters)  # checked: exposed fields only
        return await self._execute(query.namespace, query.backend, request)

    async def document(
        self, namespace: str, backend: Any, document_id: str
    ) -> dict[str, Any] | None:
        """The upstream's search for the one document with this id (kept only if it is that
        one, whether or not the upstream filtered by id)."""
        request = {
            "inputs": {},
            "filters": {"field": "document_id", "operator": "eq", "value": document_id},
            "pagination": {"method": "offset", "page_number": 1, "page_size": 1},
        }
        page = await self._execute(namespace, backend, request)
        found = (
            d
            for d in page.documents
            if str(d.get("document_id") or d.get("id") or "") == document_id
        )
        return next(found, None)

    async def check(self, namespace: str, backend: Any) -> None:
        """Nothing to ask beyond the config."""

    async def _execute(self, namespace: str, backend: Any, request: dict[str, Any]) -> Page:
        """POST one execute body to the upstream with its key, timed and counted."""
        config: MixpeekBackendConfig = backend
        url = self._url(config)
        if not self.client.policy.literal_allowed(config.base_url):
            # An address in the URL is never resolved, so the resolver cannot refuse it.
            raise BadGateway("The search backend could not be reached.", kind="refused")
        key = await self.secrets.value(namespace, config.api_key_secret_name)
        if key is None:
            raise BadGateway("The search backend is not configured: its key secret is missing.")
        body = jsonutil.dumps(request)
        headers = self._headers.get((key, config.namespace))
        if headers is None:
            headers = CIMultiDict(
                {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {key}",
                    "X-Namespace": config.namespace,
                }
            )
            self._headers.put((key, config.namespace), headers)
        started = time.perf_counter()
        try:
            page = await self._call(url, body, headers)
        except BadGateway as error:
            self.metrics.upstream_errors.labels(error.kind).inc()
            raise
        except GatewayTimeout:
            self.metrics.upstream_errors.labels("timeout").inc()
            raise
        self.metrics.upstream_latency.observe(time.perf_counter() - started)
        return page

    def _url(self, config: MixpeekBackendConfig) -> URL:
        url = self._urls.get((config.base_url, config.retriever_id))
        if url is None:
            text = f"{config.base_url.rstrip('/')}/v1/retrievers/{config.retriever_id}/execute"
            url = URL(text)
            self._urls.put((config.base_url, config.retriever_id), url)
        return url

    async def _call(self, url: URL, body: bytes, headers: CIMultiDict[str]) -> Page:
        try:
            async with self.client.session().post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                if response.content_length and response.content_length > MAX_UPSTREAM_BODY_BYTES:
                    raise BadGateway("The search backend's answer is too large.")
                raw = await _read_capped(response)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise GatewayTimeout("The search backend did not answer in time.") from None
        except aiohttp.ClientError as error:
            raise BadGateway(
                "The search backend could not be reached.",
                kind="refused" if _refused(error) else "unreachable",
            ) from None
        if status >= 400:
            raise BadGateway(
                f"The search backend answered with an error (HTTP {status}).",
                kind="status",
                details={"upstream_status": status},
            )
        return _page_of(raw)


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    if response.content_length is not None and "Content-Encoding" not in response.headers:
        return await response.read()  # that many bytes, checked against the cap already
    chunks = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
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
    if not isinstance(documents, list):
        raise BadGateway("The search backend's answer has no list of documents.")
    for document in documents:  # (a loop: `all` over a generator costs a call a document)
        if type(document) is not dict:
            raise BadGateway("The search backend's answer has no list of documents.")
    pagination = data.get("pagination")
    total = pagination.get("total") if isinstance(pagination, dict) else None
    return Page(documents=documents, total=total if isinstance(total, int) else None)


def _refused(error: aiohttp.ClientError) -> bool:
    """Whether the destination policy refused the connection (not the network)."""
    return isinstance(getattr(error, "os_error", None), Refused)
