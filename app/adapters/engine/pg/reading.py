"""One search over one collection in PostgreSQL: its WHERE clause, the page it reads (by
relevance, by a field, or in the order documents were added), and its facet counts; the same
tiers as the tantivy engine (`engine/reading.py`): the words as typed, then, only when those
find nothing, the words with typos.

A word matches the lexeme `{slot}.{word}` of a search field (the last word as a prefix too);
its score is the field's weight, times one plus `ts_rank` (how often it occurs) when exact,
0.3 of the weight when only a prefix, 0.1 when only a typo: exact matches rank first. Typos
are read off the collection's words (`engine_terms`): those sharing trigrams with the typed
word (pg_trgm's GIN index), kept when within Meilisearch's typo counts (`words.near`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from app import jsonutil
from app.adapters.engine.fields import Fields
from app.adapters.engine.pg.filters import Sql, equal_to_any, matching
from app.adapters.engine.pg.rows import quote
from app.adapters.engine.results import FacetValue, Sort, Unsortable
from app.adapters.engine.words import (
    PREFIX_WEIGHT,
    SIMILAR_TERMS,
    TYPO_WEIGHT,
    near,
    typos,
    weights,
    words_of,
)
from app.schemas.filters import Filter

FACET_VALUES = 100
TYPO_CANDIDATES = 200
# Words within one or two edits of a five-letter word share at least 20% of its trigrams.
TRIGRAM_THRESHOLD = 0.1
Row = tuple[int, str, dict[str, Any], float]  # (rowid, document_id, body, score)


class Plan:
    def __init__(
        self,
        conn: sa.Connection,
        collection_id: int,
        fields: Fields,
        search_fields: Sequence[str],
        text: str,
        filters: Mapping[str, Any],
        tree: Filter | None,
        like: tuple[int, list[str]] | None,
    ) -> None:
        self.conn = conn
        self.collection_id = collection_id
        self.fields = fields
        self.words = tuple(words_of(text))
        self.columns = {
            fields.slots[name]: weight
            for name, weight in weights(search_fields).items()
            if name in fields.text
        }
        self.total = 0
        parts: list[Sql] = [("d.collection_id = %s", [collection_id])]
        for name, wanted in filters.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if values:
                parts.append(equal_to_any(name, values, fields))
        if tree is not None:
            parts.append(matching(tree, fields))
        self.score: Sql = ("0", [])
        if like is not None:
            rowid, lexemes = like
            parts.append(("d.id <> %s", [rowid]))
            match, self.score = self._similar(lexemes)
            parts.append(("d.words @@ %s::tsquery", [match]))
        self.base = self.where = _joined(parts)

    def page(self, limit: int, offset: int, sort: Sort | None) -> list[Row]:
        """One page; sets `total`. With words, those as typed, or, when they find nothing,
        the words with typos."""
        by: Sql | None = None
        if sort is not None:
            column = self.fields.sort_column(sort.field)
            if column is None:
                raise Unsortable(sort.field)
            direction = "ASC" if sort.direction == "asc" else "DESC"
            by = (f"(d.numbers -> %s ->> 0)::float8 {direction} NULLS LAST, d.id", [column])
        if not (self.words and self.columns):
            return self._read(None, by, limit, offset)
        rows = self._read(self._text(self.words, {}), by, limit, offset)
        if self.total == 0 and any(typos(word) for word in self.words):
            rows = self._read(self._text(self.words, self._typos()), by, limit, offset)
        return rows

    def _read(
        self, text: tuple[str, Sql] | None, by: Sql | None, limit: int, offset: int
    ) -> list[Row]:
        """Read a page in the order `by` gives, else by score (documents added first first,
        among equals)."""
        if text is not None:
            match, self.score = text
            self.where = _joined([self.base, ("d.words @@ %s::tsquery", [match])])
        where, params = self.where
        score, score_params = self.score if by is None else ("0", [])
        order, order_params = by or (("score DESC, d.id" if score != "0" else "d.id"), [])
        result = self.conn.exec_driver_sql(
            f"SELECT d.id, d.document_id, d.body, {score} AS score, count(*) OVER () "
            f"FROM engine_documents d WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s",
            (*score_params, *params, *order_params, limit, offset),
        ).all()
        if result:
            self.total = int(result[0][4])
        else:
            self.total = int(
                self.conn.exec_driver_sql(
                    f"SELECT count(*) FROM engine_documents d WHERE {where}", tuple(params)
                ).scalar_one()
            )
        return [
            (int(row[0]), str(row[1]), jsonutil.loads(row[2]), round(float(row[3]), 6))
            for row in result
        ]

    def _text(
        self, words: tuple[str, ...], typo: dict[tuple[int, int], list[str]]
    ) -> tuple[str, Sql]:
        """The tsquery every match meets, and the score of a match."""
        clauses: list[str] = []
        cases: list[str] = []
        params: list[Any] = []
        for position, word in enumerate(words):
            last = position == len(words) - 1
            alternatives: list[str] = []
            for slot, weight in self.columns.items():
                exact = quote(f"{slot}.{word}")
                case = (
                    "CASE WHEN d.words @@ %s::tsquery THEN %s * (1 + ts_rank(d.words, %s::tsquery))"
                )
                params += [exact, weight, exact]
                alternatives.append(exact)
                if last:
                    case += " WHEN d.words @@ %s::tsquery THEN %s"
                    params += [exact + ":*", weight * PREFIX_WEIGHT]
                    alternatives.append(exact + ":*")
                near_words = [quote(f"{slot}.{w}") for w in typo.get((position, slot), [])]
                if near_words:
                    case += " WHEN d.words @@ %s::tsquery THEN %s"
                    params += [" | ".join(near_words), weight * TYPO_WEIGHT]
                    alternatives += near_words
                cases.append(case + " ELSE 0 END")
            clauses.append("(" + " | ".join(alternatives) + ")")
        return " & ".join(clauses), (" + ".join(cases), params)

    def _typos(self) -> dict[tuple[int, int], list[str]]:
        """For each word that may carry typos, and each search field: the collection's words
        that it may stand for."""
        found: dict[tuple[int, int], list[str]] = {}
        self.conn.exec_driver_sql(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true), "
            "set_config('pg_trgm.word_similarity_threshold', %s, true)",
            (str(TRIGRAM_THRESHOLD), str(TRIGRAM_THRESHOLD)),
        )
        slots = list(self.columns)
        for position, word in enumerate(self.words):
            allowed = typos(word)
            if not allowed:
                continue
            last = position == len(self.words) - 1
            # The last word may be the start of a longer one: compare it with the best part.
            operator, measure = ("%s <%% word", "word_similarity(%s, word)") if last else (
                "word %% %s", "similarity(word, %s)")  # fmt: skip
            rows = self.conn.exec_driver_sql(
                f"SELECT slot, word FROM engine_terms WHERE collection_id = %s "
                f"AND slot = ANY(%s) AND {operator} ORDER BY {measure} DESC LIMIT %s",
                (self.collection_id, slots, word, word, TYPO_CANDIDATES),
            )
            for slot, candidate in rows:
                if candidate != word and near(candidate, word, allowed, last):
                    found.setdefault((position, int(slot)), []).append(str(candidate))
        return found

    def _similar(self, lexemes: list[str]) -> tuple[str, Sql]:
        """Documents sharing the most telling words of the document's search fields: up to
        SIMILAR_TERMS of its words, the rarest in the collection first, each scoring its
        inverse document frequency."""
        own = [lexeme for lexeme in lexemes if _slot(lexeme) in self.columns]
        if not own:
            return "''", ("0", [])  # an empty tsquery: nothing is like a document without words
        rows = self.conn.exec_driver_sql(
            "SELECT slot::text || '.' || word, documents FROM engine_terms "
            "WHERE collection_id = %s AND slot::text || '.' || word = ANY(%s) "
            "ORDER BY documents, word LIMIT %s",
            (self.collection_id, own, SIMILAR_TERMS),
        ).all()
        total = max(1, self._documents())
        cases: list[str] = []
        params: list[Any] = []
        for lexeme, documents in rows:
            cases.append("CASE WHEN d.words @@ %s::tsquery THEN %s ELSE 0 END")
            params += [quote(lexeme), math.log(1 + total / max(1, int(documents)))]
        match = " | ".join(quote(lexeme) for lexeme, _ in rows)
        return (match or "''"), (" + ".join(cases) or "0", params)

    def _documents(self) -> int:
        return int(
            self.conn.exec_driver_sql(
                "SELECT documents FROM engine_collections WHERE id = %s", (self.collection_id,)
            ).scalar_one()
        )

    def facets(self, names: Sequence[str]) -> dict[str, list[FacetValue]]:
        """Each field's values over every match, most first (at most FACET_VALUES)."""
        tags: dict[str, str] = {}
        for name in names:
            slot = self.fields.slots.get(name)
            if slot is not None:
                tags.update({f"{column}{slot}": name for column in "snb"})
        answer: dict[str, list[FacetValue]] = {name: [] for name in names}
        if not tags:
            return answer
        where, params = self.where
        rows = self.conn.exec_driver_sql(
            "SELECT t, n FROM (SELECT t, count(*) AS n, row_number() OVER (PARTITION BY "
            "split_part(t, ':', 1) ORDER BY count(*) DESC, t) AS r FROM engine_documents d, "
            f"unnest(d.terms) t WHERE {where} AND split_part(t, ':', 1) = ANY(%s) GROUP BY t) "
            "x WHERE r <= %s",
            (*params, list(tags), FACET_VALUES),
        )
        for tagged, count in rows:
            column, value = str(tagged).split(":", 1)
            answer[tags[column]].append(FacetValue(_value(column[0], value), int(count)))
        for values in answer.values():
            values.sort(key=lambda v: (-v.count, str(v.value)))
            del values[FACET_VALUES:]
        return answer


def _value(kind: str, value: str) -> str | int | float | bool:
    if kind == "b":
        return value == "true"
    if kind == "n":
        number = float(value)
        return int(number) if number.is_integer() else number
    return value


def _slot(lexeme: str) -> int:
    return int(lexeme.split(".", 1)[0])


def _joined(parts: list[Sql]) -> Sql:
    return " AND ".join(sql for sql, _ in parts), [p for _, params in parts for p in params]
