"""How the engine's names become Typesense's: a collection's name, a field's columns, a
document's id and an exact value, each encoded so that no character a user chose can reach
Typesense's filter syntax or a URL path, and each decoded back.

A field `name` of a document becomes several columns, each named by a kind letter and the
name in hex (`t_7469746c65` for `title`): `t_` its words (searched), `s_` its text values as
they are (counted as facets), `x_` those values as tokens (`token`: exact, case-sensitive
filters, since Typesense folds case in its own string filters), `l_` the same lower-cased, `v_`
its numbers and booleans as exact tokens (`documents.exact`), `n_` its numbers, `b_` its
booleans, `d_` its ISO dates as seconds since 1970, `o_` one number or date to sort by, and
`w_` the distinct words of its text, as the other engines index them (`fold`), counted as
facets for typeahead.
"""

from __future__ import annotations

import hashlib
import re

# Kept as they are in a collection's name; any other character is `_` and its UTF-8 in hex.
_PLAIN = re.compile(r"[^A-Za-z0-9-]+")
_ESCAPED = re.compile(r"(?:_[0-9a-f]{2})+")
SEPARATOR = "."  # between namespace and collection (escaped wherever else it appears)


def escape(text: str) -> str:
    return _PLAIN.sub(lambda m: "".join(f"_{b:02x}" for b in m.group().encode()), text)


def unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: bytes.fromhex(m.group().replace("_", "")).decode(), text)


def collection_name(prefix: str, namespace: str, collection: str) -> str:
    return f"{prefix}{escape(namespace)}{SEPARATOR}{escape(collection)}"


def hexed(text: str) -> str:
    return text.encode().hex()


def token(text: str) -> str:
    """An exact value as one short token to filter on: Typesense compares long strings by their
    beginning only, so values are compared by a 128-bit hash."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def unhexed(text: str) -> str:
    return bytes.fromhex(text).decode()


def column(kind: str, field: str) -> str:
    return f"{kind}_{hexed(field)}"


def field_of(column_name: str) -> str:
    return unhexed(column_name.split("_", 1)[1])
