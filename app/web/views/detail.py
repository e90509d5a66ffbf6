"""A result's own page, `/r/{public_name}/d/{document_id}`: shareable, and what the search
page's dialog shows when a card is opened (the same view, asked for as a fragment)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import urls
from app.errors import PasswordRequired
from app.rendering.cards import Links
from app.rendering.detail import detail
from app.rendering.page_kinds import template_of
from app.web.requests import caller_of, services_of
from app.web.templates import render
from app.web.views.pages import password_page


async def detail_page(request: Request) -> Response:
    services = services_of(request)
    name = request.path_params["public_name"]
    caller = caller_of(request, page=True)
    here = urls.with_query(request.url.path, request.url.query)
    try:
        retriever = await services.query.open(name, caller)
    except PasswordRequired:
        return await password_page(request, name, here)
    found = await services.query.document(retriever, caller, request.path_params["document_id"])
    links = Links(retriever.public_name, request.url.query)
    view = detail(
        retriever.display,
        found.document,
        services.clock(),
        services.renderers,
        retriever.frames,
        links,
    )
    partial = request.headers.get("x-partial") == "detail"
    headers = {**found.headers, "Vary": "X-Partial"}
    if partial:
        headers["Cache-Control"] = "no-store"
    return render(
        request,
        "_detail.html" if partial else "detail.html",
        200,
        retriever,
        headers=headers,
        item=view,
        back_url=urls.with_query(urls.page(retriever.public_name), request.url.query),
        kind=template_of(retriever.display),
        canonical=urls.absolute(
            services.settings.public_url, urls.detail(retriever.public_name, view.document_id)
        ),
    )


routes = [Route("/r/{public_name}/d/{document_id:path}", detail_page, methods=["GET"])]
