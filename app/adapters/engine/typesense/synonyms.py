"""A retriever's synonyms through Typesense's own, which live on a collection (every search of
it takes them all) while ours are a retriever's: two retrievers over one collection may give
a word different synonyms, or none.

So a query's phrase that has synonyms is sent as a root that no document holds and no one
types: one token a word, `rs` and a hash of the phrase and its synonyms (`rs3fa2...0`). The
collection has a one-way synonym from that root to the phrase and to each of its synonyms, so
Typesense searches for each of them in its place, within the same search (one total, one set
of facets), with the same typos and prefix as any word, ranked alike. A word typed as itself
finds only itself; the same rules give the same root, so retrievers that share them share
it. Roots are put on the collection the first time a search needs them (`core.py` remembers
which are there); a dropped collection takes them with it.
"""

from __future__ import annotations

from typing import Any

from app import jsonutil
from app.adapters.engine.relevance import MAX_ALTERNATIVES
from app.adapters.engine.results import Relevance
from app.adapters.engine.typesense.names import token
from app.adapters.engine.words import words_of

Definitions = dict[str, dict[str, Any]]  # Typesense synonyms by id


def query(text: str, relevance: Relevance | None) -> tuple[list[str], Definitions]:
    """The query's tokens for Typesense (its stop words left out, as `query_words` leaves
    them, and each phrase with synonyms as its root) and the synonyms its roots need."""
    words = words_of(text)
    if relevance is None or not words:
        return words, {}
    tokens: list[str] = []
    needed: Definitions = {}
    plain: list[str] = []  # (every word, should the query hold only stop words)
    start = 0
    while start < len(words):
        for length in range(min(relevance.longest, len(words) - start), 0, -1):
            phrase = tuple(words[start : start + length])
            others = relevance.synonyms.get(phrase)
            if others:
                name, definition = _definition(phrase, others)
                needed[name] = definition
                tokens.extend(definition["root"].split())
                start += length
                break
        else:
            word = words[start]
            plain.append(word)
            if word not in relevance.stop_words:
                tokens.append(word)
            start += 1
    return tokens or plain, needed


def _definition(
    phrase: tuple[str, ...], others: tuple[tuple[str, ...], ...]
) -> tuple[str, dict[str, Any]]:
    kept = tuple(dict.fromkeys(others))[:MAX_ALTERNATIVES]
    name = "rs" + token(jsonutil.dumps([phrase, kept]).decode())[:24]
    root = " ".join(f"{name}{n}" for n in range(len(phrase)))
    return name, {"root": root, "synonyms": [" ".join(words) for words in (phrase, *kept)]}
