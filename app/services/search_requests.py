"""An execute body as one checked search (`SearchRequest`): every field it names exposed,
its page within the retriever's limit, its own weight of meaning within the publisher's
bounds, the query's own vector taken out of its inputs."""

from __future__ import annotations

from typing import Any

from app.errors import invalid
from app.schemas.filters import parse_filters
from app.schemas.parsing import parse_json
from app.schemas.public import ExecuteRequest
from app.schemas.search import DEFAULT_PAGE_SIZE, QUERY_VECTOR_INPUT, SearchRequest, Sort
from app.services.catalog import PublicRetriever
from app.services.inputs import split_vector


def search_request(retriever: PublicRetriever, body: ExecuteRequest | bytes) -> SearchRequest:
    """An execute body as one checked search: its filter tree parsed, every field it names
    exposed (a 422 naming the first that is not), its page within the retriever's limit, the
    query's own vector taken out of its inputs."""
    if isinstance(body, bytes):
        body = parse_json(ExecuteRequest, body)
    exposed = retriever.display.exposed_fields
    page_number, page_size = _page(body, retriever.rate_limit.max_results_per_query)
    inputs, vector = split_vector(retriever.display.inputs, body.inputs)
    if vector is not None and body.similar_to:
        raise invalid(
            f"inputs.{QUERY_VECTOR_INPUT}",
            "left out with similar_to",
            f"inputs.{QUERY_VECTOR_INPUT}: documents like one (similar_to) are found by that "
            "document's vector; send one or the other.",
        )
    return SearchRequest(
        inputs=inputs,
        vector=vector,
        filters=parse_filters(body.filters, exposed),
        facets=tuple(_exposed(body.facets or [], "facets", exposed)),
        sort=_sort(body, exposed),
        page_number=page_number,
        page_size=page_size,
        similar_to=body.similar_to,
        semantic_ratio=_semantic_ratio(body, retriever.backend),
        skip_cache=body.skip_cache,
    )


def _semantic_ratio(body: ExecuteRequest, backend: Any) -> float | None:
    """A search's own `semantic_ratio`, within the bounds its publisher allows (a 422
    otherwise, saying why)."""
    ratio = body.semantic_ratio
    if ratio is None:
        return None
    bounds = getattr(backend, "semantic_ratio_bounds", None)
    if bounds is None or getattr(backend, "mode", "keyword") == "keyword":
        raise invalid(
            "semantic_ratio",
            "left out for this retriever",
            "semantic_ratio: this retriever does not let a search choose how much meaning "
            "weighs (its publisher allows it with backend.semantic_ratio_bounds).",
        )
    low, high = bounds
    if not low <= ratio <= high:
        raise invalid("semantic_ratio", f"a number from {low} to {high}")
    return ratio


def _exposed(fields: list[str], where: str, exposed: list[str]) -> list[str]:
    """The fields, each of them exposed (a 422 naming the first that is not)."""
    for number, field_name in enumerate(fields):
        if field_name not in exposed:
            raise invalid(
                f"{where}[{number}]",
                "an exposed field",
                f"{where}[{number}]: {field_name!r} is not an exposed field; use one of "
                f"{', '.join(exposed)}.",
            )
    return fields


def _sort(request: ExecuteRequest, exposed: list[str]) -> Sort | None:
    if not request.sort:
        return None
    [order] = request.sort
    _exposed([order.field], "sort", exposed)
    return Sort(order.field, order.direction)


def _page(request: ExecuteRequest, max_results: int) -> tuple[int, int]:
    """(page number, page size); the size never exceeds the retriever's max_results_per_query."""
    if request.pagination is not None:
        number, size = request.pagination.page_number, request.pagination.page_size
        if "page_size" not in request.pagination.model_fields_set:
            size = request.limit or request.page_size or DEFAULT_PAGE_SIZE
    else:
        number, size = 1, request.limit or request.page_size or DEFAULT_PAGE_SIZE
    return number, min(size, max_results)
