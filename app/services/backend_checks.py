"""What a retriever's backend must agree with: the fields its page exposes (only those are
searched), the features its page asks for, and the secret it sends upstream.

Only exposed fields may be searched once a page shows the retriever: a hidden field that can be
matched can be read, one query at a time. Fields the owner named must be exposed (a 422 says
how to fix it); fields the server chose, when a stage named none (`default_search_fields`), are
chosen again from the collection's text fields that the page exposes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from anyio import from_thread

from app.adapters.backends import Backends
from app.adapters.engine.protocol import MEANING
from app.adapters.store import Transaction
from app.errors import InvalidInput, invalid
from app.schemas.display import DisplayConfig
from app.schemas.retrievers import MAX_SEARCH_FIELDS

SEARCH_FIELDS = "backend.search_fields"
QUERY_BY = "backend.query_by"  # what a Typesense backend searches
UPSTREAMS = {"mixpeek": "a Mixpeek upstream", "typesense": "a Typesense collection"}
EXPOSED_FIELDS = "display_config.exposed_fields"
NAMED_FIELDS = "backend.search_fields, or the SDK's stages[0].config.parameters.fields"
# What a publisher can do about a searched field that the page does not expose.
EXPOSE_OR_SEARCH_FEWER = (
    f"expose them, or search fewer fields with PATCH /v1/retrievers/{{retriever_id}} "
    f"({NAMED_FIELDS})"
)

MODE = "backend.mode"
MODE_BY_STAGES = "or the SDK's stages[0].config.parameters.mode"
NOTHING: Mapping[str, str] = {}

# The text fields of collections, by collection: read from the engine before a write
# transaction opens, so that no engine call runs inside one.
TextFields = Mapping[str, list[str]]


def chosen_by_server(backend: dict[str, Any]) -> str | None:
    """The collection whose text fields decide what this backend searches, if any."""
    if backend.get("type") == "local" and backend.get("default_search_fields"):
        return str(backend["collection"])
    return None


def texts_of(backend: dict[str, Any], text_fields: Callable[[str], list[str]]) -> TextFields:
    """The text fields that the backend's default search fields are chosen from, if any."""
    collection = chosen_by_server(backend)
    return {} if collection is None else {collection: text_fields(collection)}


def searching_exposed(
    backend: dict[str, Any],
    exposed: list[str],
    text_fields: TextFields,
    *,
    field: str = SEARCH_FIELDS,
    exposed_as: str = EXPOSED_FIELDS,
    how: str = EXPOSE_OR_SEARCH_FEWER,
) -> dict[str, Any]:
    """The backend, searching exposed fields only: the fields the server chose, chosen again;
    a 422 (naming `field`) when the owner named others."""
    collection = chosen_by_server(backend)
    if collection is None:
        check_searchable(backend, exposed, field=field, exposed_as=exposed_as, how=how)
        return backend
    known = text_fields.get(collection) or list(backend["search_fields"])
    fields = [name for name in known if name in exposed][:MAX_SEARCH_FIELDS]
    if not fields:
        raise invalid(
            exposed_as,
            f"at least one text field of the collection {collection!r}",
            f"{exposed_as} lists none of the text fields of the collection {collection!r} "
            f"({', '.join(known)}), and this retriever searches the exposed ones: expose one, "
            f"or name the fields to search ({NAMED_FIELDS}).",
        )
    return {**backend, "search_fields": fields}


def check_searchable(
    backend: dict[str, Any],
    exposed: list[str],
    *,
    field: str = SEARCH_FIELDS,
    exposed_as: str = EXPOSED_FIELDS,
    how: str = EXPOSE_OR_SEARCH_FEWER,
) -> None:
    """A 422 when the backend searches a field that is not exposed."""
    searched = backend.get("search_fields") or ()
    if backend.get("type") == "typesense":
        searched, field = backend.get("query_by") or (), QUERY_BY
        how = "expose them, or query fewer fields (backend.query_by)"
    hidden = [name for name in searched if name not in exposed]
    if hidden:
        names = ", ".join(hidden)
        raise invalid(
            field,
            f"{names} not in {exposed_as}",
            f"{field} names {names}, which {exposed_as} does not list; only exposed fields "
            f"may be searched: {how}.",
        )


