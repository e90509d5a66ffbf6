"""Collections that embed: which fields become a document's vector, by which embedder, and the
vectors made for them.

A collection's settings name its fields and embedder; the engine keeps them with the model's
name and dimensions. Documents written through the API get their vectors in the same write.
Documents without one (all of them, when a collection starts embedding or changes embedder;
those an import wrote) get theirs in batches, in the background on the server (`fill_later`:
words keep answering meanwhile) or with progress on the command line (`fill`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from app.adapters import texts
from app.adapters.destinations import DestinationPolicy
from app.adapters.embedders import Embedder, Embedders
from app.adapters.engine import SearchEngine
from app.adapters.threads import in_thread
from app.errors import AppError, NotFound
from app.schemas.collections import CollectionEmbedding, CollectionInfo, EmbeddingState

FILL_BATCH = 512  # documents embedded and written at once
MAX_NAMES = 100  # collections starting with a name, looked through to find it
log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (vectors made so far, documents in all)


class Embedding:
    def __init__(
        self, engine: SearchEngine, embedders: Embedders, destinations: DestinationPolicy
    ) -> None:
        self.engine = engine
        self.embedders = embedders
        self.destinations = destinations  # where an endpoint embedder may be
        self._filling: dict[tuple[str, str], asyncio.Task[int]] = {}

    async def configure(
        self,
        namespace: str,
        collection: str,
        settings: CollectionEmbedding | None,
        *,
        background: bool = True,
    ) -> CollectionInfo:
        """Keep the collection's settings (None: it stops embedding, and its vectors go) and
        start making the vectors its documents lack (unless the caller will: `fill`)."""
        stored: dict[str, Any] | None = None
        if settings is not None:
            config = self.embedders.parse(settings.embedder)
            url = getattr(config, "url", None)
            if isinstance(url, str):  # an endpoint: refused now, as an upstream is, not later
                await in_thread(self.destinations.check_url, url, "embedder.url")
            embedder = self.embedders.build(config, namespace)
            stored = {
                "fields": settings.fields,
                "embedder": config.model_dump(mode="json", exclude_defaults=False),
                "model": embedder.name,
                "dimensions": embedder.dimensions,
            }
        await in_thread(self.engine.set_embedding, namespace, collection, stored)
        if stored is not None and background:
            self.fill_later(namespace, collection)
        return await self.info(namespace, collection)

    async def info(self, namespace: str, collection: str) -> CollectionInfo:
        def read() -> CollectionInfo:
            documents = self.engine.count(namespace, collection)
            stored = self.engine.embedding(namespace, collection)
            if not documents and stored is None and not self._exists(namespace, collection):
                raise NotFound(f"No collection {collection!r} in this namespace.")
            state = None
            if stored is not None:
                vectors = self.engine.vector_count(namespace, collection)
                state = EmbeddingState(
                    fields=stored["fields"],
                    embedder=stored["embedder"],
                    model=stored["model"],
                    dimensions=stored["dimensions"],
                    vectors=vectors,
                    ready=vectors >= documents,
                )
            return CollectionInfo(
                collection=collection,
                documents=documents,
                text_fields=self.engine.text_fields(namespace, collection),
                embedding=state,
            )

        return await in_thread(read)

    def _exists(self, namespace: str, collection: str) -> bool:
        named = self.engine.collection_names(namespace, collection, MAX_NAMES)
        return any(name == collection for _, name in named)

    async def vectors(
        self, namespace: str, collection: str, documents: Sequence[dict[str, Any]]
    ) -> tuple[list[Any] | None, str | None]:
        """The documents' vectors and the model that made them, when the collection embeds."""
        stored = self.engine.embedding(namespace, collection)
        if stored is None:
            return None, None
        embedder = self.embedders.of(stored["embedder"], namespace)
        made = await _embed(embedder, stored, documents)
        return list(made), stored["model"]

    async def fill(self, namespace: str, collection: str, progress: Progress | None = None) -> int:
        """Make the vectors the collection's documents lack, a batch at a time; how many.

        A batch's vectors are written while the next batch is read and embedded (a write in
        SQLite's one writer, the embedding in a worker thread: on two cores, together they
        took the Debian catalog's fill from 56 to 42 µs a document)."""
        made = after = 0
        writing: asyncio.Future[int] | None = None
        try:
            while True:
                model, missing = await in_thread(
                    self.engine.without_vectors, namespace, collection, FILL_BATCH, after
                )
                stored = self.engine.embedding(namespace, collection)
                if not missing or model is None or stored is None or stored["model"] != model:
                    break
                embedder = self.embedders.of(stored["embedder"], namespace)
                vectors = await _embed(embedder, stored, [body for _, body in missing])
                pairs = list(zip([rowid for rowid, _ in missing], vectors, strict=True))
                after = missing[-1][0]
                if writing is not None:
                    made += await writing
                    self._progress(namespace, collection, progress)
                # (none written: another write gave them theirs, or the settings changed
                # meanwhile, which the next round sees)
                writing = asyncio.ensure_future(
                    in_thread(self.engine.put_vectors, namespace, collection, model, pairs)
                )
            if writing is not None:
                made += await writing
                writing = None
                self._progress(namespace, collection, progress)
            return made
        finally:
            if writing is not None:  # (a batch failed to embed: the write before it stands)
                await asyncio.gather(writing, return_exceptions=True)

    def _progress(self, namespace: str, collection: str, progress: Progress | None) -> None:
        if progress:
            total = self.engine.count(namespace, collection)
            progress(self.engine.vector_count(namespace, collection), total)

    def fill_later(self, namespace: str, collection: str) -> None:
        """`fill` in the background, once at a time per collection."""
        key = (namespace, collection)
        running = self._filling.get(key)
        if running is not None and not running.done():
            return
        task = asyncio.get_running_loop().create_task(self._fill_logged(namespace, collection))
        self._filling[key] = task
        task.add_done_callback(lambda done: self._filling.pop(key, None))

    async def _fill_logged(self, namespace: str, collection: str) -> int:
        try:
            return await self.fill(namespace, collection)
        except AppError as error:  # an embedder down: the next write or settings try again
            log.warning("embedding %s/%s stopped: %s", namespace, collection, error.message)
            return 0

    async def aclose(self) -> None:
        for task in list(self._filling.values()):
            task.cancel()
        await asyncio.gather(*self._filling.values(), return_exceptions=True)


async def _embed(
    embedder: Embedder, stored: dict[str, Any], documents: Sequence[dict[str, Any]]
) -> Any:
    config = stored["embedder"]
    if config.get("type") == "provided":
        provided: Any = embedder
        field = config["field"]
        return [
            provided.vector(body.get(field), f"documents[{number}].{field}")
            for number, body in enumerate(documents)
        ]
    passages = [texts.joined(body, stored["fields"]) for body in documents]
    return await embedder.embed(passages, "document")
