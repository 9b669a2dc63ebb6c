"""Seed 003's AI agents: the catalog, routing a question to one agent, offline playbooks, and the event flow.

- ``AGENTS``: six specialists, defined in ``server/ai/data/agents.toml`` and read on first use. Each has
  routing signals (weighted patterns), instructions for an LLM, and a playbook for the offline engine
  (approach, key concepts, pitfalls, tips, topic packs, follow-ups).
- ``route``: keyword/intent scoring over the question (and, weighted less, the context and the last turn of
  history); the best-scoring agent wins with a reason and a confidence. No signal: ``technical`` at 0.6.
- ``offline_answer`` / ``offline_follow_ups``: a structured outline from the playbook, tailored with the
  question's keywords, named technologies, topic packs and the stated seniority. Deterministic.
- ``answer_events``: the documented event sequence (start, routing, processing, content..., answer_complete,
  follow_ups, complete, or error), produced from any ``AIEngine``. The SSE route and the plain JSON route
  both consume it; a consumer that stops early must close it, which abandons the generation.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import AsyncGenerator, Iterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from server.ai import data
from server.ai.bank import technical_templates
from server.ai.base import AgentRequest, AIEngine, AIError
from server.ai.data import Entry
from server.ai.skills import FAMILIES, detect_seniority, extract_skills, family_of
from server.ai.text import keywords, one_line
from server.logs import log

FALLBACK_AGENT = "technical"
FALLBACK_CONFIDENCE = 0.6
MIN_SCORE = 0.5  # below this, no agent has a real signal: the fallback answers


@dataclass(frozen=True)
class Signal:
    """A pattern that votes for an agent; ``label`` says why in the routing reason."""

    pattern: re.Pattern[str]
    weight: float
    label: str


@dataclass(frozen=True)
class Topic:
    """Extra concepts and a tip for questions on one topic (``pattern`` matches the question)."""

    pattern: re.Pattern[str]
    name: str
    concepts: tuple[str, ...]
    tip: str


@dataclass(frozen=True)
class Playbook:
    approach: tuple[str, ...]
    concepts: tuple[str, ...]
    pitfalls: tuple[str, ...]
    tips: tuple[str, ...]
    follow_ups: tuple[str, ...]  # templates with {topic}
    topics: tuple[Topic, ...] = ()


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    specializations: tuple[str, ...]
    best_for: tuple[str, ...]
    reason: str  # the routing reasoning when this agent wins
    guidance: str  # what the LLM's answer should contain
    signals: tuple[Signal, ...]
    playbook: Playbook
    skill_families: tuple[str, ...] = field(default=())  # named technologies of these families vote too

    def card(self) -> dict[str, Any]:
        """The agent as ``GET /api/agents/available`` lists it."""
        return {
            "id": self.id,
            "name": self.name,
            "specializations": list(self.specializations),
            "best_for": list(self.best_for),
        }


# ---------------------------------------------------------------- the catalog (agents.toml)


@cache
def load_agents() -> Mapping[str, Agent]:
    """The agents by id in catalog order, read from ``agents.toml`` and checked on first use.

    Raises ``DataFileError`` when the file is malformed. ``AGENTS`` is the same mapping, read lazily.
    """
    return parse_agents(data.read("agents.toml"))


class _Agents(Mapping[str, Agent]):
    """``AGENTS``: a view of ``load_agents()`` that reads the file on first use, not when this is imported."""

    def __getitem__(self, agent_id: str) -> Agent:
        return load_agents()[agent_id]

    def __iter__(self) -> Iterator[str]:
        return iter(load_agents())

    def __len__(self) -> int:
        return len(load_agents())


AGENTS: Mapping[str, Agent] = _Agents()


def agent_for(agent_id: str) -> Agent:
    """The agent with this id; the fallback (technical) agent for an id that names none."""
    agents = load_agents()
    return agents.get(agent_id) or agents[FALLBACK_AGENT]


def parse_agents(root: Entry) -> Mapping[str, Agent]:
    """Build the catalog from the top table of ``agents.toml``; ``DataFileError`` names a bad entry."""
    root.only({"agent"})
    found: dict[str, Agent] = {}
    for table in root.tables("agent"):
        entry = table.named(table.text("id"))
        agent = _parse_agent(entry)
        if agent.id in found:
            entry.fail(f"the id {agent.id!r} is used twice")
        found[agent.id] = agent
    if FALLBACK_AGENT not in found or len(found) < 2:  # ``route`` compares the best with the runner-up
        root.fail(f"needs at least two agents, one of them {FALLBACK_AGENT!r} (the fallback)")
    return MappingProxyType(found)


def _parse_agent(entry: Entry) -> Agent:
    card = {"id", "name", "specializations", "best_for", "reason", "guidance"}
    entry.only({*card, "signal", "playbook"}, {"skill_families"})
    families = entry.texts("skill_families", empty=True)
    if unknown := [family for family in families if family not in FAMILIES]:
        entry.fail(f"skill_families: {', '.join(map(repr, unknown))} not one of {', '.join(FAMILIES)}")
    return Agent(
        id=entry.text("id"),
        name=entry.text("name"),
        specializations=entry.texts("specializations"),
        best_for=entry.texts("best_for"),
        reason=entry.text("reason"),
        guidance=entry.text("guidance"),
        signals=tuple(_parse_signal(signal) for signal in entry.tables("signal")),
        playbook=_parse_playbook(entry.table("playbook")),
        skill_families=families,
    )


def _parse_signal(entry: Entry) -> Signal:
    entry.only({"label", "weight", "pattern"})
    return Signal(_regex(entry), entry.number("weight"), entry.text("label"))


def _regex(entry: Entry) -> re.Pattern[str]:
    """The entry's ``pattern`` (a string, or a list of pieces joined as is), compiled case-insensitive."""
    pieces = entry.data.get("pattern")
    source = "".join(entry.texts("pattern")) if isinstance(pieces, list) else entry.text("pattern")
    try:
        return re.compile(source, re.IGNORECASE)
    except re.error as exc:
        entry.fail(f"pattern does not compile ({exc})")


