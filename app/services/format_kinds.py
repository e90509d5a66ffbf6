"""Which formats make sense for a field, by the kind of value it holds (`kind_of`'s words):
the editor offers only those, and saving refuses another, naming the field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.errors import InvalidInput

# The built-in formats a kind of value reads well in. `text` shows any value as it is; a
# format not named here (a plugin's, or `plugin`) takes any value, and a field of no single
# kind (empty, or mixed) may have any format.
FORMATS_BY_KIND: dict[str, tuple[str, ...]] = {
    "text": ("text", "badge"),
    "number": ("number", "rating", "date", "badge", "text"),
    "year": ("number", "badge", "text"),
    "date": ("date", "badge", "text"),
    "link": ("url", "image", "text"),
    "list": ("array", "text"),
    "yes or no": ("boolean", "badge", "text"),
    "object": ("object", "text"),
}
BUILT_IN = frozenset(name for names in FORMATS_BY_KIND.values() for name in names)


def formats_for(kind: str | None, names: Iterable[str]) -> list[str]:
    """Of the formats registered (`names`), those a field of `kind` may have, in order."""
    allowed = FORMATS_BY_KIND.get(kind or "")
    if allowed is None:
        return list(names)
    return [name for name in names if name in allowed or name not in BUILT_IN]


def check_formats(config: Mapping[str, Any], kinds: Mapping[str, str], where: str) -> None:
    """A 422 naming each `field_config` entry whose format does not fit its field's kind."""
    entries = config.get("field_config")
    if not isinstance(entries, Mapping):
        return
    errors = []
    for field, entry in entries.items():
        chosen = entry.get("format") if isinstance(entry, Mapping) else None
        kind = kinds.get(field)
        allowed = FORMATS_BY_KIND.get(kind or "")
        if not isinstance(chosen, str) or allowed is None or chosen not in BUILT_IN:
            continue
        if chosen not in allowed:
            message = (
                f"{field} holds {_plural(kind or '')}: {chosen} does not fit it; "
                f"its formats are {', '.join(allowed)} (or Automatic)"
            )
            errors.append({"field": f"{where}.field_config.{field}.format", "message": message})
    if errors:
        listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(f"Invalid request: {listed}", details={"errors": errors})


def _plural(kind: str) -> str:
    return {
        "text": "text",
        "yes or no": "yes or no values",
        "date": "dates",
        "list": "lists",
        "link": "links",
    }.get(kind, f"{kind}s")
