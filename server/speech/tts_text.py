"""Text for speech: normalise it (the cache key depends on it) and split it into sentences.

Each sentence becomes one :class:`~server.speech.tts_base.AudioChunk`, so the first sentence can play while
the rest is still being synthesised. Very long sentences are cut at a clause boundary to keep the time to
first audio bounded.
"""

from __future__ import annotations

import re

MAX_SENTENCE_CHARS = 240
MIN_CLAUSE_CHARS = 40

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
_SPACE = re.compile(r"\s+")
# A sentence ends at . ! ? or … (optionally followed by closing quotes/brackets) and then whitespace.
_END = re.compile(r"[.!?\u2026]+[\"'\u2019\u201d)\]]*\s+")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e inc ltd co corp no approx dept est fig jan feb mar apr jun "
    "jul aug sep sept oct nov dec".split()
)
_CLAUSE = re.compile(r"[,;:\u2014]\s")


def normalize_text(text: str) -> str:
    """Drop control characters and collapse whitespace (newlines become sentence breaks)."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (already normalised or not), in order, none empty, none over the cap."""
    sentences: list[str] = []
    for line in normalize_text(text).split("\n"):
        for sentence in _split_line(line):
            sentences.extend(_cap(sentence))
    return sentences


def _split_line(line: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for match in _END.finditer(line):
        if _is_abbreviation(line[start : match.start() + 1]):
            continue
        parts.append(line[start : match.end()].strip())
        start = match.end()
    parts.append(line[start:].strip())
    return [part for part in parts if part]


def _is_abbreviation(candidate: str) -> bool:
    """True when the text before the full stop ends in a known abbreviation or a single initial."""
    if not candidate.endswith("."):
        return False
    words = candidate[:-1].split()
    if not words:
        return False
    last = words[-1].lower().lstrip("(\"'")
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha() and len(words) > 1)


def _cap(sentence: str) -> list[str]:
    """Cut a sentence longer than :data:`MAX_SENTENCE_CHARS` at the last clause break (or space) that fits."""
    pieces: list[str] = []
    while len(sentence) > MAX_SENTENCE_CHARS:
        head = sentence[:MAX_SENTENCE_CHARS]
        breaks = [m.end() for m in _CLAUSE.finditer(head) if m.end() >= MIN_CLAUSE_CHARS]
        cut = breaks[-1] if breaks else head.rfind(" ") + 1
        if cut <= 0:
            cut = MAX_SENTENCE_CHARS
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    if sentence:
        pieces.append(sentence)
    return pieces
