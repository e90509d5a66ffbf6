"""A retriever's relevance rules: the owner's calls that read and change them, and the rules
compiled once for the public side (`Rules`, which the catalog loads with the retriever), each
search taking what applies to its query (`Rules.for_search`).

Rules apply to the server's own engines only (a `local` backend); a retriever searching a
Mixpeek upstream refuses them, since nothing here could make that upstream obey them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app import crypto
from app.adapters.clock import Clock, stamp
from app.adapters.engine.index import fold
from app.adapters.engine.results import Boost, Relevance
from app.adapters.store import Store, Transaction
from app.adapters.store import relevance as stored
from app.errors import NotFound, from_validation_error, invalid
from app.schemas.relevance import (
    Curation,
    DeletedRule,
    RelevanceResponse,
    RelevanceRules,
    SynonymRule,
)
from app.services.retrievers import retriever_or_404

MAX_PHRASE_WORDS = 5  # the words of one synonym, as the engine reads them
LOCAL = "local"
Words = tuple[str, ...]
Changed = Callable[[str | None], None]


@dataclass(frozen=True)
class Pinning:
    match: str  # "exact" or "contains"
    query: str  # folded for case and spacing
    pinned: tuple[tuple[str, int], ...]
    hidden: tuple[str, ...]

    def matches(self, folded: str) -> bool:
        if self.match == "exact":
            return folded == self.query
        return f" {self.query} " in f" {folded} "


@dataclass(frozen=True)
class Rules:
    """A retriever's rules as its searches apply them; `version` counts their changes (the
    answer cache keys on it)."""

    version: int
    synonyms: dict[Words, tuple[Words, ...]] = field(default_factory=dict)
    stop_words: frozenset[str] = frozenset()
    curations: tuple[Pinning, ...] = ()
    boosts: tuple[Boost, ...] = ()

    def for_search(self, text: Any, exposed: Sequence[str]) -> Relevance | None:
        """What one search applies: the synonyms and stop words, the first curation whose
        query matches its text, and the boosts by exposed fields (a field a page hides never
        orders its results)."""
        folded = folded_query(text) if isinstance(text, str) else ""
        curation = next((c for c in self.curations if folded and c.matches(folded)), None)
        boosts = tuple(boost for boost in self.boosts if boost.field in exposed)
        if not (self.synonyms or self.stop_words or curation or boosts):
            return None
        return Relevance(
            synonyms=self.synonyms,
            stop_words=self.stop_words,
            pinned=curation.pinned if curation else (),
            hidden=curation.hidden if curation else (),
            boosts=boosts,
        )


def folded_query(text: str) -> str:
    """A query folded for case and spacing, as curations match it."""
    return " ".join(text.split()).casefold()


def compiled(rules: RelevanceRules, version: int) -> Rules:
    """The rules as searches apply them, or a 422 naming the first term the engine cannot
    read as words."""
    synonyms: dict[Words, list[Words]] = {}
    for number, rule in enumerate(rules.synonyms):
        where = f"synonyms[{number}]"
        terms = [_phrase(term, f"{where}.synonyms[{n}]") for n, term in enumerate(rule.synonyms)]
        if rule.root is not None:
            synonyms.setdefault(_phrase(rule.root, f"{where}.root"), []).extend(terms)
            continue
        for term in terms:
            synonyms.setdefault(term, []).extend(other for other in terms if other != term)
    stop_words = set()
    for number, word in enumerate(rules.stop_words):
        words = fold(word)
        if len(words) != 1:
            raise invalid(
                f"stop_words[{number}]",
                "one word",
                f"stop_words[{number}]: {word[:60]!r} is {len(words) or 'no'} words as a search "
                "reads it; a stop word is one word.",
            )
        stop_words.add(words[0])
    return Rules(
        version=version,
        synonyms={key: tuple(dict.fromkeys(found)) for key, found in synonyms.items() if found},
        stop_words=frozenset(stop_words),
        curations=tuple(
            Pinning(
                match=curation.rule.match,
                query=folded_query(curation.rule.query),
                pinned=tuple((pin.id, pin.position) for pin in curation.includes),
                hidden=tuple(hidden.id for hidden in curation.excludes),
            )
            for curation in rules.curations
        ),
        boosts=tuple(Boost(boost.field, boost.weight) for boost in rules.boosts),
    )


def _phrase(term: str, where: str) -> Words:
    words = tuple(fold(term))
    if not words or len(words) > MAX_PHRASE_WORDS:
        raise invalid(
            where,
            f"1 to {MAX_PHRASE_WORDS} words",
            f"{where}: {term[:60]!r} is {len(words) or 'no'} words as a search reads them; a "
            f"synonym is 1 to {MAX_PHRASE_WORDS} words.",
        )
    return words


def load(tx: Transaction, namespace: str, retriever_id: str) -> Rules | None:
    """A retriever's stored rules, compiled, or None when it has none."""
    record = stored.get(tx.conn, namespace, retriever_id)
    if record is None:
        return None
    return compiled(RelevanceRules.model_validate(record.rules), record.version)


