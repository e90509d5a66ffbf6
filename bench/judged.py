"""A labelled set from WordNet (bench/wordnet.py): documents, queries and their judgements,
all taken mechanically from WordNet's own data, so that no one here wrote a query or chose
what answers it. bench/relevance.py says how and why; this module does it.

Words are compared as the engine indexes them (`fold`: split on anything not a letter or
digit, lower-cased, folded to ASCII), so that "not in the document" means what the engine
would see.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.adapters.engine.index import fold
from bench.wordnet import Synset

# The synset a lemma query was drawn from, and any other synset holding the same lemma.
SOURCE_GRADE = 2
OTHER_SENSE_GRADE = 1
MIN_WORD_LETTERS = 3  # shorter words ("a", "of", "vitamin A"'s "a") say too little alone
OWN_WORDS = (2, 4)  # how many of its rarest words an own-words query takes, at least and most
# Function words, never taken as a document's own words: a query of them would be no one's.
FUNCTION_WORDS = """
    about above across after again against all almost along also although always among and
    another any are around because been before being below between both but can cannot could
    did does doing down during each either else etc even ever every for from further had has
    have having her here hers herself him himself his how however into its itself just least
    less many more most much must near neither nor not now off often once one only onto other
    others our ours out over own per rather same several she should since some something
    someone somewhat such than that the their theirs them themselves then there these they
    this those though through thus too toward towards under until upon usually very via was
    way well were what when where whether which while who whom whose why will with within
    without would yet you your especially used using use
"""
STOPWORDS = frozenset(FUNCTION_WORDS.split())


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Judged:
    """A query and the grade of each document that answers it (the rest are 0)."""

    text: str
    grades: dict[str, int]
    source: str  # the synset it was drawn from


def document(synset: Synset) -> Document:
    """A synset as a document: its definition's first clause as the title, its definition and
    examples as the text. Never its lemmas: those are what a lemma query asks with."""
    title = synset.definition.split(";")[0].strip()
    text = "; ".join([synset.definition, *(f'"{example}"' for example in synset.examples)])
    return Document(synset.id, title, text)


def sample(synsets: Iterable[Synset], count: int, seed: int) -> list[Synset]:
    """`count` synsets drawn without replacement, the same for the same seed and data."""
    ordered = sorted(synsets, key=lambda synset: synset.id)
    return random.Random(seed).sample(ordered, min(count, len(ordered)))


def words_of(document: Document) -> set[str]:
    return set(fold(f"{document.title} {document.text}"))


def key(lemma: str) -> str:
    """A lemma as the words it is made of: "Canis familiaris" and "canis-familiaris" alike."""
    return " ".join(fold(lemma))


def unlike(lemma: str, words: set[str]) -> bool:
    """Whether no word of `lemma` is in `words`, nor the start of one ("dog" of "dogs"): the
    engine finds a query's last word as a prefix, so a word that only starts one is a match."""
    parts = fold(lemma)
    if not parts or max(len(part) for part in parts) < MIN_WORD_LETTERS:
        return False
    return not any(word.startswith(part) for part in parts for word in words)


def lemma_queries(synsets: Sequence[Synset], count: int, seed: int) -> list[Judged]:
    """Set (a), worded unlike the documents: for synsets in a seeded order, one of its lemmas
    (seeded choice) that `unlike` its own document, each lemma once. Grades: SOURCE_GRADE for
    the synset drawn from, OTHER_SENSE_GRADE for every other synset of the collection holding
    that lemma (`key`)."""
    holding: dict[str, list[str]] = defaultdict(list)
    for synset in synsets:
        for lemma in dict.fromkeys(key(lemma) for lemma in synset.lemmas):
            holding[lemma].append(synset.id)
    rng = random.Random(seed)
    order = list(synsets)
    rng.shuffle(order)
    queries: list[Judged] = []
    taken: set[str] = set()
    for synset in order:
        if len(queries) >= count:
            break
        words = words_of(document(synset))
        fitting = [lemma for lemma in synset.lemmas if unlike(lemma, words)]
        fitting = [lemma for lemma in fitting if key(lemma) not in taken]
        if not fitting:
            continue
        lemma = rng.choice(fitting)
        taken.add(key(lemma))
        grades = dict.fromkeys(holding[key(lemma)], OTHER_SENSE_GRADE)
        grades[synset.id] = SOURCE_GRADE
        queries.append(Judged(lemma, grades, synset.id))
    return queries


def content_words(text: str) -> list[str]:
    """A text's words that carry meaning, each once, in order."""
    return list(
        dict.fromkeys(
            word
            for word in fold(text)
            if word.isalpha() and len(word) >= MIN_WORD_LETTERS and word not in STOPWORDS
        )
    )


def own_word_queries(synsets: Sequence[Synset], count: int, seed: int) -> list[Judged]:
    """Set (b), the document's own words: for synsets in a seeded order, its definition's
    rarest content words (fewest documents of the collection holding them; the earlier on a
    tie), as many as a seeded draw from OWN_WORDS, in the definition's order. Graded
    SOURCE_GRADE for that synset alone. A definition with fewer content words than the
    draw's least is passed over, and a query already taken."""
    held: Counter[str] = Counter()
    for synset in synsets:
        held.update(words_of(document(synset)))
    rng = random.Random(seed)
    order = list(synsets)
    rng.shuffle(order)
    queries: list[Judged] = []
    taken: set[str] = set()
    for synset in order:
        if len(queries) >= count:
            break
        words = content_words(synset.definition)
        wanted = rng.randint(*OWN_WORDS)
        if len(words) < OWN_WORDS[0]:
            continue
        rarest = set(sorted(words, key=lambda word: (held[word], words.index(word)))[:wanted])
        text = " ".join(word for word in words if word in rarest)
        if text in taken:
            continue
        taken.add(text)
        queries.append(Judged(text, {synset.id: SOURCE_GRADE}, synset.id))
    return queries
