"""A retriever's relevance rules as the owner API reads and writes them, shaped like
Typesense's synonyms and overrides and Meilisearch's stop words:

    {"synonyms": [{"id": "seats", "synonyms": ["sofa", "couch", "settee"]},
                  {"id": "phones", "root": "smartphone", "synonyms": ["iphone", "android"]}],
     "curations": [{"id": "lamp-deal", "rule": {"query": "lamp", "match": "exact"},
                    "includes": [{"id": "p12", "position": 1}], "excludes": [{"id": "p40"}]}],
     "boosts": [{"field": "popularity", "weight": 1.0}],
     "stop_words": ["the", "a", "for"]}

Shapes, sizes and characters are checked here; what the engine makes of the words (each
term at least one word, a stop word one word) in `services/relevance.py`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.schemas.base import FieldName, StrictModel, matching

MAX_SYNONYM_RULES = 500
MAX_SYNONYM_TERMS = 20  # the words or phrases of one set
MAX_TERM_CHARS = 100
MAX_CURATIONS = 200
MAX_QUERY_CHARS = 200
MAX_INCLUDES = 50
MAX_EXCLUDES = 200
MAX_POSITION = 1000
MAX_DOCUMENT_ID_CHARS = 1000
MAX_BOOSTS = 5
MAX_WEIGHT = 100.0
MAX_STOP_WORDS = 1000
MAX_STOP_WORD_CHARS = 50

RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
RULE_ID_RULE = "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value: str) -> str:
    """Text without control characters (NUL, newlines, escapes): none is ever a word, and
    PostgreSQL cannot store a NUL."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (such as NUL or a newline)")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Term = Annotated[str, StringConstraints(max_length=MAX_TERM_CHARS), AfterValidator(_printable)]
StopWord = Annotated[
    str, StringConstraints(max_length=MAX_STOP_WORD_CHARS), AfterValidator(_printable)
]
QueryText = Annotated[
    str, StringConstraints(max_length=MAX_QUERY_CHARS), AfterValidator(_printable)
]
DocumentId = Annotated[
    str, StringConstraints(max_length=MAX_DOCUMENT_ID_CHARS), AfterValidator(_printable)
]
RuleId = Annotated[str, matching(RULE_ID, RULE_ID_RULE)]


class SynonymRule(StrictModel):
    """Multi-way (`synonyms` only: each stands for every other) or one-way (`root`: a query
    with it also finds its `synonyms`, not the other way round)."""

    id: RuleId | None = None
    synonyms: list[Term] = Field(min_length=1, max_length=MAX_SYNONYM_TERMS)
    root: Term | None = None

    @model_validator(mode="after")
    def _enough(self) -> SynonymRule:
        if self.root is None and len(self.synonyms) < 2:
            raise ValueError(
                "a multi-way set needs at least 2 synonyms (or a root, for a one-way one)"
            )
        return self


class CurationRule(StrictModel):
    query: QueryText
    match: Literal["exact", "contains"] = "exact"


class Pinned(StrictModel):
    id: DocumentId
    position: int = Field(ge=1, le=MAX_POSITION)


class Hidden(StrictModel):
    id: DocumentId


class Curation(StrictModel):
    """For a query (`exact`: the whole query; `contains`: these words within it, in order;
    both folded for case and spacing), documents pinned at positions and documents hidden."""

    id: RuleId | None = None
    rule: CurationRule
    includes: list[Pinned] = Field(default_factory=list, max_length=MAX_INCLUDES)
    excludes: list[Hidden] = Field(default_factory=list, max_length=MAX_EXCLUDES)

    @model_validator(mode="after")
    def _consistent(self) -> Curation:
        if not self.includes and not self.excludes:
            raise ValueError("a curation pins (includes) or hides (excludes) at least one document")
        pinned: set[str] = set()
        positions: set[int] = set()
        for pin in self.includes:
            if pin.id in pinned:
                raise ValueError(f"document {pin.id[:60]!r} is pinned twice")
            if pin.position in positions:
                raise ValueError(f"two documents are pinned at position {pin.position}")
            pinned.add(pin.id)
            positions.add(pin.position)
        for hidden in self.excludes:
            if hidden.id in pinned:
                raise ValueError(f"document {hidden.id[:60]!r} is both pinned and hidden")
        return self


class Boost(StrictModel):
    """Results with more in `field` (an exposed number field) rank higher: `weight` 1 counts
    the field as much as relevance, among the first results."""

    field: FieldName
    weight: float = Field(default=1.0, gt=0, le=MAX_WEIGHT, allow_inf_nan=False)


class RelevanceRules(StrictModel):
    """Every rule of a retriever: what `PUT /relevance` replaces and `GET` reads."""

    synonyms: list[SynonymRule] = Field(default_factory=list, max_length=MAX_SYNONYM_RULES)
    curations: list[Curation] = Field(default_factory=list, max_length=MAX_CURATIONS)
    boosts: list[Boost] = Field(default_factory=list, max_length=MAX_BOOSTS)
    stop_words: list[StopWord] = Field(default_factory=list, max_length=MAX_STOP_WORDS)

    @model_validator(mode="after")
    def _distinct(self) -> RelevanceRules:
        for kind, rules in (("synonyms", self.synonyms), ("curations", self.curations)):
            seen: set[str] = set()
            for rule in rules:
                if rule.id is not None and rule.id in seen:
                    raise ValueError(f"two {kind} rules have the id {rule.id!r}")
                if rule.id is not None:
                    seen.add(rule.id)
        fields = [boost.field for boost in self.boosts]
        if len(set(fields)) != len(fields):
            raise ValueError("a field is boosted twice")
        return self


class RelevanceResponse(RelevanceRules):
    """The rules as stored (each synonym set and curation with its id), and when they last
    changed."""

    retriever_id: str
    version: int = 0
    updated_at: str | None = None


class DeletedRule(StrictModel):
    id: str
    deleted: bool = True
