"""Published retrievers listed as in Mixpeek's marketplace catalog (`MarketplaceApi`): the list,
a listing, and its config, execute, verify and template, which are the public API's own."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.errors import invalid
from app.schemas.listings import RetrieverCatalog, RetrieverListingDetail
from app.services.listings import MAX_LIMIT
from app.web.requests import int_param, services_of, text_param
from app.web.responses import JSONResponse
from app.web.routing import Operation, api, route
from app.web.views import public

_TAG = "Marketplace catalog"
_TAG_TEXT = {"type": "string", "maxLength": 50}


@api(
    Operation(
        "The catalog of published retrievers",
        _TAG,
        RetrieverCatalog,
        errors=(422, 503),
        query=("category", "group", "tags", "search", "skip", "limit"),
        query_schemas=(
            ("category", {"type": "string", "maxLength": 200}),
            # No curated groups here: only an empty group is valid.
            ("group", {"type": "string", "maxLength": 0}),
            (
                "tags",
                {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 50}},
            ),
            ("search", {"type": "string", "maxLength": 200}),
            ("skip", {"type": "integer", "minimum": 0, "maximum": 100_000, "default": 0}),
            ("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}),
        ),
    )
)
async def listed(request: Request) -> Response:
    tags = request.query_params.getlist("tags")
    if len(tags) > 20 or any(len(tag) > 50 for tag in tags):
        raise invalid("tags", "at most 20 tags of at most 50 characters")
    listings = services_of(request).listings
    found = await listings.listed(
        text_param(request, "category"),
        text_param(request, "group"),
        tags,
        text_param(request, "search"),
        int_param(request, "skip", 0, 0, 100_000),
        int_param(request, "limit", 20, 1, MAX_LIMIT),
    )
    return JSONResponse(found)  # a bare list, as the SDK reads it


@api(Operation("A listing of the catalog", _TAG, RetrieverListingDetail, errors=(404, 503)))
async def listing(request: Request) -> Response:
    listings = services_of(request).listings
    return JSONResponse(await listings.detail(request.path_params["public_name"]))


@api(public.execute.operation)  # type: ignore[attr-defined]
async def execute(request: Request) -> Response:
    # The SDK sends these two as query parameters here; true asks for what no backend has.
    for name in ("return_presigned_urls", "return_vectors"):
        if request.query_params.get(name, "false").lower() not in ("false", "0"):
            raise invalid(
                name,
                "false: this server has no stored blobs or vectors to return",
                f"Query parameter {name!r} is not supported by this server; leave it out.",
            )
    return await public.execute(request)


routes = [
    route("/v1/marketplace/catalog", get=listed),
    route("/v1/marketplace/catalog/{public_name}", get=listing),
    route("/v1/marketplace/catalog/{public_name}/config", get=public.config),
    route("/v1/marketplace/catalog/{public_name}/execute", post=execute),
    route("/v1/marketplace/catalog/{public_name}/verify", post=public.verify),
    route("/v1/marketplace/catalog/{public_name}/template", get=public.template),
]
