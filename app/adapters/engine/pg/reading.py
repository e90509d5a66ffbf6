"""One search over one collection in PostgreSQL: its WHERE clause, the page it reads (by
relevance, by a field, or in the order documents were added), and its facet counts; the same
levels and scores as the tantivy engine (`engine/words.py`): every word as typed; then, when
those are few, every word with typos, or any of the words, most of the query first.

A word matches the lexeme `{slot}.{word}` of a search field (the last word as a prefix too, while
fewer than WHOLE_WORD_THRESHOLD documents hold it as typed: `words.as_prefix`).
A word's score is a bonus for being there at all (`words.word_query`), EXACT_BONUS more when
as typed or as a prefix, plus the field's weight times one plus `ts_rank` (how often it
occurs) for each field that holds it as typed. Typos are read off the collection's words
(`engine_terms`): those sharing trigrams with the typed word (pg_trgm's GIN index), kept when
within Meilisearch's typo counts (`words.near`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from app import jsonutil
from app.adapters.engine.fields import Fields
from app.adapters.engine.highlight import lacking
from app.adapters.engine.pg.filters import TRUE, Sql, equal_to_any, matching
from app.adapters.engine.pg.rows import quote
from app.adapters.engine.relevance import marked, query_words
from app.adapters.engine.results import Search, Unsortable
from app.adapters.engine.words import (
    EXACT_BONUS,
    MOST_WORDS_THRESHOLD,
    SIMILAR_RESULTS,
    SYNONYM_SHARE,
    TYPO_SHARE,
    TYPO_THRESHOLD,
    TYPO_WEIGHT,
    WORD_BONUS,
    as_prefix,
    near,
    rarity,
    telling_words,
    typos,
    weighted_texts,
    weights,
    with_typos,
)
from app.schemas.search import FacetCount, Sort

FACET_VALUES = 100
TYPO_CANDIDATES = 200
# Words within one or two edits of a five-letter word share at least 20% of its trigrams.
TRIGRAM_THRESHOLD = 0.1
Row = tuple[int, str, dict[str, Any], float]  # (rowid, document_id, body, score)
Typos = dict[tuple[int, int], list[str]]  # (word's position, slot) → the words it may stand for
_RANKED = (
    "CASE WHEN d.words @@ %s::tsquery THEN %s * (1 + ts_rank(d.words, %s::tsquery)) ELSE 0 END"
)


class Plan:
    def __init__(
        self,
        conn: sa.Connection,
        collection_id: int,
        fields: Fields,
        search: Search,
        like: tuple[int, dict[str, Any]] | None,
    ) -> None:
        search_fields, filters, tree = search.fields, search.filters, search.tree
        self.conn = conn
        self.collection_id = collection_id
        self.fields = fields
        self.search_fields = search_fields
        self.words, self.synonyms = query_words(search.text, search.relevance)
        self.marked = marked(self.words, self.synonyms)
        self.columns = {
            fields.slots[name]: weight
            for name, weight in weights(search_fields).items()
            if name in fields.text
        }
        self.total = 0
        self.prefix = True  # whether the last word matched as a prefix (`as_prefix`)
        self.best: dict[str, Any] | None = None  # the best match's body, when none has every word
        parts: list[Sql] = [("d.collection_id = %s", [collection_id])]
        for name, wanted in filters.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if values:
                parts.append(equal_to_any(name, values, fields))
        if tree is not None:
            parts.append(matching(tree, fields))
        if search.ids is not None:
            parts.append(("d.document_id = ANY(%s)", [_storable(search.ids)]))
        if search.excluded:
            parts.append(("d.document_id <> ALL(%s)", [_storable(search.excluded)]))
        # The filters alone, without the collection (TRUE when none): what a search by
        # meaning keeps to (`nearest.nearest`).
        self.filters: Sql = _joined(parts[1:]) if len(parts) > 1 else TRUE
        self.score: Sql = ("0", [])
        if like is not None:
            similar = self._like(_joined(parts), *like)
            ids, scores = [rowid for rowid, _ in similar], [score for _, score in similar]
            parts.append(("d.id = ANY(%s)", [ids]))
            self.score = (
                "(SELECT s FROM unnest(%s::bigint[], %s::float8[]) AS u(i, s) WHERE u.i = d.id)",
                [ids, scores],
            )
        self.base = self.where = _joined(parts)

    def page(self, limit: int, offset: int, sort: Sort | None) -> list[Row]:
        """One page; sets `total`. With words, the levels of `words`, each searched only when
        the one before found few documents, and holding it first."""
        by = None if sort is None else self._by(sort)
        if not (self.words and self.columns):
            return self._read(None, by, limit, offset)
        last = self.words[-1]
        held = self._frequencies([last])
        self.prefix = as_prefix(held.get(last, 0))
        exact = self._text(self.words, {}, every=True)
        rows = self._read(exact, by, limit, offset)
        found = self.total
        some = len(self.words) > 1 and found < MOST_WORDS_THRESHOLD
        if not some and found >= TYPO_THRESHOLD:
            return rows
        held.update(self._frequencies(list(self.words[:-1])) if len(self.words) > 1 else {})
        typed = {word for word in self.words if with_typos(word, held.get(word, 0))}
        if some:
            total = self._documents()
            worth = {word: rarity(held.get(word, 0), total) for word in self.words}
            level = self._text(self.words, self._typos(typed), every=False, worth=worth)
        elif typed:
            level = self._text(self.words, self._typos(typed), every=True)
        else:
            return rows
        if by is not None:  # the documents of the narrower level still come first
            by = (f"d.words @@ %s::tsquery DESC, {by[0]}", [exact[0], *by[1]])
        rows = self._read(level, by, limit, offset)
        if some and found == 0 and rows:
            best = rows[0] if by is None and offset == 0 else self._read(level, None, 1, 0)[0]
            self.best = best[2]
        return rows

    def within(self, where: Sql, limit: int, offset: int, sort: Sort) -> list[Row]:
        """One page, sorted, of a set of documents found some other way (by meaning): `where`
        matches exactly them, for the total and the facets."""
        self.where, self.score = where, ("0", [])
        return self._read(None, self._by(sort), limit, offset)

    def count(self, where: Sql) -> int:
        sql, params = where
        query = f"SELECT count(*) FROM engine_documents d WHERE {sql}"
        return int(self.conn.exec_driver_sql(query, tuple(params)).scalar_one())

    def _by(self, sort: Sort) -> Sql:
        """The order of a sort: documents with a value by it, then the others as added."""
        column = self.fields.sort_column(sort.field)
        if column is None:
            raise Unsortable(sort.field)
        direction = "ASC" if sort.direction == "asc" else "DESC"
        return f"(d.numbers -> %s ->> 0)::float8 {direction} NULLS LAST, d.id", [column]

    def left_out(self, best: dict[str, Any]) -> tuple[str, ...]:
        """The words of the query that the body of the best match lacks."""
        names = [name for name in self.search_fields if name in self.fields.text]
        return lacking(best, names, self.words, prefix=self.prefix)

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
        self.total = int(result[0][4]) if result else self.count(self.where)
        return [
            (int(row[0]), str(row[1]), jsonutil.loads(row[2]), round(float(row[3]), 6))
            for row in result
        ]

    def _text(
        self,
        words: tuple[str, ...],
        typo: Typos,
        *,
        every: bool,
        worth: Mapping[str, float] | None = None,
    ) -> tuple[str, Sql]:
        """The tsquery that matches hold (every word, or any), and the score of a match."""
        clauses: list[str] = []
        cases: list[str] = []
        params: list[Any] = []
        for position, word in enumerate(words):
            last = position == len(words) - 1 and self.prefix
            exact: list[str] = []
            forms: list[str] = []
            bonuses: list[tuple[float, str]] = []  # (bonus, the forms that earn it)
            top = max(self.columns.values())
            synonyms = self.synonyms[position] if position < len(self.synonyms) else ()
            for slot, weight in self.columns.items():
                lexeme = quote(f"{slot}.{word}")
                others = [_together(slot, phrase) for phrase in synonyms]
                for ranked, share in [(lexeme, 1), *((other, SYNONYM_SHARE) for other in others)]:
                    cases.append(_RANKED)
                    params += [ranked, weight * share, ranked]
                own = [lexeme, lexeme + ":*", *others] if last else [lexeme, *others]
                near_words = [quote(f"{slot}.{w}") for w in typo.get((position, slot), [])]
                exact += own
                forms += [*own, *near_words]
                # The word's bonus, from its best form and field (`words.word_query`).
                if worth is None:
                    bonuses.append(
                        (WORD_BONUS + TYPO_WEIGHT * weight, " | ".join(own + near_words))
                    )
                    continue
                bonus = WORD_BONUS * worth[word] * (1 + weight / top) / 2
                bonuses.append((bonus, " | ".join(own)))
                if near_words:
                    bonuses.append((bonus * TYPO_SHARE, " | ".join(near_words)))
            case = "CASE"
            for bonus, earned_by in sorted(bonuses, key=lambda pair: -pair[0]):
                case += " WHEN d.words @@ %s::tsquery THEN %s"
                params += [earned_by, bonus]
            cases.append(case + " ELSE 0 END")
            cases.append("CASE WHEN d.words @@ %s::tsquery THEN %s ELSE 0 END")
            params += [" | ".join(exact), EXACT_BONUS]
            clauses.append("(" + " | ".join(forms) + ")")
        return (" & " if every else " | ").join(clauses), (" + ".join(cases), params)

    def _typos(self, words: set[str]) -> Typos:
        """For each of these words, and each search field: the collection's words that it may
        stand for."""
        found: Typos = {}
        self.conn.exec_driver_sql(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true), "
            "set_config('pg_trgm.word_similarity_threshold', %s, true)",
            (str(TRIGRAM_THRESHOLD), str(TRIGRAM_THRESHOLD)),
        )
        slots = list(self.columns)
        for position, word in enumerate(self.words):
            allowed = typos(word)
            if word not in words or not allowed:
                continue
            last = position == len(self.words) - 1 and self.prefix
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

    def _like(self, where: Sql, rowid: int, body: dict[str, Any]) -> list[tuple[int, float]]:
        """The SIMILAR_RESULTS documents that share most of what this one is about (its
        telling words over the search fields, `words.telling_words`), within the filters:
        each word found in any search field scores its worth times the best field's weight
        (relative to the first)."""
        texts = weighted_texts(body, self.search_fields, self.fields.text)
        terms = telling_words(texts, self._frequencies, self._documents())
        if not terms:
            return []
        top = max(self.columns.values())
        cases: list[str] = []
        params: list[Any] = []
        alternatives: list[str] = []
        for word, score in terms:
            case = "CASE"
            for slot, weight in sorted(self.columns.items(), key=lambda pair: -pair[1]):
                lexeme = quote(f"{slot}.{word}")
                case += " WHEN d.words @@ %s::tsquery THEN %s"
                params += [lexeme, score * weight / top]
                alternatives.append(lexeme)
            cases.append(case + " ELSE 0 END")
        sql, where_params = where
        rows = self.conn.exec_driver_sql(
            f"SELECT d.id, {' + '.join(cases)} AS score FROM engine_documents d WHERE {sql} "
            "AND d.id <> %s AND d.words @@ %s::tsquery ORDER BY score DESC, d.id LIMIT %s",
            (*params, *where_params, rowid, " | ".join(alternatives), SIMILAR_RESULTS),
        ).all()
        return [(int(row[0]), round(float(row[1]), 6)) for row in rows]

    def _frequencies(self, words: list[str]) -> dict[str, int]:
        """Each word's document frequency in the search field that holds it most."""
        rows = self.conn.exec_driver_sql(
            "SELECT word, max(documents) FROM engine_terms WHERE collection_id = %s "
            "AND slot = ANY(%s) AND word = ANY(%s) GROUP BY word",
            (self.collection_id, list(self.columns), words),
        ).all()
        return {str(word): int(documents) for word, documents in rows}

    def _documents(self) -> int:
        return int(
            self.conn.exec_driver_sql(
                "SELECT documents FROM engine_collections WHERE id = %s", (self.collection_id,)
            ).scalar_one()
        )

    def facets(self, names: Sequence[str]) -> dict[str, list[FacetCount]]:
        """Each field's values over every match, most first (at most FACET_VALUES)."""
        tags: dict[str, str] = {}
        for name in names:
            slot = self.fields.slots.get(name)
            if slot is not None:
                tags.update({f"{column}{slot}": name for column in "snb"})
        answer: dict[str, list[FacetCount]] = {name: [] for name in names}
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
            answer[tags[column]].append(FacetCount(_value(column[0], value), int(count)))
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


def _joined(parts: list[Sql]) -> Sql:
    return " AND ".join(sql for sql, _ in parts), [p for _, params in parts for p in params]


def _together(slot: int, phrase: Sequence[str]) -> str:
    """A synonym in one field, as a tsquery: its word, or every word of it."""
    lexemes = [quote(f"{slot}.{word}") for word in phrase]
    return lexemes[0] if len(lexemes) == 1 else "(" + " & ".join(lexemes) + ")"


def _storable(ids: Sequence[str]) -> list[str]:
    """Document ids PostgreSQL can hold (none holds a NUL: `upsert` refuses them)."""
    return [document_id for document_id in ids if "\x00" not in document_id]
