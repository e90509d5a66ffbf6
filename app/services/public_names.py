"""Public names and pages' slugs are one set of URLs: a retriever may not be published under
the slug of a page of tabs, except the page that is its own single-tab page (one tab, this
retriever), which it then stands beside (`docs/pages.md`)."""

from __future__ import annotations

import re

from app import urls
from app.adapters.store import RetrieverRecord, Transaction
from app.adapters.store import pages as page_rows
from app.errors import Conflict
from app.schemas.publishing import PublishRetrieverRequest

MAX_NAME_SUFFIX = 100


def page_holds(tx: Transaction, namespace: str, retriever_id: str, name: str) -> str | None:
    """Why a page of tabs keeps `name` from this retriever, in a sentence (None: no page does,
    or the page there is this retriever's own single-tab page)."""
    page = page_rows.by_slug(tx.conn, name)
    if page is None:
        return None
    tabs = [tab["retriever_id"] for tab in page.config.get("tabs") or []]
    if page.namespace == namespace and tabs == [retriever_id]:
        return None
    return (
        f"The public name {name!r} is the slug of a page of tabs ({urls.tab_page(name)}); a "
        "retriever may take a page's slug only when that page is its own single-tab page (one "
        "tab, this retriever). Choose another public name, or change the page's slug."
    )


def choose_public_name(
    tx: Transaction, request: PublishRetrieverRequest, retriever: RetrieverRecord
) -> str:
    """The name asked for when it is free for this retriever (else 409 saying why), or one
    made from its display name or its name, numbered when taken."""
    name = request.public_name
    if name is not None:
        page = page_holds(tx, retriever.namespace, retriever.retriever_id, name)
        if page is not None:
            raise Conflict(page)
        if tx.get_published_by_name(name) is not None:
            raise public_name_taken(name)
        return name
    base = slugify(request.display_name or retriever.retriever_name)
    for n in range(1, MAX_NAME_SUFFIX + 1):
        candidate = base if n == 1 else f"{base[:46]}-{n}"
        if not tx.public_name_taken(candidate):
            return candidate
    raise Conflict(f"No free public_name near {base!r}; choose one with public_name.")


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50].strip("-")
    return slug if len(slug) >= 3 else (slug + "-search").strip("-")


def public_name_taken(name: str) -> Conflict:
    return Conflict(
        f"The public name {name!r} is taken; choose another "
        "(GET .../publish/availability?name= tells which are free)."
    )