def _parse_playbook(entry: Entry) -> Playbook:
    entry.only({"approach", "concepts", "pitfalls", "tips", "follow_ups"}, {"topic"})
    for template in entry.texts("follow_ups"):
        entry.fields("follow_ups", template, {"topic"})
    return Playbook(
        approach=entry.texts("approach"),
        concepts=entry.texts("concepts"),
        pitfalls=entry.texts("pitfalls"),
        tips=entry.texts("tips"),
        follow_ups=entry.texts("follow_ups"),
        topics=tuple(_parse_topic(topic) for topic in entry.tables("topic")),
    )


def _parse_topic(entry: Entry) -> Topic:
    entry.only({"name", "pattern", "concepts", "tip"})
    entry = entry.named(entry.text("name"))
    return Topic(_regex(entry), entry.text("name"), entry.texts("concepts"), entry.text("tip"))


def catalog() -> list[dict[str, Any]]:
    return [agent.card() for agent in AGENTS.values()]


# ---------------------------------------------------------------- routing


@dataclass(frozen=True)
class Routing:
    selected_agent: str
    reasoning: str
    confidence: float
    scores: dict[str, float]

    def public(self) -> dict[str, Any]:
        return {
            "selected_agent": self.selected_agent,
            "reasoning": self.reasoning,
            "confidence": self.confidence,
        }


def _score(agent: Agent, text: str, skills: list[str]) -> tuple[float, list[str]]:
    total, labels = 0.0, []
    for signal in agent.signals:
        if signal.pattern.search(text):
            total += signal.weight
            labels.append(signal.label)
    named = [skill for skill in skills if family_of(skill) in agent.skill_families]
    if named:
        total += 1.0
        labels.append("named technology: " + ", ".join(named[:3]))
    return total, labels


