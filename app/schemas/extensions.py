"""`display_config.extensions`: the publisher's switches that are ours, not Mixpeek's, each
checked here by name (a bad value is a 422 that says what is allowed)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MAX_FRAME_ANCESTORS = 20
MAX_FILTERS = 20
FRAME_ORIGIN = re.compile(
    r"https?://(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::(?:\d{1,5}|\*))?"
)


def check_extensions(extensions: dict[str, Any] | None, exposed: Sequence[str]) -> None:
    """Each extension we read, as its description says (ValueError naming it otherwise)."""
    extensions = extensions or {}
    _query_cache(extensions.get("query_cache_seconds"))
    _frame_ancestors(extensions.get("frame_ancestors"))
    _filters(extensions.get("filters"), exposed)
    _search_log(extensions.get("search_log"))
    _typeahead(extensions.get("typeahead"))


def search_log_on(extensions: dict[str, Any] | None) -> bool:
    """`extensions.search_log`: whether this retriever's searches are logged for its insights
    (on unless set to false)."""
    return (extensions or {}).get("search_log") is not False


def typeahead_on(extensions: dict[str, Any] | None) -> bool:
    """`extensions.typeahead`: whether the page's search box suggests as one types (on unless
    set to false)."""
    return (extensions or {}).get("typeahead") is not False


def _query_cache(seconds: Any) -> None:
    """`extensions.query_cache_seconds`: how long identical public queries may be answered
    from memory (off unless set)."""
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= 300
    ):
        raise ValueError("extensions.query_cache_seconds must be a whole number from 1 to 300")


def _frame_ancestors(allowed: Any) -> None:
    """`extensions.frame_ancestors`: the sites allowed to embed the page in an iframe."""
    if allowed is None:
        return
    if not isinstance(allowed, list) or len(allowed) > MAX_FRAME_ANCESTORS:
        raise ValueError(
            f"extensions.frame_ancestors must be a list of at most {MAX_FRAME_ANCESTORS} origins"
        )
    for origin in allowed:
        if not isinstance(origin, str) or not (origin == "*" or FRAME_ORIGIN.fullmatch(origin)):
            raise ValueError(
                f"extensions.frame_ancestors: {str(origin)[:60]!r} is not an origin such as "
                "https://example.com, https://*.example.com or http://localhost:*"
            )


def _filters(named: Any, exposed: Sequence[str]) -> None:
    """`extensions.filters`: the exposed fields the filters panel offers, in order (without
    it, the panel offers the exposed fields with few distinct values)."""
    if named is None:
        return
    if (
        not isinstance(named, list)
        or len(named) > MAX_FILTERS
        or not all(isinstance(name, str) for name in named)
        or len(set(named)) != len(named)
    ):
        raise ValueError(
            f"extensions.filters must be a list of at most {MAX_FILTERS} different "
            "exposed field names"
        )
    outside = [name for name in named if name not in exposed]
    if outside:
        raise ValueError(
            f"extensions.filters names {', '.join(outside)}, not in exposed_fields; only "
            "exposed fields can be filtered on"
        )


def _search_log(value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(
            "extensions.search_log must be true (searches are logged for the retriever's "
            "insights, the default) or false (they are not)"
        )


def _typeahead(value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(
            "extensions.typeahead must be true (the search box suggests as one types, the "
            "default) or false (it does not)"
        )
