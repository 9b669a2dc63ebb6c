"""Small text tools for the offline engine: words, a light stemmer, concept matching, keywords."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#']*|\d+(?:[.,]\d+)?%?")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)|\n+")

_SUFFIXES = (
    "izations", "isations", "ization", "isation", "ations", "ation", "izing", "ising", "ized", "ised",
    "ements", "ement", "ments", "ment", "ness", "ings", "ing", "ities", "ity", "ated", "ates", "ate",
    "ies", "ied", "ize", "ise", "ers", "er", "ed", "es", "ly", "al", "s",
)  # fmt: skip

STOPWORDS = frozenset(
    """a an and are as at be been but by can could do does did for from had has have how i if in into is it
    its me my of on or our so than that the their them then there these they this those to up us was we were
    what when where which while who why will with would you your yours about any all also just more most
    such some very much many own other each both few only same too s t don't i'm it's you've you'll
    use used using one two way get got make made like""".split()
)
QUESTION_WORDS = frozenset(
    """tell describe explain walk through give example time real work worked working code project projects
    keep keeps kept decide decision choose learned learn mistakes mistake approach handle handled handling
    find fix reach rely avoid structure without quickly caught out day-to-day apply applies applied
    production-ready production seen have happens happened only take takes now ever still works want
    write""".split()
)


def words(text: str) -> list[str]:
    """Word tokens, lower-cased; identifiers in code split on ``_`` and camelCase."""
    return [w.lower() for w in _WORD.findall(text)]


def code_words(code: str) -> list[str]:
    return words(_CAMEL.sub(" ", code.replace("_", " ")))


def stem(word: str) -> str:
    """A light suffix-stripping stemmer ("indexing", "indexes" → "index"); good enough for overlap."""
    word = word.lower().strip("'")
    if len(word) <= 4:
        return word.rstrip("s") if len(word) == 4 and word.endswith("s") and not word.endswith("ss") else word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                continue
            word = word[: -len(suffix)] + ("i" if suffix in ("ies", "ied") else "")
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word[:-1] + "i" if word.endswith("y") else word


def stems(tokens: Iterable[str]) -> set[str]:
    return {stem(token) for token in tokens}


def _stem_in(target: str, pool: set[str]) -> bool:
    """Exact stem match, or one stem a prefix of the other ("overfit" / "overfitt", "trad" / "tradeoff")."""
    if target in pool:
        return True
    if len(target) < 4:
        return False
    return any(
        len(s) >= 5 and (s.startswith(target) or (len(target) >= 5 and target.startswith(s))) for s in pool
    )


def concept_in(concept: str, pool: set[str]) -> bool:
    """Whether every content word of ``concept`` (stemmed) occurs in ``pool``; 2 of 3+ words suffice.

    A multi-word concept also matches its words written together ("trade-offs" / "tradeoffs").
    """
    tokens = [w for w in words(concept) if w not in STOPWORDS] or words(concept)
    if not tokens:
        return False
    parts = [stem(w) for w in tokens]
    found = sum(_stem_in(part, pool) for part in parts)
    if found == len(parts) or (len(parts) >= 3 and found >= len(parts) - 1):
        return True
    return len(parts) > 1 and _stem_in(stem("".join(tokens)), pool)


def keywords(question: str) -> list[str]:
    """The content words of a question, in order, without stopwords and generic question words."""
    seen: dict[str, str] = {}
    for token in words(question):
        if token in STOPWORDS or token in QUESTION_WORDS or len(token) < 3 or token.isdigit():
            continue
        seen.setdefault(stem(token), token)
    return list(seen.values())


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if len(words(part)) >= 2]


def one_line(text: str, limit: int = 1000) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
