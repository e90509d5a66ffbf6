"""WordNet 3.0 as Debian's `wordnet-base` package installs it (/usr/share/wordnet/data.*),
read without any other library: one `Synset` a line of each data file.

A data line is `offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...] p_cnt
[pointers ...] [frames ...] | gloss`, w_cnt in hexadecimal (wndb(5WN)). A gloss is a definition
and then its examples, each in double quotes, separated by "; ". A word is written with
underscores for spaces, and an adjective may carry a syntactic marker: "galore(ip)".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WORDNET = Path("/usr/share/wordnet")
# The data files and the letter that starts each synset's id there (offsets are per file).
PARTS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
MARKER = re.compile(r"\((?:a|p|ip)\)$")
EXAMPLE = re.compile(r'"([^"]*)"')


@dataclass(frozen=True)
class Synset:
    id: str  # part-of-speech letter and byte offset, as "n02084071"
    lemmas: tuple[str, ...]  # as WordNet spells them, spaces for underscores: "hot dog"
    definition: str
    examples: tuple[str, ...]


def missing() -> str | None:
    """What is missing for the data to be read, if anything."""
    if all((WORDNET / f"data.{part}").is_file() for part in PARTS):
        return None
    return (
        f"WordNet's data files are not in {WORDNET}: "
        "install Debian's wordnet-base (scripts/system-packages wordnet-base)"
    )


def synsets(directory: Path = WORDNET) -> Iterator[Synset]:
    """Every synset of the four data files, nouns first, each file in its own order."""
    for part, letter in PARTS.items():
        with (directory / f"data.{part}").open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line[:1].isdigit():  # the licence at the top starts with spaces
                    yield parse(line, letter)


def parse(line: str, letter: str) -> Synset:
    """One data line, `letter` being its file's part of speech."""
    head, _, gloss = line.partition(" | ")
    fields = head.split()
    count = int(fields[3], 16)
    words = fields[4 : 4 + 2 * count : 2]
    lemmas = tuple(dict.fromkeys(MARKER.sub("", word).replace("_", " ") for word in words))
    definition, examples = split_gloss(gloss.strip())
    return Synset(f"{letter}{fields[0]}", lemmas, definition, examples)


def split_gloss(gloss: str) -> tuple[str, tuple[str, ...]]:
    """A gloss's definition and its examples: the text before the first quote, and each
    quoted passage after it."""
    quote = gloss.find('"')
    if quote < 0:
        return gloss.strip(" ;"), ()
    examples = tuple(text.strip() for text in EXAMPLE.findall(gloss[quote:]) if text.strip())
    return gloss[:quote].strip(" ;"), examples
