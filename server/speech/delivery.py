"""Delivery analysis of a spoken answer, from the transcript's word timings (no I/O, no models).

What it measures: speaking rate (words per minute over speech time), pauses (gaps between words of at
least ``PAUSE_S``), filler words, and the recogniser's mean word confidence. From those it derives two
labels for seed 001's fields, and says how:

- ``confidence`` (of delivery, not of the answer's truth): ``high`` when the pace is conversational
  (110–170 wpm), fillers are under 3 per 100 words and long pauses are rare; ``low`` when two or more of
  those fail; ``medium`` otherwise. A nervous, hesitant delivery shows up exactly there.
- ``emotion``: the sentiment of the words (a small positive/negative lexicon, negation-aware), reported as
  ``positive``, ``neutral`` or ``negative``. It is NOT vocal or facial emotion recognition: Viva has no
  validated model for that, and a label it cannot defend would be worse than this narrower one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from server.speech.stt import Word

PAUSE_S = 0.7
LONG_PAUSE_S = 2.0
FILLERS = (
    "um",
    "uh",
    "erm",
    "er",
    "hmm",
    "like",
    "basically",
    "actually",
    "literally",
    "you know",
    "i mean",
    "sort of",
    "kind of",
)
POSITIVE = {
    "enjoy",
    "enjoyed",
    "love",
    "loved",
    "great",
    "excited",
    "proud",
    "happy",
    "succeeded",
    "success",
    "improved",
    "learned",
    "glad",
    "good",
    "excellent",
    "achieved",
    "passionate",
    "fun",
    "win",
    "won",
}
NEGATIVE = {
    "hate",
    "hated",
    "bad",
    "terrible",
    "failed",
    "failure",
    "angry",
    "frustrated",
    "annoying",
    "awful",
    "worst",
    "sad",
    "difficult",
    "struggled",
    "problem",
    "boring",
    "stressful",
    "quit",
}
NEGATIONS = {"not", "never", "no", "didn't", "don't", "wasn't", "isn't", "can't", "couldn't", "won't"}
_TOKEN = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class Delivery:
    words: int
    speech_s: float
    words_per_minute: float | None
    pauses: int
    long_pauses: int
    longest_pause_s: float
    fillers: int
    fillers_per_100_words: float
    asr_confidence: float | None
    confidence: str
    emotion: str
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def analyse(text: str, words: Sequence[Word], asr_confidence: float | None) -> Delivery:
    tokens = _TOKEN.findall(text.lower())
    count = len(tokens)
    speech_s = (words[-1].end - words[0].start) if len(words) >= 2 else 0.0
    wpm = round(count / speech_s * 60, 1) if speech_s > 1 else None
    gaps = [b.start - a.end for a, b in zip(words, words[1:], strict=False)]
    pauses = [g for g in gaps if g >= PAUSE_S]
    fillers = _count_fillers(" ".join(tokens))
    per_100 = round(fillers * 100 / count, 1) if count else 0.0
    long_pauses = sum(g >= LONG_PAUSE_S for g in pauses)
    confidence, notes = _confidence(wpm, per_100, long_pauses, count)
    return Delivery(
        words=count,
        speech_s=round(speech_s, 2),
        words_per_minute=wpm,
        pauses=len(pauses),
        long_pauses=long_pauses,
        longest_pause_s=round(max(pauses, default=0.0), 2),
        fillers=fillers,
        fillers_per_100_words=per_100,
        asr_confidence=asr_confidence,
        confidence=confidence,
        emotion=sentiment(tokens),
        notes=notes,
    )


def _count_fillers(joined: str) -> int:
    return sum(len(re.findall(rf"\b{re.escape(filler)}\b", joined)) for filler in FILLERS)


def _confidence(
    wpm: float | None, fillers_per_100: float, long_pauses: int, words: int
) -> tuple[str, tuple[str, ...]]:
    if words < 5:
        return "low", ("too little speech to judge delivery",)
    notes = []
    if wpm is not None and not 110 <= wpm <= 170:
        notes.append(f"pace {wpm:.0f} wpm is outside the conversational 110–170")
    if fillers_per_100 >= 3:
        notes.append(f"{fillers_per_100:.1f} filler words per 100 words")
    if long_pauses >= 2:
        notes.append(f"{long_pauses} pauses of {LONG_PAUSE_S:.0f} s or more")
    label = "high" if not notes else ("medium" if len(notes) == 1 else "low")
    return label, tuple(notes) or ("steady pace, few fillers, few long pauses",)


def sentiment(tokens: Sequence[str]) -> str:
    """Lexicon sentiment with one-word negation: ``positive``, ``neutral`` or ``negative``."""
    score = 0
    for index, token in enumerate(tokens):
        polarity = 1 if token in POSITIVE else -1 if token in NEGATIVE else 0
        if polarity and index and tokens[index - 1] in NEGATIONS:
            polarity = -polarity
        score += polarity
    return "positive" if score >= 2 else "negative" if score <= -2 else "neutral"
