"""The console's relevance forms: what each form sends, read into the API's own models
(`SynonymRule`, `Curation`, `Boost`, the stop words) and changed through the calls the owner
API makes, so that every check is the same; each error is told beside its form field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app import crypto
from app.errors import InvalidInput, from_validation_error, invalid
from app.schemas.relevance import MAX_INCLUDES, Boost, Curation, RelevanceRules, SynonymRule
from app.services.relevance import RelevanceRulesService

PIN_ROWS = 4  # rows for pinned documents a new curation's form shows
MAX_PIN_ROWS = MAX_INCLUDES  # rows a form may send (a curation being edited shows all its pins)
KINDS = ("synonyms", "curations", "boosts", "stop-words")
_TERMS = re.compile(r"[,\n]")
_WORDS = re.compile(r"[,\s]+")
_RULE = re.compile(r"^(?:synonyms|curations|boosts)\[\d+\]\.?")
_POSITION = re.compile(r"[0-9]{1,4}")
_PIN = re.compile(r"^includes\[(\d+)\]\.(id|position)")


@dataclass(frozen=True)
class Sent:
    """What one form sent (text as typed, shown back with its errors), and which form."""

    kind: str
    values: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def pin_rows(self) -> list[int]:
        """The rows of a curation's form that name a pinned document or a position."""
        return [
            row
            for row in range(MAX_PIN_ROWS)
            if self.get(f"pin_id_{row}").strip() or self.get(f"pin_position_{row}").strip()
        ]


def pin_rows(sent: Sent) -> int:
    """How many pin rows a curation's form shows: the last one filled in, and at least
    `PIN_ROWS`."""
    filled = [
        r + 1
        for r in range(MAX_PIN_ROWS)
        if sent.get(f"pin_id_{r}") or sent.get(f"pin_position_{r}")
    ]
    return max([PIN_ROWS, *filled])


def terms_of(text: str) -> list[str]:
    """Synonyms as typed: one a line, or separated by commas."""
    return [term.strip() for term in _TERMS.split(text) if term.strip()]


def words_of(text: str) -> list[str]:
    """Stop words as typed: separated by spaces, commas or lines."""
    return [word for word in _WORDS.split(text) if word]


