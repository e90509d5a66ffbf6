"""Pages of tabs (`/p/{slug}`): several published retrievers behind one URL.

The tab and the query live in the URL (`/p/{slug}?tab=docs&query=lamp`): the tabs are links
marked up as WAI-ARIA tabs, so that the page works without JavaScript and every state is a
link. The open tab is its retriever's own search page (the same values and partials as
`/r/{public_name}`: `pages.search_values`), counted in that retriever's limits and behind its
password; a tab that cannot answer says why, in its panel, and the other tabs stay open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app import urls
from app.errors import AppError, NotFound, PasswordRequired
from app.rendering.cards import Card, Links, cards
from app.rendering.plugins import PluginFrame
from app.schemas.pages import ALL_TAB
from app.schemas.search import FULL_TEXT_INPUT
from app.services.catalog import PublicRetriever
from app.services.page_inputs import SharedInput, shared_controls
from app.services.searchlog import Surface
from app.services.tab_pages import Federated, OpenPage, Tab, TabAnswer
from app.web.requests import caller_of, services_of
from app.web.templates import common_ancestors, frame_ancestors, render
from app.web.views.page_sections import section_css, section_values
from app.web.views.pages import origin_among, search_values, unlock_form
from app.web.views.plugin_pages import frame_policy

MAX_QUERY_CHARS = 200


async def tab_page(request: Request) -> Response:
    services = services_of(request)
    page = await services.tab_pages.open(request.path_params["slug"])
    asked = request.query_params.get("tab")
    text = request.query_params.get(FULL_TEXT_INPUT, "").strip()[:MAX_QUERY_CHARS]
    partial = request.headers.get("x-partial") == "results"
    if asked == ALL_TAB and page.all_tab.enabled:
        return await _all_tab(request, page, text, partial)
    tab = page.tab(asked)
    if tab is None:
        raise NotFound(f"This page has no tab {asked!r}.")
    return await _one_tab(request, page, tab, text, partial)


async def _one_tab(
    request: Request, page: OpenPage, tab: Tab, text: str, partial: bool
) -> Response:
    services = services_of(request)
    here = urls.with_query(request.url.path, request.url.query)
    tab_state: dict[str, Any] = {"kind": "search"}
    values: dict[str, Any] = {}
    status, headers, retriever = 200, {"Vary": "X-Partial"}, None
    try:
        retriever = await services.tab_pages.retriever(tab)
        caller = caller_of(request, page=True, public_name=retriever.public_name)
        await services.access.check(retriever, caller)
        status, headers, values = await search_values(request, retriever, caller, keep=("tab",))
    except PasswordRequired:
        assert retriever is not None
        tab_state = {"kind": "password", **unlock_form(request, retriever, here)}
    except AppError as error:
        if page.single and isinstance(error, NotFound):
            raise  # a retriever's own page goes with it
        tab_state = {"kind": "unavailable", "message": error.message}
        retriever = None
    ancestors = await _ancestors(request, page)
    if "parent_origin" in values:
        values["parent_origin"] = origin_among(request, ancestors)
    policy = " ".join(["'self'", *ancestors])
    if partial and tab_state["kind"] != "search":
        # The script asked for results and there are none to give (the tab was locked or
        # unpublished meanwhile): its 401 or 404 sends it to the whole page.
        status = 401 if tab_state["kind"] == "password" else 404
    elif partial:
        return render(
            request,
            "_results.html",
            status,
            retriever,
            headers,
            ancestors=policy,
            tab_key=tab.tab_id,
            **values,
        )
    context = await _page_context(request, page, tab.tab_id, text, retriever)
    return render(
        request,
        "tabbed.html",
        status,
        retriever,
        headers,
        _frames(page, retriever),
        policy,
        tab_key=tab.tab_id,
        active_tab=tab,
        tab_state=tab_state,
        **context,
        **values,
    )


async def _all_tab(request: Request, page: OpenPage, text: str, partial: bool) -> Response:
    services = services_of(request)
    federated = None
    shared = await services.tab_pages.shared_inputs(page)
    controls, given = shared_controls(shared, request.query_params)
    if text and not any(c.error for c in controls):

        def callers(public_name: str) -> Any:
            return caller_of(request, page=True, public_name=public_name)

        surface: Surface = "embed" if _embed(request) else "page"
        federated = await services.tab_pages.federated(
            page, text, callers, page.all_tab.per_tab, surface, given, shared
        )
    theme = await _first_open(request, page)
    ancestors = await _ancestors(request, page)
    values = _all_values(request, page, text, federated, theme, shared)
    values["shared"] = [
        {"control": c, "only": _only(page, spec)} for c, spec in zip(controls, shared, strict=True)
    ]
    values["parent_origin"] = origin_among(request, ancestors)
    policy = " ".join(["'self'", *ancestors])
    headers = {"Vary": "X-Partial"}
    if partial:
        headers["Cache-Control"] = "no-store"
        return render(request, "_all_results.html", 200, theme, headers, ancestors=policy, **values)
    counts = (
        {a.tab.tab_id: a.results.total for a in federated.answers if a.results} if federated else {}
    )
    context = await _page_context(request, page, ALL_TAB, text, theme, counts)
    return render(
        request,
        "tabbed.html",
        200,
        theme,
        headers,
        _frames(page, theme),
        policy,
        tab_key=ALL_TAB,
        tab_state={"kind": "all"},
        **context,
        **values,
    )


def _all_values(
    request: Request,
    page: OpenPage,
    text: str,
    federated: Federated | None,
    theme: PublicRetriever | None,
    shared: Sequence[SharedInput],
) -> dict[str, Any]:
    """The merged tab's groups (each tab's cards, or why it has none) and merged list."""
    services = services_of(request)
    groups: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str], Card] = {}
    for answer in federated.answers if federated else ():
        group_cards = _cards(request, answer)
        for card in group_cards:
            by_key[(answer.tab.tab_id, card.document_id)] = card
        groups.append(
            {
                "tab": answer.tab,
                "answer": answer,
                "cards": group_cards,
                "error": _why(answer),
                "see_all": _tab_url(request, page, answer.tab.tab_id, text, shared),
                "card_tab": _card_tab(answer),
            }
        )
    merged: list[dict[str, Any]] = []
    for item in federated.merged if federated else ():
        found = by_key.get((item.tab.tab_id, str(item.document.get("document_id"))))
        if found is not None:
            answer = next(a for a in federated.answers if a.tab == item.tab)  # type: ignore[union-attr]
            merged.append(
                {
                    "card": dataclasses.replace(found, position=len(merged), score=None),
                    "tab": item.tab,
                    "card_tab": {**_card_tab(answer), "label": item.tab.label},
                }
            )
    counts = {g["tab"].tab_id: g["answer"].results.total for g in groups if g["answer"].results}
    return {
        "all_query": text,
        "tab_counts": {ALL_TAB: sum(counts.values()), **counts},
        "groups": groups,
        "merged": merged,
        "mode": page.all_tab.mode,
        "form_action": request.url.path,
        "searched": federated is not None,
        "renderers": services.renderers,
    }


def _only(page: OpenPage, spec: SharedInput) -> str | None:
    """What the page says of an input some tabs lack: which tabs it applies to."""
    if len(spec.tab_ids) == len(page.tabs):
        return None
    labels = list(spec.labels)
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"Applies to {names} only."


def _why(answer: TabAnswer) -> str | None:
    """Why a tab has no results in the merged tab, in a visitor's words."""
    if answer.error is None:
        return None
    if isinstance(answer.error, PasswordRequired):
        return f"Protected by a password: open the {answer.tab.label} tab to enter it."
    return answer.error.message