def _scores(texts: list[tuple[str, float]]) -> tuple[dict[str, float], dict[str, list[str]]]:
    scores = dict.fromkeys(AGENTS, 0.0)
    labels: dict[str, list[str]] = {agent_id: [] for agent_id in AGENTS}
    for text, weight in texts:
        if not text.strip():
            continue
        skills = extract_skills(text)
        for agent in AGENTS.values():
            score, found = _score(agent, text, skills)
            scores[agent.id] += weight * score
            labels[agent.id] += [label for label in found if label not in labels[agent.id]]
    return scores, labels


def confidence(top: float, second: float) -> float:
    """Grows with the winning score and with its margin over the runner-up; between 0.5 and 0.98."""
    strength = 1 - math.exp(-top / 2.5)
    margin = (top - second) / top if top > 0 else 0.0
    return round(min(0.98, 0.5 + 0.3 * strength + 0.18 * margin), 2)


def route(question: str, context: str = "", recent: str = "", preferred: str | None = None) -> Routing:
    """Pick the agent for ``question``; the context and the recent history count for less (0.3 each)."""
    if preferred is not None and preferred in AGENTS:
        return Routing(preferred, f"Requested the {AGENTS[preferred].name} agent", 1.0, {})
    scores, labels = _scores([(question, 1.0), (context, 0.3), (recent, 0.3)])
    ranked = sorted(AGENTS, key=lambda agent_id: -scores[agent_id])  # stable: catalog order breaks ties
    best, runner_up = ranked[0], ranked[1]
    if scores[best] < MIN_SCORE:
        return Routing(
            FALLBACK_AGENT,
            "No strong signal for a specialist; the technical agent handles general questions",
            FALLBACK_CONFIDENCE,
            scores,
        )
    reasoning = f"{AGENTS[best].reason} (signals: {'; '.join(labels[best][:3])})"
    return Routing(best, reasoning, confidence(scores[best], scores[runner_up]), scores)


# ---------------------------------------------------------------- offline playbook answers


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _topics(agent: Agent, question: str) -> list[Topic]:
    return [topic for topic in agent.playbook.topics if topic.pattern.search(question)]


# Words that ``keywords`` keeps but that say nothing about a question's subject.
GENERIC_WORDS = frozenset(
    """should would could after before receiving receive received improve design designing build building
    explain describe handle make doing does want need think best good new better ever really difference
    between""".split()
)


def focus_terms(question: str) -> list[str]:
    """The question's subject words, in order (keywords without generic verbs and adverbs)."""
    return [word for word in keywords(question) if word.lower() not in GENERIC_WORDS]


def topic_phrase(agent: Agent, question: str) -> str:
    """A short name for what the question is about (a topic pack's name, else its first subject words)."""
    found = _topics(agent, question)
    if found:
        return found[0].name
    words = focus_terms(question)[:3]
    return " ".join(words) if words else "this"


def _tech_concepts(question: str) -> list[str]:
    """Key concepts for each technology the question names (from the offline question bank)."""
    lines = []
    for skill in extract_skills(question)[:3]:
        templates = technical_templates(skill)
        if templates:
            lines.append(f"For {skill}: {', '.join(templates[0].concepts[:4])}")
    return lines


def _seniority_tip(context: str) -> str | None:
    level = detect_seniority(context).level if context.strip() else None
    if level in ("senior", "lead", "principal"):
        return (
            f"At {level} level, lead with trade-offs, risks and the decisions you would drive; "
            "show how you would bring others along."
        )
    if level in ("intern", "junior"):
        return f"At {level} level, show sound fundamentals and how you learn; say what you would ask."
    return None


def _section(title: str, items: list[str], numbered: bool = False) -> str:
    lines = [f"{index}. {item}" if numbered else f"- {item}" for index, item in enumerate(items, 1)]
    return f"**{title}**\n" + "\n".join(lines)


