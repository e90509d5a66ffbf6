"""A Typesense collection the publisher already has: each search is one `POST
{node}/multi_search` (the search in the body, as Typesense takes long ones) with the key from
an organization secret, a search-only key being what a publisher should store.

The nodes are tried in turn, starting from the next one each time; a node that does not
answer, or answers 5xx, hands the search to the next. Every node down, or the key refused,
is a 503 naming Typesense (`UpstreamUnavailable`), never the key or a node's address. A part
of the search that the collection cannot answer (a field that is no facet, a sort over text)
is a 422 naming that part. Requests go through the process's one aiohttp session for
upstreams, so the destination policy's resolver checks every connection.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import aiohttp
import orjson

from app import jsonutil
from app.adapters.backends import Page, Query, SecretValues
from app.adapters.backends.mixpeek import MAX_UPSTREAM_BODY_BYTES, UpstreamClient
from app.adapters.backends.typesense_query import (
    document_body,
    document_of,
    page_of,
    search_body,
)
from app.errors import AppError, BadGateway, UpstreamUnavailable, invalid
from app.metrics import Metrics
from app.schemas.filters import fields_of
from app.schemas.retrievers import TypesenseBackendConfig

UPSTREAM = "typesense"
_FIELD = re.compile(r"`([^`]+)`")


class TypesenseBackend:
    def __init__(self, client: UpstreamClient, secrets: SecretValues, metrics: Metrics) -> None:
        self.client = client
        self.secrets = secrets
        self.metrics = metrics
        self._turns = itertools.count()

    async def search(self, query: Query) -> Page:
        search = search_body(query)
        result = await self._search(query.namespace, query.backend, search)
        if "error" in result:
            raise _refusal(result, search, query)
        return page_of(result, query)

    async def document(
        self, namespace: str, backend: Any, document_id: str
    ) -> dict[str, Any] | None:
        """The one document with this id (a search filtered by it: a search-only key reads
        no other way)."""
        search = document_body(backend, document_id)
        if search is None:
            return None
        result = await self._search(namespace, backend, search)
        if "error" in result:
            raise _refusal(result, search, None)
        found = (document_of(hit) for hit in result.get("hits") or ())
        return next((d for d in found if d["document_id"] == document_id), None)

    async def check(self, namespace: str, backend: Any) -> None:
        """What publishing asks of the collection: that the key opens it and its `query_by`
        fields can be searched (a 422 naming the part that is wrong; 503 when no node
        answers)."""
        config: TypesenseBackendConfig = backend
        search = {
            "collection": config.collection,
            "q": "*",
            "query_by": ",".join(config.query_by),
            "per_page": 1,
        }
        try:
            result = await self._search(namespace, config, search)
        except UpstreamUnavailable as error:
            if error.reason != "key_refused":
                raise
            name = config.api_key_secret_name
            raise invalid(
                "backend.api_key_secret_name",
                "a key Typesense accepts for this collection",
                f"backend.api_key_secret_name: Typesense refused the key in the secret {name!r} "
                f"for the collection {config.collection!r} (a key scoped to other collections "
                "is refused, and so is any key for a collection that does not exist).",
            ) from None
        message = result.get("error")
        if message is None:
            return
        named = _FIELD.search(str(message))
        if named is not None:
            raise invalid(
                "backend.query_by",
                "text fields of the collection",
                f"backend.query_by: Typesense cannot search the field {named.group(1)!r} of the "
                f"collection {config.collection!r}: {str(message)[:200]}",
            )
        if result.get("code") == 404:
            raise invalid(
                "backend.collection",
                "a collection of the Typesense cluster",
                f"backend.collection: Typesense has no collection {config.collection!r}.",
            )
        raise invalid(
            "backend",
            "a collection Typesense can search",
            f"backend: Typesense refused a search of the collection {config.collection!r}: "
            f"{str(message)[:200]}",
        )

    async def _search(
        self, namespace: str, config: TypesenseBackendConfig, search: dict[str, Any]
    ) -> dict[str, Any]:
        """The one search's result (with its `error` when Typesense refused it)."""
        key = await self.secrets.value(namespace, config.api_key_secret_name)
        if key is None:
            raise BadGateway("The search backend is not configured: its key secret is missing.")
        body = jsonutil.dumps({"searches": [search]})
        started = time.perf_counter()
        try:
            status, raw = await self._post(config.nodes, key, body)
            if status in (401, 403):
                raise UpstreamUnavailable(
                    "The search backend (Typesense) refused this retriever's key.",
                    upstream=UPSTREAM,
                    reason="key_refused",
                )
            result = _result(status, raw)
        except UpstreamUnavailable as error:
            self.metrics.upstream_errors.labels(error.reason).inc()
            raise
        except BadGateway as error:
            self.metrics.upstream_errors.labels(error.kind).inc()
            raise
        self.metrics.upstream_latency.observe(time.perf_counter() - started)
        return result

    async def _post(self, nodes: list[str], key: str, body: bytes) -> tuple[int, bytes]:
        """The first answer from a node (each tried once, from the next in turn) that is
        not a server error."""
        start = next(self._turns) % len(nodes)
        headers = {"Content-Type": "application/json", "X-TYPESENSE-API-KEY": key}
        for node in nodes[start:] + nodes[:start]:
            if not self.client.policy.literal_allowed(node):
                continue  # an address in the URL is never resolved, so no resolver refuses it
            try:
                async with self.client.session().post(
                    f"{node.rstrip('/')}/multi_search",
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                ) as response:
                    if response.status >= 500:
                        continue
                    return response.status, await _read_capped(response)
            except (TimeoutError, aiohttp.ClientError):
                continue
        raise UpstreamUnavailable(
            "The search backend (Typesense) is not answering; try again shortly.",
            upstream=UPSTREAM,
            reason="unreachable",
        )


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    if response.content_length and response.content_length > MAX_UPSTREAM_BODY_BYTES:
        raise BadGateway("The search backend's answer is too large.")
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_UPSTREAM_BODY_BYTES:
            raise BadGateway("The search backend's answer is too large.")
        chunks.append(chunk)
    return b"".join(chunks)


