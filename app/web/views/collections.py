"""The owner's documents in the embedded engine's collections: add or replace, delete one,
drop a collection."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.errors import invalid
from app.schemas.base import COLLECTION_NAME, COLLECTION_NAME_RULE
from app.schemas.collections import (
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
    collections = services_of(request).collections
    return respond(await call(collections.upsert, namespace, collection, body.documents))


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
    route("/v1/collections/{collection}", delete=delete_collection),
    route("/v1/collections/{collection}/documents", post=upsert_documents),
    route("/v1/collections/{collection}/documents/{document_id}", delete=delete_document),
]