def offline_answer(request: AgentRequest) -> str:
    """A structured answer outline for the question from its agent's playbook (Markdown, deterministic)."""
    agent = agent_for(request.agent_id)
    book = agent.playbook
    topics = _topics(agent, request.question)
    focus = focus_terms(request.question)[:6]
    concepts = [c for topic in topics for c in topic.concepts] or _tech_concepts(request.question)
    concepts += list(book.concepts)
    tips = [topic.tip for topic in topics] + [tip for tip in (_seniority_tip(request.context),) if tip]
    tips += list(book.tips)
    intro = f"**{agent.name} playbook** for: \u201c{one_line(request.question, 200)}\u201d"
    if focus:
        intro += f"\n\nAnchor your answer on the question's key terms: {', '.join(focus)}."
    parts = [
        intro,
        _section("Approach", list(book.approach), numbered=True),
        _section("Key concepts to cover", concepts[:9]),
        _section("Common pitfalls", list(book.pitfalls)),
        _section("Tips", tips[:6]),
    ]
    return "\n\n".join(parts) + "\n"


def offline_follow_ups(request: AgentRequest, count: int = 3) -> list[str]:
    """``count`` follow-up questions from the agent's templates, chosen by a hash of the question."""
    agent = agent_for(request.agent_id)
    templates = agent.playbook.follow_ups
    topic = topic_phrase(agent, request.question)
    start = _digest(request.question) % len(templates)
    picked = [templates[(start + offset) % len(templates)] for offset in range(min(count, len(templates)))]
    return [template.format(topic=topic) for template in picked]


def chunks(text: str, size: int = 120) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at line or word ends (joined: ``text``)."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            cut = line.rfind(" ", 0, size) + 1 or size
            pieces.append(line[:cut])
            line = line[cut:]
        if line:
            pieces.append(line)
    return pieces


# ---------------------------------------------------------------- the event flow


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """One event as the documents show it: ``{"event_type", "timestamp", "data"}``."""
    return {"event_type": event_type, "timestamp": now(), "data": data}


def _counts(answer: str) -> dict[str, int]:
    return {"word_count": len(answer.split()), "character_count": len(answer)}


async def _follow_ups(engine: AIEngine, request: AgentRequest, answer: str) -> list[str]:
    """The engine's follow-ups; the playbook's when the provider fails (the answer is already out)."""
    try:
        return (await engine.agent_follow_ups(request, answer)).questions[:3]
    except AIError as exc:
        log.warning("ai.agent_follow_ups_failed", agent=request.agent_id, error=str(exc))
        return offline_follow_ups(request)


async def answer_events(
    engine: AIEngine, request: AgentRequest, routing: Routing
) -> AsyncGenerator[dict[str, Any], None]:
    """The documented event sequence for one question; ends after ``complete`` or ``error``.

    ``answer_complete`` also carries ``agent``, ``provider`` and ``model``. A failure of the provider
    (``AIError``) or a bug ends the stream with an ``error`` event that exposes no internals.
    """
    agent = routing.selected_agent
    yield event("start", {"message": "Processing question...", "question": request.question})
    yield event("routing", routing.public())
    yield event("processing", {"message": f"Processing with {agent} agent...", "agent": agent})
    parts: list[str] = []
    provider, model = "", None
    try:
        async with aclosing(engine.stream_agent_answer(request)) as stream:
            async for delta in stream:
                parts.append(delta.text)
                provider, model = delta.provider, delta.model
                yield event("content", {"chunk": delta.text, "is_final": False})
        yield event("content", {"chunk": "", "is_final": True})
        answer = "".join(parts)
        meta = {"agent": agent, "provider": provider, "model": model}
        yield event("answer_complete", {"full_answer": answer, **_counts(answer), **meta})
        yield event("follow_ups", {"questions": await _follow_ups(engine, request, answer)})
        yield event("complete", {"message": "Processing complete", "agent_used": agent, "success": True})
    except AIError as exc:
        log.warning("ai.agent_answer_failed", agent=agent, engine=engine.name, error=str(exc))
        yield event("error", _error(agent, "The AI provider failed while answering; please try again"))
    except Exception as exc:  # a bug: log it, tell the client only that it failed
        log.error("ai.agent_answer_error", agent=agent, error_type=type(exc).__name__, exc_info=exc)
        yield event("error", _error(agent, "Error processing the question"))


def _error(agent: str, message: str) -> dict[str, Any]:
    return {"message": message, "agent": agent, "success": False}
