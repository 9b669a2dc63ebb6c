"""The offline rubric: measure an answer's relevance, depth, structure, clarity and conduct, then score it.

``measure`` reads the text and returns plain numbers and the phrases that drove them; ``grade`` turns those
into the three 0–100 scores, one line of feedback and the evidence list. Nothing here is learned: every
number can be traced to a line of evidence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from server.ai.bank import concepts_for
from server.ai.base import ScoreRequest
from server.ai.text import code_words, concept_in, keywords, one_line, sentences, stem, stems, words


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?:{p})" for p in patterns), re.IGNORECASE)


SPECIFICS = _rx(
    r"\bfor (?:example|instance)\b",
    r"\be\.g\.",
    r"\bsuch as\b",
    r"\bin (?:my|our) (?:last|previous|current) (?:role|job|team|project|company)\b",
    r"\bin production\b",
    r"\b(?:I|we) (?:built|implemented|designed|wrote|migrated|reduced|improved|added|fixed|measured|set up"
    r"|introduced|created|deployed|shipped|automated|optimi[sz]ed|refactored|led|debugged|profiled"
    r"|replaced|moved|tuned|cut|scaled|rewrote|benchmarked|monitored)\b",
)
NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:%|ms|s|x|k|m|gb|mb|tb|rps|qps|users|seconds|minutes|hours)?\b")
CONNECTIVES = (
    "first", "firstly", "second", "secondly", "then", "next", "because", "so", "therefore", "however",
    "finally", "also", "after", "before", "as a result", "which means", "in addition", "although",
    "instead", "overall", "since", "for example", "for instance", "otherwise", "meanwhile", "lastly",
)  # fmt: skip
STAR = {
    "situation": _rx(
        r"\bsituation\b", r"\bcontext\b", r"\bat my (?:last|previous)\b", r"\bwhen I was\b", r"\bwe were\b",
        r"\bthere was\b", r"\bproject\b",
    ),
    "task": _rx(r"\btask\b", r"\bgoal\b", r"\bresponsible for\b", r"\b(?:needed|had) to\b", r"\bmy job\b"),
    "action": _rx(
        r"\bI (?:decided|proposed|talked|organi[sz]ed|suggested|set up|spoke|wrote|built|led|scheduled|asked"
        r"|took|started|changed|split|prioriti[sz]ed)\b",
        r"\baction\b",
        r"\bso I\b",
    ),
    "result": _rx(
        r"\bresult(?:ed|s)?\b", r"\boutcome\b", r"\bin the end\b", r"\bwe (?:delivered|shipped|met)\b",
        r"\blearn(?:ed|t)\b", r"\bimproved\b", r"\bsucceeded\b", r"\bended up\b",
    ),
}  # fmt: skip
FILLERS = _rx(
    r"\bu+m+\b",
    r"\bu+h+\b",
    r"\berm+\b",
    r"\bhmm+\b",
    r"\byou know\b",
    r"\bI mean\b",
    r"\bkind of\b",
    r"\bsort of\b",
    r"\bbasically\b",
    r"\bliterally\b",
    r"\blike\s*,",
    r",\s*like\b(?!\s*,)",
)
OWNERSHIP = _rx(
    r"\bI (?:built|led|owned|decided|designed|implemented|drove|initiated|proposed|fixed|took|made sure"
    r"|was responsible|delivered|shipped|wrote|created)\b",
    r"\btook (?:ownership|responsibility)\b",
    r"\bmy responsibility\b",
)
COLLABORATION = _rx(
    r"\bteam(?:mates?|s)?\b",
    r"\bwe\b",
    r"\btogether\b",
    r"\bcolleagues?\b",
    r"\bstakeholders?\b",
    r"\bpair(?:ed|ing)?\b",
    r"\bcode reviews?\b",
    r"\bmentor(?:ed|ing)?\b",
    r"\bhelped\b",
    r"\bcollaborat\w*",
    r"\bcross-functional\b",
    r"\bcommunicat\w*",
    r"\baligned\b",
    r"\blistened\b",
)
POSITIVE = _rx(
    r"\blearn(?:ed|t|ing)\b",
    r"\bimproved?\b",
    r"\benjoy(?:ed)?\b",
    r"\bexcit(?:ed|ing)\b",
    r"\bgrew\b",
    r"\bopportunity\b",
    r"\bproud\b",
    r"\bsuccessful(?:ly)?\b",
    r"\bcurious\b",
    r"\bglad\b",
)
UNPROFESSIONAL = _rx(
    r"\bf+u+c+k\w*",
    r"\bshit\w*",
    r"\bcrap\b",
    r"\bdamn\b",
    r"\bstupid\b",
    r"\bidiots?\b",
    r"\bsucks?\b",
    r"\bnot my fault\b",
    r"\btheir fault\b",
    r"\buseless\b",
)
EVASIVE = _rx(
    r"\bI (?:don'?t|do not) know\b",
    r"\bno idea\b",
    r"\bskip (?:this|that|it)(?: one| question)?\b",
    r"^\s*skip\.?\s*$",
    r"^\s*pass\.?\s*$",
    r"\bnext question\b",
    r"\bI'?m not sure\b",
    r"\bcan'?t answer\b",
    r"\bcannot answer\b",
    r"\bno clue\b",
    r"\bdunno\b",
    r"^\s*not applicable\.?\s*$",
    r"^\s*n/?a\.?\s*$",
    r"\bprefer not to (?:answer|say)\b",
)
INJECTION = _rx(
    r"\bignore (?:all |any )?(?:the |your )?(?:previous|prior|above|earlier|preceding) "
    r"(?:instructions?|prompts?|rules|messages?)\b",
    r"\bdisregard (?:all |any )?(?:the |your )?(?:previous|prior|above|earlier) \w+",
    r"\b(?:give|award|grant) (?:me|this answer|the candidate) (?:a )?(?:score of |full |perfect )?"
    r"(?:100|marks|score)\b",
    r"\bscore (?:me|this|it|my answer) (?:as |at |with )?(?:a )?100\b",
    r"\b(?:full|maximum|perfect) (?:marks|score)\b",
    r"\byou are now\b",
    r"\bnew instructions?\b",
)
CODE_KEYWORDS = frozenset(
    "def return class function const let var async await select from where join import for while if else"
    " try except catch throw raise lambda yield public private static void int string map filter".split()
)
BEHAVIOURAL = frozenset({"behavioral", "behavioural"})
MAX_TEXT_CHARS = 50_000  # of an answer or its code that the rubric reads


def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    seen: dict[str, str] = {}
    for match in pattern.finditer(text):
        phrase = " ".join(match.group(0).split())
        seen.setdefault(phrase.lower(), phrase)
    return list(seen.values())


@dataclass
class Measures:
    """Plain facts about one answer; ``grade`` turns them into scores."""

    word_count: int = 0
    concepts: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    keyword_hits: list[str] = field(default_factory=list)
    specifics: list[str] = field(default_factory=list)
    numbers: int = 0
    sentence_count: int = 0
    connectives: list[str] = field(default_factory=list)
    star: list[str] = field(default_factory=list)
    fillers: int = 0
    long_sentences: int = 0
    repeated: int = 0
    ownership: list[str] = field(default_factory=list)
    collaboration: list[str] = field(default_factory=list)
    positive: list[str] = field(default_factory=list)
    unprofessional: list[str] = field(default_factory=list)
    evasive: list[str] = field(default_factory=list)
    injection: bool = False
    code_lines: int = 0
    code_hits: list[str] = field(default_factory=list)
    behavioural: bool = False

    @property
    def missed(self) -> list[str]:
        return [c for c in self.concepts if c not in self.matched]

    @property
    def empty(self) -> bool:
        return self.word_count == 0 and self.code_lines == 0


def measure(request: ScoreRequest) -> Measures:
    """Read the answer (and code) against the question; no scoring decisions here."""
    text = request.answer_text[:MAX_TEXT_CHARS].strip()
    code = (request.code or "")[:MAX_TEXT_CHARS].strip()
    tokens = words(text)
    code_tokens = code_words(code)
    pool = stems(tokens) | stems(code_tokens)
    m = Measures(word_count=len(tokens), behavioural=request.category.lower() in BEHAVIOURAL)
    m.concepts = _dedupe(request.key_concepts or concepts_for(request.question_text))[:12]
    m.matched = [c for c in m.concepts if concept_in(c, pool)]
    m.keywords = keywords(request.question_text)[:12]
    m.keyword_hits = [k for k in m.keywords if concept_in(k, pool)]
    _measure_form(m, text, tokens)
    _measure_conduct(m, text)
    _measure_code(m, code, code_tokens)
    return m


def _measure_form(m: Measures, text: str, tokens: list[str]) -> None:
    m.specifics = _found(SPECIFICS, text)
    m.numbers = len(NUMBER.findall(text))
    parts = sentences(text)
    m.sentence_count = len(parts)
    m.long_sentences = sum(len(words(part)) > 40 for part in parts)
    lowered = f" {' '.join(tokens)} "
    m.connectives = [c for c in CONNECTIVES if f" {c} " in lowered]
    m.star = [name for name, pattern in STAR.items() if pattern.search(text)] if m.behavioural else []
    m.fillers = len(FILLERS.findall(text))
    trigrams = Counter(zip(tokens, tokens[1:], tokens[2:], strict=False))
    m.repeated = sum(count - 1 for count in trigrams.values() if count >= 3)


def _measure_conduct(m: Measures, text: str) -> None:
    m.ownership = _found(OWNERSHIP, text)
    m.collaboration = _found(COLLABORATION, text)
    m.positive = _found(POSITIVE, text)
    m.unprofessional = _found(UNPROFESSIONAL, text)
    m.evasive = _found(EVASIVE, text)
    m.injection = bool(INJECTION.search(text))


def _measure_code(m: Measures, code: str, code_tokens: list[str]) -> None:
    if not code:
        return
    m.code_lines = sum(1 for line in code.splitlines() if line.strip())
    targets = {stem(w) for concept in m.concepts + m.keywords for w in words(concept)}
    hits = {t for t in code_tokens if stem(t) in targets and len(t) > 2}
    hits |= {t for t in code_tokens if t in CODE_KEYWORDS}
    m.code_hits = sorted(hits)[:8]


def _dedupe(items: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        cleaned = " ".join(item.split())
        if cleaned:
            seen.setdefault(cleaned.lower(), cleaned)
    return list(seen.values())


@dataclass(frozen=True)
class Parts:
    """The rubric items, each 0..1."""

    relevance: float
    depth: float
    structure: float
    clarity: float
    conduct: float


def _share(hits: int, total: int, target_share: float) -> float:
    return min(1.0, hits / max(1, math.ceil(total * target_share))) if total else 0.0


def parts(m: Measures) -> Parts:
    if m.concepts:
        relevance = 0.7 * _share(len(m.matched), len(m.concepts), 0.6)
        relevance += 0.3 * _share(len(m.keyword_hits), len(m.keywords), 0.5)
    elif m.keywords:
        relevance = _share(len(m.keyword_hits), len(m.keywords), 0.5)
    else:
        relevance = 0.5 if m.word_count >= 20 else 0.25
    length = 1 - math.exp(-m.word_count / 70)
    specific = min(1.0, (len(m.specifics) + min(m.numbers, 2)) / 3)
    code = min(1.0, m.code_lines / 12) * (1.0 if m.code_hits else 0.3) if m.code_lines else 0.0
    depth = min(1.0, 0.65 * length + 0.35 * specific + 0.35 * code)
    return Parts(relevance, depth, _structure(m), _clarity(m), _conduct(m))


def _structure(m: Measures) -> float:
    base = 0.4 * min(1.0, m.sentence_count / 4) + 0.6 * min(1.0, len(m.connectives) / 4)
    return 0.5 * base + 0.5 * len(m.star) / 4 if m.behavioural else base


def _clarity(m: Measures) -> float:
    if m.word_count == 0:
        return 0.0
    penalty = min(0.5, 5 * m.fillers / m.word_count)
    penalty += min(0.3, 0.1 * m.long_sentences) + min(0.3, 0.05 * m.repeated)
    return max(0.0, 1 - penalty) * min(1.0, m.word_count / 30)


def _conduct(m: Measures) -> float:
    engagement = min(1.0, m.word_count / 60)
    value = 0.3 * (0.0 if m.unprofessional else 1.0) + 0.3 * engagement
    value += 0.15 * min(1.0, len(m.ownership) / 2) + 0.15 * min(1.0, len(m.collaboration) / 2)
    value += 0.1 * min(1.0, len(m.positive))
    return value


def _penalty(m: Measures) -> float:
    """A factor for evasive answers and for answers that try to instruct the grader."""
    factor = 1.0
    if m.evasive:
        factor *= 0.4 if m.word_count < 25 else 0.8
    if m.injection:
        factor *= 0.25
    return factor


def grade(m: Measures) -> tuple[int, int, int, str, list[str]]:
    """(accuracy, communication, behaviour, feedback, evidence) for measured answer ``m``."""
    if m.empty:
        return 0, 0, 0, "No answer was given.", ["answer: empty"]
    p = parts(m)
    factor = _penalty(m)
    on_topic = min(1.0, 0.1 + 2.25 * p.relevance)  # an answer to another question earns little for form
    accuracy = p.relevance * (0.45 + 0.55 * p.depth)
    length = 1 - math.exp(-m.word_count / 70)
    communication = (0.35 * p.structure + 0.35 * p.clarity + 0.3 * length) * on_topic
    behaviour = p.conduct * on_topic
    scores = [_clamp(100 * value * factor) for value in (accuracy, communication, behaviour)]
    return scores[0], scores[1], scores[2], feedback(m, p, sum(scores) / 3), evidence(m, p)


def _clamp(value: float) -> int:
    return max(0, min(100, round(value)))


def feedback(m: Measures, p: Parts, overall: float) -> str:
    """One line: a verdict from the overall score, what went well and the most useful next step."""
    if m.injection:
        return "The answer tried to instruct the grader instead of answering; only its content was scored."
    if m.evasive and m.word_count < 25:
        return "The answer avoided the question; reasoning aloud about a partial answer would score better."
    if p.relevance < 0.15:
        return one_line(f"The answer does not address the question; {_advice(m, 'relevance', 0.0)}.")
    items = {"relevance": p.relevance, "depth": p.depth, "structure": p.structure, "clarity": p.clarity}
    best = max(items, key=lambda k: items[k])
    worst = min(items, key=lambda k: items[k])
    verdict = (
        "Strong" if overall >= 75 else "Solid" if overall >= 55 else "Partial" if overall >= 30 else "Weak"
    )
    praise = {
        "relevance": "it addresses the question",
        "depth": "it gives concrete detail",
        "structure": "it is well organised",
        "clarity": "it is clear",
    }[best]
    opening = (
        f"{verdict} answer: {praise}; next time" if items[best] >= 0.6 else f"{verdict} answer: next time"
    )
    return one_line(f"{opening} {_advice(m, worst, items[worst])}.")


def _advice(m: Measures, worst: str, level: float) -> str:
    if level >= 0.75:
        return f"also mention {m.missed[0]}" if m.missed else "keep answers this focused"
    if worst == "relevance":
        missed = m.missed[:2]
        return f"cover {' and '.join(missed)}" if missed else "answer the question that was asked directly"
    return {
        "depth": "add a concrete example with numbers or results",
        "structure": "walk through it step by step"
        + (" (situation, action, result)" if m.behavioural else ""),
        "clarity": "cut filler words and keep sentences short",
    }[worst]


def evidence(m: Measures, p: Parts) -> list[str]:
    """The rubric items that drove the score, in words a reviewer can check against the transcript."""
    lines = [_relevance_line(m), _depth_line(m), _structure_line(m)]
    if m.fillers or m.long_sentences or m.repeated:
        lines.append(
            f"clarity: {_n(m.fillers, 'filler word')}, {_n(m.long_sentences, 'very long sentence')}, "
            f"{_n(m.repeated, 'repeated phrase')}"
        )
    else:
        lines.append("clarity: no filler words or run-on sentences")
    if m.code_lines:
        hits = f" ({', '.join(m.code_hits[:5])})" if m.code_hits else ""
        lines.append(f"code: {_n(m.code_lines, 'line')}, {_n(len(m.code_hits), 'relevant token')}{hits}")
    lines.extend(_conduct_lines(m))
    return [one_line(line, 300) for line in lines][:20]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _relevance_line(m: Measures) -> str:
    if m.concepts:
        named = f" ({', '.join(m.matched[:6])})" if m.matched else ""
        line = f"relevance: mentioned {len(m.matched)}/{len(m.concepts)} key concepts{named}"
        return line + (f"; missed {', '.join(m.missed[:4])}" if m.missed else "")
    return f"relevance: {len(m.keyword_hits)}/{len(m.keywords)} question keywords used"


def _depth_line(m: Measures) -> str:
    detail = []
    if m.specifics:
        detail.append(
            "a concrete example" if len(m.specifics) == 1 else f"{len(m.specifics)} concrete details"
        )
    if m.numbers:
        detail.append(_n(m.numbers, "figure"))
    return f"depth: {_n(m.word_count, 'word')}" + (
        f" with {' and '.join(detail)}" if detail else ", no specifics"
    )


def _structure_line(m: Measures) -> str:
    line = f"structure: {_n(m.sentence_count, 'sentence')}, {_n(len(m.connectives), 'connective')}"
    if m.connectives:
        line += f" ({', '.join(m.connectives[:4])})"
    if m.behavioural:
        line += f"; STAR {len(m.star)}/4" + (f" ({', '.join(m.star)})" if m.star else "")
    return line


def _conduct_lines(m: Measures) -> list[str]:
    lines = []
    if m.ownership:
        lines.append(f"behaviour: ownership ({', '.join(m.ownership[:3])})")
    if m.collaboration:
        lines.append(f"behaviour: collaboration ({', '.join(m.collaboration[:3])})")
    if m.unprofessional:
        lines.append(f"behaviour: unprofessional language ({', '.join(m.unprofessional[:3])})")
    if m.evasive:
        lines.append(f"behaviour: evasive ({', '.join(repr(e) for e in m.evasive[:3])})")
    if m.injection:
        lines.append("integrity: the answer contains instructions to the grader; they were ignored")
    return lines