def _result(status: int, raw: bytes) -> dict[str, Any]:
    """The one search's result from a `multi_search` answer."""
    if status != 200:
        raise BadGateway(
            f"The search backend answered with an error (HTTP {status}).",
            kind="status",
            details={"upstream_status": status},
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadGateway("The search backend's answer is not JSON.") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != 1 or not isinstance(results[0], dict):
        raise BadGateway("The search backend's answer has no search result.")
    result: dict[str, Any] = results[0]
    if "error" not in result and not isinstance(result.get("hits"), list):
        raise BadGateway("The search backend's answer has no list of documents.")
    return result


def _refusal(result: dict[str, Any], search: dict[str, Any], query: Query | None) -> AppError:
    """Typesense's refusal of one search: a 422 naming the part of the search that named the
    field it could not use, else (the collection gone, a field it searches no longer there) the
    retriever's backend is wrong, a 502."""
    message = str(result.get("error"))[:200]
    named = _FIELD.search(message)
    field = named.group(1) if named else None
    asked = query.search if query is not None else None
    if field is not None and asked is not None:
        if field in asked.facets:
            where = f"facets[{asked.facets.index(field)}]"
            return invalid(where, "a field the collection counts", f"{where}: {message}")
        if asked.sort is not None and field == asked.sort.field:
            return invalid("sort[0].field", "a field the collection sorts by", message)
        if field in asked.inputs and field not in search["query_by"].split(","):
            where = f"inputs.{field}"
            return invalid(where, "a value of the field's type", f"{where}: {message}")
        if asked.filters is not None and field in fields_of(asked.filters):
            return invalid("filters", "conditions the collection can test", f"filters: {message}")
    return BadGateway(
        "The search backend (Typesense) cannot run this retriever's search; its collection "
        "or the fields it searches may have changed.",
        kind="status",
        details={"upstream_status": result.get("code")},
    )