def _cards(request: Request, answer: TabAnswer) -> list[Card]:
    retriever, results = answer.retriever, answer.results
    if retriever is None or results is None:
        return []
    services = services_of(request)
    query = urls.with_query("", [(FULL_TEXT_INPUT, request.query_params.get(FULL_TEXT_INPUT, ""))])
    links = Links(retriever.public_name, query.lstrip("?"))
    return cards(
        retriever.display,
        results.documents,
        0,
        services.clock(),
        services.renderers,
        retriever.frames,
        links,
    )


def _card_tab(answer: TabAnswer) -> dict[str, str]:
    """What a card of the merged tab says of its tab, for the page's click beacons."""
    return {
        "public_name": answer.retriever.public_name if answer.retriever else "",
        "execution_id": answer.results.execution_id if answer.results else "",
    }


async def _first_open(request: Request, page: OpenPage) -> PublicRetriever | None:
    """The first tab's retriever that answers (its theme dresses the merged tab), if any."""
    for tab in page.tabs:
        try:
            return await services_of(request).tab_pages.retriever(tab)
        except AppError:
            continue
    return None


async def _ancestors(request: Request, page: OpenPage) -> list[str]:
    """Who may frame the page, whichever tab is open: the origins every tab's retriever allows
    (`extensions.frame_ancestors`; a tab whose retriever is not published shows nothing of it
    and has no say)."""
    services = services_of(request)
    allowed = []
    for tab in page.tabs:
        try:
            allowed.append(frame_ancestors(await services.tab_pages.retriever(tab)))
        except AppError:
            continue
    return common_ancestors(allowed)


