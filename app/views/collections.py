"""Owner calls on the embedded engine's collections, and the interactions of a retriever."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.context import context_of
from app.errors import InvalidInput
from app.jsonutil import JSONResponse
from app.schemas.collections import UpsertDocumentsRequest, UpsertDocumentsResponse
from app.views.common import owner_namespace, paging, parse_body, respond

COLLECTION = re.compile(r"[a-z0-9][a-z0-9_\-]{0,62}")


async def upsert_documents(request: Request) -> Response:
    namespace = await owner_namespace(request)
    collection = request.path_params["collection"]
    if not COLLECTION.fullmatch(collection):
        raise InvalidInput(
            "The collection name must be 1 to 63 lowercase letters, digits, '_' and '-', "
            "starting with a letter or digit.",
            details={"errors": [{"field": "collection", "message": "invalid name"}]},
        )
    body = await parse_body(request, UpsertDocumentsRequest)
    engine = context_of(request).engine

    def upsert() -> UpsertDocumentsResponse:
        result = engine.upsert(namespace, collection, body.documents)
        return UpsertDocumentsResponse(
            collection=collection,
            inserted=result.inserted,
            updated=result.updated,
            document_ids=result.document_ids,
            total_documents=engine.count(namespace, collection),
        )

    return respond(await run_in_threadpool(upsert))


async def list_interactions(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    retriever_id = request.path_params["retriever_id"]
    publishing = context_of(request).publishing
    listing = await run_in_threadpool(
        publishing.interactions, namespace, retriever_id, limit, offset
    )
    return JSONResponse(listing)


routes = [
    Route("/v1/collections/{collection}/documents", upsert_documents, methods=["POST"]),
    Route("/v1/retrievers/{retriever_id}/interactions", list_interactions, methods=["GET"]),
]
