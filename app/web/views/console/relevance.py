"""A retriever's relevance rules in the console: synonyms, curations, boosts and stop words,
read by any role and changed by an editor through forms that work without script."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import InvalidInput, NotFound
from app.schemas.relevance import (
    MAX_DOCUMENT_ID_CHARS,
    MAX_QUERY_CHARS,
    MAX_STOP_WORD_CHARS,
    MAX_STOP_WORDS,
    MAX_SYNONYM_TERMS,
    MAX_TERM_CHARS,
    RelevanceResponse,
)
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_insights import about
from app.services.console_relevance import (
    MAX_PIN_ROWS,
    ConsoleRelevance,
    Sent,
    form_errors,
    pin_rows,
)
from app.web.requests import call, services_of
from app.web.views.console.frame import NO_STORE, console_view, page, text

FIELDS = (
    "rule_id",
    "direction",
    "root",
    "terms",
    "query",
    "match",
    "hidden",
    "field",
    "weight",
    "words",
    *(f"pin_{part}_{row}" for row in range(MAX_PIN_ROWS) for part in ("id", "position")),
)
# A form's longest value: the stop words, each up to 50 characters and a separator.
MAX_SENT_CHARS = MAX_STOP_WORDS * (MAX_STOP_WORD_CHARS + 1)
SAVED = {
    "synonyms": "Saved the synonyms.",
    "synonyms-delete": "Deleted the synonyms.",
    "curations": "Saved the curation.",
    "curations-delete": "Deleted the curation.",
    "boosts": "Saved the boost.",
    "boosts-delete": "Deleted the boost.",
    "stop-words": "Saved the stop words.",
}


async def _page(
    request: Request,
    seat: Seat,
    status: int = 200,
    sent: Sent | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    services = services_of(request)
    retriever_id = request.path_params["retriever_id"]
    subject = await call(about, services.store, seat.namespace, retriever_id)
    rules = await call(services.relevance.get, seat.namespace, retriever_id)
    if sent is None:
        sent = _editing(request, rules)
    return page(
        request,
        "console/relevance.html",
        seat,
        status,
        nav="retrievers",
        subject=subject,
        rules=rules,
        sent=sent,
        errors=errors or {},
        saved=SAVED.get(request.query_params.get("saved", ""), ""),
        pin_rows=range(pin_rows(sent)),
        limits={
            "term": MAX_TERM_CHARS,
            "terms": MAX_SYNONYM_TERMS,
            "query": MAX_QUERY_CHARS,
            "document": MAX_DOCUMENT_ID_CHARS,
        },
    )


def _editing(request: Request, rules: RelevanceResponse) -> Sent:
    """The form of the rule `?edit=` names, filled in with it; or a new synonym set or
    curation started from a query (`?synonym=` or `?curate=`, as the insights link them);
    none: the forms empty."""
    wanted = request.query_params.get("edit", "")
    for kind, name, field in (("synonyms", "synonym", "terms"), ("curations", "curate", "query")):
        started = request.query_params.get(name, "")[:MAX_QUERY_CHARS]
        if started:
            return Sent(kind, {field: started, "words": "\n".join(rules.stop_words)})
    for synonym in rules.synonyms:
        if synonym.id == wanted:
            values = {
                "rule_id": wanted,
                "direction": "one-way" if synonym.root is not None else "multi-way",
                "root": synonym.root or "",
                "terms": "\n".join(synonym.synonyms),
            }
            return Sent("synonyms", values)
    for curation in rules.curations:
        if curation.id == wanted:
            values = {
                "rule_id": wanted,
                "query": curation.rule.query,
                "match": curation.rule.match,
                "hidden": "\n".join(hidden.id for hidden in curation.excludes),
            }
            for row, pin in enumerate(curation.includes):
                values |= {f"pin_id_{row}": pin.id, f"pin_position_{row}": str(pin.position)}
            return Sent("curations", values)
    return Sent("", {"words": "\n".join(rules.stop_words)})


@console_view()
async def rules(request: Request, seat: Seat, form: FormData | None) -> Response:
    return await _page(request, seat)


@console_view(Role.EDITOR)
async def change(request: Request, seat: Seat, form: FormData | None) -> Response:
    """One form's change; the page again with its errors by field (422), or back to it."""
    kind = request.path_params["kind"]
    if kind not in SAVED:
        raise NotFound("There is no such relevance form.")
    sent = Sent(kind, {name: text(form, name, MAX_SENT_CHARS) for name in FIELDS})
    retriever_id = request.path_params["retriever_id"]
    console = ConsoleRelevance(services_of(request).relevance)
    try:
        await call(console.change, seat.namespace, retriever_id, sent)
    except InvalidInput as error:
        return await _page(request, seat, 422, sent, form_errors(error, sent))
    anchor = kind.removesuffix("-delete")
    target = urls.console_retriever(retriever_id, "relevance", [("saved", kind)])
    return RedirectResponse(f"{target}#{anchor}", status_code=303, headers=NO_STORE)