class RelevanceRulesService:
    """The owner's calls: read every rule, replace them all, or put and delete one synonym
    set or curation by its id. Each change takes effect on the next search (the catalog is
    told at once; other processes within its refresh)."""

    def __init__(self, store: Store, clock: Clock, changed: Changed) -> None:
        self.store = store
        self.clock = clock
        self.changed = changed

    def get(self, namespace: str, retriever_id: str) -> RelevanceResponse:
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            record = stored.get(tx.conn, namespace, retriever_id)
        if record is None:
            return RelevanceResponse(retriever_id=retriever_id)
        return _response(record)

    def replace(
        self, namespace: str, retriever_id: str, rules: RelevanceRules
    ) -> RelevanceResponse:
        return self._change(namespace, retriever_id, lambda _: rules)

    def put_synonym(
        self, namespace: str, retriever_id: str, rule_id: str, rule: SynonymRule
    ) -> SynonymRule:
        rule = rule.model_copy(update={"id": rule_id})
        self._change(namespace, retriever_id, lambda old: _with(old, "synonyms", rule_id, rule))
        return rule

    def put_curation(
        self, namespace: str, retriever_id: str, rule_id: str, rule: Curation
    ) -> Curation:
        rule = rule.model_copy(update={"id": rule_id})
        self._change(namespace, retriever_id, lambda old: _with(old, "curations", rule_id, rule))
        return rule

    def update(
        self,
        namespace: str,
        retriever_id: str,
        change: Callable[[RelevanceRules], RelevanceRules],
    ) -> RelevanceResponse:
        """The rules changed by `change` (given the stored ones), checked whole and stored
        as every other change is (the console's boosts and stop words)."""
        return self._change(namespace, retriever_id, change)

    def delete_rule(
        self, namespace: str, retriever_id: str, kind: str, rule_id: str
    ) -> DeletedRule:
        """Delete one synonym set or curation (`kind`), or a 404."""

        def without(old: RelevanceRules) -> RelevanceRules:
            kept = [rule for rule in getattr(old, kind) if rule.id != rule_id]
            if len(kept) == len(getattr(old, kind)):
                raise NotFound(f"No {kind} rule {rule_id!r} for this retriever.")
            return old.model_copy(update={kind: kept})

        self._change(namespace, retriever_id, without)
        return DeletedRule(id=rule_id)

    def _change(
        self,
        namespace: str,
        retriever_id: str,
        change: Callable[[RelevanceRules], RelevanceRules],
    ) -> RelevanceResponse:
        """Read, change and store the rules in one write transaction, the retriever's row
        locked (two owners' edits of two rules both stay), after checking them whole."""
        with self.store.write() as tx:
            record = retriever_or_404(tx, namespace, retriever_id)
            stored.lock(tx.conn, retriever_id)
            if record.backend.get("type") != LOCAL:
                raise invalid(
                    "backend",
                    "a local backend",
                    "Relevance rules apply to this server's own engines (a local backend); "
                    f"this retriever searches a {record.backend.get('type')} upstream, which "
                    "would not obey them. Set them on that upstream instead.",
                )
            old = stored.get(tx.conn, namespace, retriever_id)
            current = RelevanceRules.model_validate(old.rules) if old else RelevanceRules()
            rules = _with_ids(change(current))
            try:
                RelevanceRules.model_validate(rules.model_dump())  # (limits on the whole)
            except ValidationError as error:
                raise from_validation_error(error) from None
            compiled(rules, 0)
            published = tx.get_published(namespace, retriever_id)
            if published is not None:
                _check_boosts(rules, published.display_config.get("exposed_fields") or [])
            now = stamp(self.clock())
            dumped = rules.model_dump(mode="json", exclude_none=True)
            saved = stored.put(tx.conn, namespace, retriever_id, dumped, now)
        if published is not None:
            self.changed(published.public_name)
        return _response(saved)


def _with(old: RelevanceRules, kind: str, rule_id: str, rule: Any) -> RelevanceRules:
    """The rules with this one in place of the rule of that id, or added last."""
    rules = list(getattr(old, kind))
    at = next((n for n, each in enumerate(rules) if each.id == rule_id), None)
    if at is None:
        rules.append(rule)
    else:
        rules[at] = rule
    return old.model_copy(update={kind: rules})


def _with_ids(rules: RelevanceRules) -> RelevanceRules:
    """Each synonym set and curation with an id (one made up where it had none)."""
    return rules.model_copy(
        update={
            "synonyms": [_identified(rule, "syn_") for rule in rules.synonyms],
            "curations": [_identified(rule, "cur_") for rule in rules.curations],
        }
    )


def _identified(rule: Any, prefix: str) -> Any:
    return rule if rule.id else rule.model_copy(update={"id": crypto.new_id(prefix)})


def _check_boosts(rules: RelevanceRules, exposed: list[str]) -> None:
    for number, boost in enumerate(rules.boosts):
        if boost.field not in exposed:
            raise invalid(
                f"boosts[{number}].field",
                "an exposed field",
                f"boosts[{number}].field: {boost.field!r} is not an exposed field of this "
                "retriever's page; a hidden field never orders its results. Expose it first.",
            )


def _response(record: stored.RulesRecord) -> RelevanceResponse:
    return RelevanceResponse.model_validate(
        {
            **record.rules,
            "retriever_id": record.retriever_id,
            "version": record.version,
            "updated_at": record.updated_at,
        }
    )