async def _page_context(
    request: Request,
    page: OpenPage,
    active: str,
    text: str,
    retriever: PublicRetriever | None,
    counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """What every state of the page shows around the open tab: the tab links and sections."""
    counts = counts or {}
    shared: Sequence[SharedInput] = ()
    if page.all_tab.enabled:
        shared = await services_of(request).tab_pages.shared_inputs(page)
    links = [
        {
            "key": tab.tab_id,
            "label": tab.label,
            "url": _tab_url(request, page, tab.tab_id, text, shared),
            "carry": _carried(tab.tab_id, shared),
            "selected": tab.tab_id == active,
            "count": counts.get(tab.tab_id),
        }
        for tab in page.tabs
    ]
    if page.all_tab.enabled:
        links.insert(
            0,
            {
                "key": ALL_TAB,
                "label": page.all_tab.label,
                "url": _tab_url(request, page, ALL_TAB, text, shared),
                "carry": _carried(ALL_TAB, shared),
                "selected": active == ALL_TAB,
                "count": sum(counts.values()) if counts else None,
            },
        )
    sections = await section_values(request, page, retriever)
    return {
        "page": page,
        "tab_links": links if len(links) > 1 else [],
        "sections": sections,
        "section_css": section_css(sections),
        "page_url": urls.absolute(
            services_of(request).settings.public_url, urls.tab_page(page.slug)
        ),
    }


def _carried(key: str, shared: Sequence[SharedInput]) -> list[str]:
    """The All tab's inputs a tab's link carries from the URL: those its retriever takes."""
    return [s.name for s in shared if key == ALL_TAB or key in s.tab_ids]


def _tab_url(
    request: Request, page: OpenPage, key: str, text: str, shared: Sequence[SharedInput] = ()
) -> str:
    params = [("tab", key)]
    if text:
        params.append((FULL_TEXT_INPUT, text))
    for name in _carried(key, shared):
        params.extend((name, v) for v in request.query_params.getlist(name) if v)
    origin = request.query_params.get("origin")
    if origin:
        params.append(("origin", origin))
    base = urls.tab_page_embed(page.slug) if _embed(request) else urls.tab_page(page.slug)
    return urls.with_query(base, params)


def _embed(request: Request) -> bool:
    return request.url.path.endswith("/embed")


def _frames(page: OpenPage, retriever: PublicRetriever | None) -> list[PluginFrame]:
    """The frames the page may hold: the open tab's plugins, and its custom HTML sections."""
    frames = list(retriever.frames.values()) if retriever else []
    for section in page.sections:
        if section.type == "iframe-embed":
            src = urls.tab_page_frame(page.slug, section.section_id or "")
            frames.append(PluginFrame("custom", "custom", src))
    return frames


async def custom_frame(request: Request) -> Response:
    """A custom HTML section's own document: sandboxed by its CSP as a plugin's is (an opaque
    origin even when opened on its own), so the publisher's HTML never runs as this site."""
    page = await services_of(request).tab_pages.open(request.path_params["slug"])
    section = page.section(request.path_params["section_id"])
    if section is None or section.type != "iframe-embed":
        raise NotFound("This page has no such section.")
    html = (section.props or {}).get("html") or page.custom_html or ""
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": frame_policy([]),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "public, max-age=60",
        },
    )


routes = [
    Route("/p/{slug}", tab_page, methods=["GET"]),
    Route("/p/{slug}/embed", tab_page, methods=["GET"]),
    Route("/p/{slug}/frame/{section_id}", custom_frame, methods=["GET"]),
]
