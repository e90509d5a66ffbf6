"""Search-box suggestions from the embedded engine (the SDK's `TypeaheadResponse`).

For a published retriever: the past queries that enough distinct sessions searched and that
found something (learned from the search log, most popular first; a rare query never shows),
then the words of its search fields and the short values of its exposed text fields that
start with what was typed; only exposed fields are read, so a
suggestion never tells of a hidden one. For an owner: values of the fields asked for, and
collection names, across the namespace.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from app.adapters.engine import SearchEngine
from app.adapters.engine.words import words_of
from app.adapters.store import Store, searchlog
from app.errors import invalid
from app.schemas.collections import TypeaheadCollection, TypeaheadResponse, TypeaheadValue
from app.schemas.extensions import search_log_on
from app.services.catalog import PublicRetriever
from app.services.searchlog import fold

MAX_VALUE_FIELDS = 5
MAX_LEARNED = 500  # past queries compared with one that found nothing
# Words of the collection compared with one it lacks: those with its first two letters (a
# typo there is not corrected), the most frequent first.
MAX_TERMS = 1_000
NEAR_QUERY = 0.75  # how alike (1 - edits / length) a past query must be to be offered
MIN_WORD = 3
MAX_VALUE_CHARS = 60  # longer values are sentences, not things to type
# Mixpeek names a source it could not consult: this server keeps no one's own history (the
# popular past queries are among the suggestions, first).
NO_HISTORY = "recent_searches: this server keeps no history of a person's own searches"


class Typeahead:
    def __init__(self, engine: SearchEngine, store: Store, after_sessions: int) -> None:
        self.engine = engine
        self.store = store
        self.after_sessions = after_sessions

    def learned(self, retriever: PublicRetriever, prefix: str, limit: int) -> list[str]:
        """Past queries that start with `prefix` and that enough distinct sessions searched
        (each time finding something), most sessions first; none when the retriever's search
        log is off."""
        if not search_log_on(retriever.display.extensions):
            return []
        with self.store.read() as tx:
            return searchlog.learned(
                tx.conn, retriever.record.retriever_id, fold(prefix), self.after_sessions, limit
            )

    def suggest(self, retriever: PublicRetriever, prefix: str, limit: int) -> TypeaheadResponse:
        backend = retriever.backend
        if backend.type != "local":
            raise invalid(
                "public_name",
                "a retriever over this server's engine",
                "Typeahead needs a retriever over this server's embedded engine; this one asks "
                "an upstream.",
            )
        namespace, collection = retriever.record.namespace, backend.collection
        exposed = retriever.display.exposed_fields
        searched = [f for f in backend.search_fields if f in exposed]
        words = self.engine.prefix_terms(namespace, collection, searched, prefix, limit)
        text_fields = self.engine.text_fields(namespace, collection)
        value_fields = [f for f in exposed if f in text_fields][:MAX_VALUE_FIELDS]
        values = [
            v
            for v in self._values(namespace, value_fields, prefix, limit, collection)
            if len(v.value) <= MAX_VALUE_CHARS
        ]
        learned = self.learned(retriever, prefix, limit)
        texts = learned + [word for word, _ in words] + [v.value for v in values]
        return _answer(prefix, texts, values[:limit], [], limit)

    def did_you_mean(self, retriever: PublicRetriever, text: str) -> str | None:
        """For a query that found nothing: the popular past query nearest to it, else the
        query with each word the collection lacks replaced by the nearest word it has that
        starts with the same two letters (one edit for a short word, two from six letters);
        None when nothing is near."""
        backend = retriever.backend
        query = fold(text)
        if backend.type != "local" or not query:
            return None
        learned = [q for q in self.learned(retriever, query[:1], MAX_LEARNED) if q != query]
        best = process.extractOne(query, learned, scorer=Levenshtein.normalized_similarity)
        if best is not None and best[1] >= NEAR_QUERY:
            return str(best[0])
        exposed = retriever.display.exposed_fields
        searched = [f for f in backend.search_fields if f in exposed]
        namespace, collection = retriever.record.namespace, backend.collection
        words = words_of(query)
        fixed = []
        for word in words:
            known = [
                term
                for term, _ in self.engine.prefix_terms(
                    namespace, collection, searched, word[:2], MAX_TERMS
                )
            ]
            if word in known or len(word) < MIN_WORD:
                fixed.append(word)
                continue
            edits = 2 if len(word) >= 6 else 1
            nearest = process.extractOne(word, known, scorer=OSA.distance, score_cutoff=edits)
            fixed.append(str(nearest[0]) if nearest else word)
        return " ".join(fixed) if fixed != words else None

    def namespace(
        self, namespace: str, prefix: str, fields: list[str], limit: int
    ) -> TypeaheadResponse:
        """Values of `fields` and collection names that start with `prefix`, in the
        namespace; values first (most documents first), then collections."""
        values = self._values(namespace, fields, prefix, limit)
        collections = [
            TypeaheadCollection(collection_id=f"col_{number}", collection_name=name)
            for number, name in self.engine.collection_names(namespace, prefix, limit)
        ]
        texts = [v.value for v in values] + [c.collection_name for c in collections]
        return _answer(prefix, texts, values, collections)

    def _values(
        self,
        namespace: str,
        fields: Iterable[str],
        prefix: str,
        limit: int,
        collection: str | None = None,
    ) -> list[TypeaheadValue]:
        """Each field's values starting with `prefix`, most documents first."""
        values = [
            TypeaheadValue(field=field, value=value, count=count)
            for field in fields
            for value, count in self.engine.prefix_values(
                namespace, field, prefix, limit, collection
            )
        ]
        values.sort(key=lambda v: -v.count)
        return values


def _answer(
    prefix: str,
    texts: list[str],
    values: list[TypeaheadValue],
    collections: list[TypeaheadCollection],
    limit: int | None = None,
) -> TypeaheadResponse:
    return TypeaheadResponse(
        query=prefix,
        suggestions=list(dict.fromkeys(texts))[:limit],
        values=values,
        collections=collections,
        recent_searches=[],
        warnings=[NO_HISTORY],
    )
