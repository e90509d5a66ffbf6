"""The owner's documents in the embedded engine's collections: add or replace, delete one,
drop a collection."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.errors import invalid
from app.schemas.base import COLLECTION_NAME, COLLECTION_NAME_RULE
from app.schemas.collections import (
    CollectionEmbedding,
    CollectionInfo,
    DeleteCollectionResponse,
    DeleteDocumentResponse,
    UpsertDocumentsRequest,
    UpsertDocumentsResponse,
)
from app.schemas.roles import Role
from app.web.requests import call, owner_namespace, parse_body, services_of
from app.web.responses import respond
from app.web.routing import BODY_ERRORS, OWNER_ERRORS, api, owner_operation, route

_TAG = "Collections"
MAX_DOCUMENT_ID_CHARS = 1000


def _collection(request: Request) -> str:
    collection: str = request.path_params["collection"]
    if not COLLECTION_NAME.fullmatch(collection):
        raise invalid(
            "collection", "invalid name", f"The collection name must be {COLLECTION_NAME_RULE}."
        )
    return collection


@api(
    owner_operation(
        "Add or replace documents of the embedded engine",
        _TAG,
        UpsertDocumentsResponse,
        UpsertDocumentsRequest,
        (*OWNER_ERRORS, *BODY_ERRORS),
    )
)
async def upsert_documents(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    collection = _collection(request)
    body = await parse_body(request, UpsertDocumentsRequest)
    services = services_of(request)
    vectors, model = await services.embedding.vectors(namespace, collection, body.documents)
    answer = await call(
        services.collections.upsert, namespace, collection, body.documents, vectors, model
    )
    if vectors is None and services.engine.embedding(namespace, collection) is not None:
        services.embedding.fill_later(namespace, collection)  # it began embedding meanwhile
    return respond(answer)


@api(
    owner_operation("Read a collection: its documents, fields and embedding", _TAG, CollectionInfo)
)
async def read_collection(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.VIEWER)
    collection = _collection(request)
    return respond(await services_of(request).embedding.info(namespace, collection))


@api(
    owner_operation(
        "Embed a collection's documents, for search by meaning",
        _TAG,
        CollectionInfo,
        CollectionEmbedding,
        (*OWNER_ERRORS, *BODY_ERRORS),
    )
)
async def set_embedding(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    collection = _collection(request)
    body = await parse_body(request, CollectionEmbedding)
    return respond(await services_of(request).embedding.configure(namespace, collection, body))


@api(owner_operation("Stop embedding a collection; its vectors go", _TAG, CollectionInfo))
async def remove_embedding(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    collection = _collection(request)
    return respond(await services_of(request).embedding.configure(namespace, collection, None))


@api(owner_operation("Delete a document", _TAG, DeleteDocumentResponse))
async def delete_document(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    collection = _collection(request)
    document_id = request.path_params["document_id"]
    if len(document_id) > MAX_DOCUMENT_ID_CHARS:
        raise invalid("document_id", f"at most {MAX_DOCUMENT_ID_CHARS} characters")
    collections = services_of(request).collections
    return respond(await call(collections.delete, namespace, collection, document_id))


@api(
    owner_operation(
        "Delete a collection and its documents",
        _TAG,
        DeleteCollectionResponse,
        errors=(*OWNER_ERRORS, 409),
    )
)
async def delete_collection(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.OWNER)
    collection = _collection(request)
    collections = services_of(request).collections
    return respond(await call(collections.drop, namespace, collection))


routes = [
    route("/v1/collections/{collection}", get=read_collection, delete=delete_collection),
    route("/v1/collections/{collection}/embedding", put=set_embedding, delete=remove_embedding),
    route("/v1/collections/{collection}/documents", post=upsert_documents),
    route("/v1/collections/{collection}/documents/{document_id}", delete=delete_document),
]