def check_engine_features(
    backend: dict[str, Any], display: DisplayConfig, lacks: Mapping[str, str] = NOTHING
) -> None:
    """The filters panel counts values, and similar items are found, by the server's engine;
    a page over an upstream cannot offer them, so a config asking for them is refused. A
    local backend must need nothing its engine `lacks` (`check_engine_carries`)."""
    kind = str(backend.get("type"))
    if kind == "local":
        check_engine_carries(backend, lacks)
        return
    components = display.components
    card = components.result_card if components else None
    asked = [
        ("components.show_filters", bool(components and components.show_filters)),
        ("components.result_card.show_find_similar", bool(card and card.show_find_similar)),
        (
            "components.result_card.card_click_action",
            bool(card and card.card_click_action == "findSimilar"),
        ),
    ]
    for where, wanted in asked:
        if wanted:
            raise invalid(
                f"display_config.{where}",
                "off for a retriever over an upstream",
                f"display_config.{where}: the filters panel and similar items need the "
                f"embedded engine; this retriever searches {UPSTREAMS.get(kind, kind)}.",
            )


def check_engine_carries(backend: dict[str, Any], lacks: Mapping[str, str]) -> None:
    """A 422 naming what a local backend needs that the engine does not carry (the engine's
    `lacks`, named in it): search by meaning, with an engine that holds no vectors."""
    engine = lacks.get(MEANING)
    if backend.get("type") != "local" or engine is None:
        return
    asked = [
        (f"{MODE} ({MODE_BY_STAGES})", backend.get("mode") == "semantic", "keyword or hybrid"),
        ("backend.semantic_ratio_bounds", backend.get("semantic_ratio_bounds") is not None,
         "null"),
    ]  # fmt: skip
    for where, wanted, allowed in asked:
        if wanted:
            raise invalid(
                where,
                f"{allowed} with {engine}",
                f"{where}: {MEANING} is not carried by {engine}, which holds no vectors; "
                "search by words (mode keyword, or hybrid: by words alone with this engine).",
            )


def check_upstream_key(tx: Transaction, namespace: str, backend: dict[str, Any]) -> None:
    """A secret is sent only to the upstream that first named it, and never if it is a
    password: so that no key holder can have a secret's value sent to a host of their own
    (by a new retriever, or by moving the one that uses it)."""
    if backend.get("type") not in UPSTREAMS:
        return
    name = str(backend["api_key_secret_name"])
    field = "backend.api_key_secret_name"
    scope = tx.secret_scope(namespace, name)
    if scope is None:
        raise no_such_secret(field, name)
    # An organization secret is checked against every namespace that uses it: a key is sent
    # to one upstream only, whoever names it.
    if tx.published_using_secret(scope, name):
        raise invalid(
            field,
            "a secret that is not a page password",
            f"{field}: the secret {name!r} is a page password; it is never sent anywhere.",
        )
    # The places the key has been sent: a new one is never added (a cluster's nodes each
    # get it, so a retriever may name fewer of them, never another).
    sent = [origins(other) for _, other in tx.retrievers_using_secret(scope, name)]
    if sent and not origins(backend) <= set().union(*sent):
        raise invalid(
            field,
            "a secret used with this upstream only",
            f"{field}: the secret {name!r} is the key of another upstream; a secret is "
            "sent only to the upstream it was first used with (create another secret).",
        )


def origins(backend: dict[str, Any]) -> set[str]:
    """Where a backend sends its key: scheme, host and port of each of its URLs."""
    urls = backend.get("nodes") or [backend.get("base_url") or ""]
    return {_origin(str(url)) for url in urls}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.netloc or '').lower()}"


def no_such_secret(field: str, name: str) -> InvalidInput:
    return invalid(
        field,
        f"secret {name!r} does not exist",
        f"{field}: no secret named {name!r} exists in this namespace; "
        "create it first with POST /v1/organizations/secrets.",
    )


def checked_at_publish(backends: Backends) -> Callable[[str, dict[str, Any]], None]:
    """The backend's own check (`Backend.check`: an upstream's collection is there and opens
    with its key), for publishing, which runs off the event loop: the check runs on it."""

    def check(namespace: str, backend: dict[str, Any]) -> None:
        if backend.get("type") in backends and backend.get("type") != "local":
            kind = backends[str(backend["type"])]
            from_thread.run(kind.backend.check, namespace, backends.parse(backend))

    return check