class ConsoleRelevance:
    def __init__(self, rules: RelevanceRulesService) -> None:
        self.rules = rules

    def change(self, namespace: str, retriever_id: str, sent: Sent) -> None:
        """Apply one form: add or replace a rule, delete one, or set the stop words. Raises
        `InvalidInput` whose details name the form's fields (see `form_errors`)."""
        act: dict[str, Callable[[str, str, Sent], None]] = {
            "synonyms": self._synonym,
            "synonyms-delete": self._delete_synonym,
            "curations": self._curation,
            "curations-delete": self._delete_curation,
            "boosts": self._boost,
            "boosts-delete": self._delete_boost,
            "stop-words": self._stop_words,
        }
        act[sent.kind](namespace, retriever_id, sent)

    def _synonym(self, namespace: str, retriever_id: str, sent: Sent) -> None:
        body: dict[str, Any] = {"synonyms": terms_of(sent.get("terms"))}
        if sent.get("direction") == "one-way":
            if not sent.get("root").strip():
                raise invalid("synonyms[0].root", "Type the word a query holds to find these.")
            body["root"] = sent.get("root").strip()
        rule = _model(SynonymRule, body, "synonyms")
        rule_id = sent.get("rule_id") or crypto.new_id("syn_")
        self.rules.put_synonym(namespace, retriever_id, rule_id, rule)

    def _curation(self, namespace: str, retriever_id: str, sent: Sent) -> None:
        includes = []
        for row in sent.pin_rows():
            document, position = sent.get(f"pin_id_{row}"), sent.get(f"pin_position_{row}")
            if not _POSITION.fullmatch(position.strip()):
                raise invalid(f"pin_position_{row}", "A position is a whole number from 1.")
            includes.append({"id": document.strip(), "position": int(position.strip())})
        body = {
            "rule": {"query": sent.get("query").strip(), "match": sent.get("match") or "exact"},
            "includes": includes,
            "excludes": [
                {"id": line.strip()} for line in sent.get("hidden").splitlines() if line.strip()
            ],
        }
        rule = _model(Curation, body, "curations")
        rule_id = sent.get("rule_id") or crypto.new_id("cur_")
        self.rules.put_curation(namespace, retriever_id, rule_id, rule)

    def _boost(self, namespace: str, retriever_id: str, sent: Sent) -> None:
        try:
            weight = float(sent.get("weight") or "1")
        except ValueError:
            raise invalid("boosts[0].weight", "A weight is a number, such as 1 or 0.5.") from None
        boost = _model(Boost, {"field": sent.get("field").strip(), "weight": weight}, "boosts")

        def put(old: RelevanceRules) -> RelevanceRules:
            kept = [each for each in old.boosts if each.field != boost.field]
            return old.model_copy(update={"boosts": [*kept, boost]})

        self.rules.update(namespace, retriever_id, put)

    def _stop_words(self, namespace: str, retriever_id: str, sent: Sent) -> None:
        words = list(dict.fromkeys(words_of(sent.get("words"))))

        def put(old: RelevanceRules) -> RelevanceRules:
            return old.model_copy(update={"stop_words": words})

        self.rules.update(namespace, retriever_id, put)

    def _delete_synonym(self, namespace: str, retriever_id: str, sent: Sent) -> None:
        self.rules.delete_rule(namespace, retriever_id, "synonyms", sent.get("rule_id"))

    def _delete_curation(self, namespace: str, retriever_id: str, sent: Sent) -> None:
        self.rules.delete_rule(namespace, retriever_id, "curations", sent.get("rule_id"))

    def _delete_boost(self, namespace: str, retriever_id: str, sent: Sent) -> None:
        def without(old: RelevanceRules) -> RelevanceRules:
            kept = [each for each in old.boosts if each.field != sent.get("field")]
            return old.model_copy(update={"boosts": kept})

        self.rules.update(namespace, retriever_id, without)


def _model(model: Any, body: dict[str, Any], kind: str) -> Any:
    """`body` read by the API's model of one rule, its errors located as the whole set's
    first rule (`synonyms[0].root`), as the set's own checks locate theirs."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise from_validation_error(error, (kind, 0)) from None


def form_errors(error: InvalidInput, sent: Sent) -> dict[str, str]:
    """An `InvalidInput`'s messages by the field of the form they belong beside (`form` for
    the rest, such as a limit on the whole set)."""
    # The n-th pinned document is on the n-th row that names one (empty rows are skipped).
    rows = [
        r
        for r in range(MAX_PIN_ROWS)
        if sent.get(f"pin_id_{r}").strip() or sent.get(f"pin_position_{r}").strip()
    ]
    found: dict[str, str] = {}
    items = error.details.get("errors", [])
    for item in items:
        path = str(item.get("field", ""))
        message = str(item.get("message", error.message))
        if len(items) == 1 and error.message.startswith(f"{path}: "):
            message = error.message.removeprefix(f"{path}: ")  # the long form, with the value
        found.setdefault(_field(sent.kind, path, rows), message)
    return found or {"form": error.message}


def _field(kind: str, path: str, rows: list[int]) -> str:
    if path.startswith("pin_"):
        return path
    if kind == "stop-words":
        return "words" if path.startswith("stop_words") else "form"
    rule = _RULE.match(path)
    if rule is None:
        return "form"
    rest = path[rule.end() :]
    if rest.startswith("id"):
        return "form"
    if kind == "synonyms":
        return "root" if rest.startswith("root") else "terms"
    if kind == "boosts":
        return "weight" if rest.startswith("weight") else "field"
    pin = _PIN.match(rest)
    if pin and int(pin[1]) < len(rows):
        return f"pin_{pin[2]}_{rows[int(pin[1])]}"
    if rest.startswith("rule.match"):
        return "match"
    if rest.startswith("rule"):
        return "query"
    return "hidden" if rest.startswith("excludes") else "pins"
