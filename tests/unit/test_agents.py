"""The agents: routing, offline playbook answers, the event flow, and streaming through each engine."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any

import pytest

from server.ai import agents
from server.ai.agents import AGENTS, answer_events, chunks, offline_answer, offline_follow_ups, route
from server.ai.base import AgentDelta, AgentRequest, AIError
from server.ai.engine import AutoEngine
from server.ai.offline import OfflineEngine
from server.ai.openai_provider import OpenAIEngine
from server.config import Settings
from tests.fakes.openai_server import (
    HTTP_500,
    MALFORMED,
    STREAM_ERROR,
    VALID,
    WRONG_SHAPE,
    FakeOpenAI,
    fake_openai_server,
    stream_pieces,
)

URL_SHORTENER = "How would you design a URL shortening service?"


@pytest.mark.parametrize(
    ("question", "agent"),
    [
        (URL_SHORTENER, "system_design"),
        ("How would you scale a chat system to millions of users?", "system_design"),
        ("Tell me about a time you disagreed with your manager.", "behavioral"),
        ("What is your greatest weakness?", "behavioral"),
        ("How would you prioritize features for a new fitness app?", "product_manager"),
        ("What metrics would you use to measure the success of a product launch?", "product_manager"),
        ("Explain the bias-variance trade-off in machine learning.", "data_ml"),
        ("How do you decide the sample size of an A/B test and read its p-value?", "data_ml"),
        ("Write a function to reverse a linked list in Python.", "technical"),
        ("What is the time complexity of binary search on a sorted array?", "technical"),
        ("How should I negotiate my salary after receiving an offer?", "career_coach"),
        ("How do I explain a two-year career gap?", "career_coach"),
    ],
)
def test_routing_picks_the_specialist(question: str, agent: str) -> None:
    """Keyword and intent signals route each kind of question to its specialist with a reason."""
    routing = route(question)
    assert routing.selected_agent == agent, routing
    assert routing.reasoning.startswith(AGENTS[agent].reason) and "signals:" in routing.reasoning
    assert 0.6 < routing.confidence <= 0.98


def test_routing_falls_back_to_technical() -> None:
    """With no specialist signal the technical agent answers, with confidence 0.6."""
    for question in ("What is your favourite colour?", "Hello there, how are you?"):
        routing = route(question)
        assert (routing.selected_agent, routing.confidence) == ("technical", 0.6)
        assert routing.public() == {
            "selected_agent": "technical",
            "reasoning": routing.reasoning,
            "confidence": 0.6,
        }


def test_routing_weighs_context_and_history_less() -> None:
    """The recent history decides a vague question; a strong question beats the history's topic."""
    vague = "How would you detect it?"
    assert route(vague).selected_agent == "technical"
    assert route(vague, recent="What is overfitting in a model?").selected_agent == "data_ml"
    assert route(URL_SHORTENER, recent="Tell me about a conflict").selected_agent == "system_design"
    assert route(URL_SHORTENER, preferred="behavioral").selected_agent == "behavioral"
    assert route(URL_SHORTENER, preferred="nobody").selected_agent == "system_design"


def test_confidence_grows_with_score_and_margin() -> None:
    """Confidence rises with the winning score and with its margin, and stays within 0.5–0.98."""
    assert agents.confidence(1, 1) < agents.confidence(3, 1) < agents.confidence(3, 0) <= 0.98
    assert agents.confidence(1, 0) < agents.confidence(6, 0)
    assert agents.confidence(100, 0) == 0.98 and agents.confidence(0.5, 0.5) >= 0.5


def test_catalog_has_six_distinct_agents() -> None:
    """Six agents, each with specializations, best-for notes, routing signals and a full playbook."""
    cards = agents.catalog()
    assert [card["id"] for card in cards] == list(AGENTS) and len(cards) == 6
    for agent in AGENTS.values():
        book = agent.playbook
        assert agent.specializations and agent.best_for and agent.signals
        assert len(book.approach) >= 4 and len(book.pitfalls) >= 3 and len(book.tips) >= 3
        assert len(book.follow_ups) >= 3


def test_offline_answer_is_a_tailored_outline() -> None:
    """The offline answer has approach, concepts, pitfalls and tips, tailored to the question and context."""
    request = AgentRequest(
        agent_id="system_design", question=URL_SHORTENER, context="Senior engineer, 8 years"
    )
    answer = offline_answer(request)
    for heading in ("**Approach**", "**Key concepts to cover**", "**Common pitfalls**", "**Tips**"):
        assert heading in answer
    assert "base62" in answer and "301 vs 302" in answer  # the URL-shortener topic pack
    assert "url, shortening, service" in answer  # the question's own keywords
    assert "At senior level" in answer
    assert offline_answer(request) == answer  # deterministic
    python = offline_answer(AgentRequest(agent_id="technical", question="How do Python decorators work?"))
    assert "For Python:" in python and "At senior level" not in python


def test_offline_follow_ups() -> None:
    """Three distinct follow-ups from the agent's templates, naming the question's topic."""
    request = AgentRequest(agent_id="system_design", question=URL_SHORTENER)
    questions = offline_follow_ups(request)
    assert len(questions) == len(set(questions)) == 3 and all(q.endswith("?") for q in questions)
    assert offline_follow_ups(request) == questions
    assert any("a URL shortener" in q for q in questions)


def test_chunks_rejoin_to_the_text() -> None:
    """Chunks cut at line or word ends, never longer than the size, and join back to the text."""
    text = offline_answer(AgentRequest(agent_id="behavioral", question="Tell me about a failure."))
    pieces = chunks(text, 40)
    assert "".join(pieces) == text and max(map(len, pieces)) <= 40 and len(pieces) > 10
    assert chunks("x" * 100, 40) == ["x" * 40, "x" * 40, "x" * 20]


async def events_of(engine: Any, request: AgentRequest) -> list[dict[str, Any]]:
    routing = route(request.question)
    async with aclosing(answer_events(engine, request, routing)) as stream:
        return [item async for item in stream]


async def test_event_flow_with_the_offline_engine() -> None:
    """The events come in the documented order, and the content chunks make up the full answer."""
    request = AgentRequest(agent_id="system_design", question=URL_SHORTENER)
    events = await events_of(OfflineEngine(), request)
    types = [e["event_type"] for e in events]
    assert types[:3] == ["start", "routing", "processing"] and types[-3:] == [
        "answer_complete",
        "follow_ups",
        "complete",
    ]
    assert set(types[3:-3]) == {"content"} and all(e["timestamp"].endswith("Z") for e in events)
    content = [e["data"] for e in events if e["event_type"] == "content"]
    assert content[-1] == {"chunk": "", "is_final": True}
    done = events[-3]["data"]
    assert done["full_answer"] == "".join(c["chunk"] for c in content) == offline_answer(request)
    assert done["provider"] == "offline" and events[-2]["data"]["questions"] == offline_follow_ups(request)


class FailingEngine(OfflineEngine):
    """The offline engine, except that answering fails after ``after`` pieces (a provider outage)."""

    name = "failing"

    def __init__(self, after: int = 0, error: Exception | None = None) -> None:
        self.after = after
        self.error = error or AIError("provider down")
        self.closed = False

    async def stream_agent_answer(self, request: AgentRequest) -> AsyncGenerator[AgentDelta, None]:
        try:
            for index, piece in enumerate(chunks(offline_answer(request))):
                if index == self.after:
                    raise self.error
                yield AgentDelta(text=piece, provider=self.name)
        finally:
            self.closed = True


async def test_event_flow_ends_with_an_error() -> None:
    """A provider failure or a bug ends the stream with an error event that hides the internals."""
    request = AgentRequest(agent_id="technical", question="Explain closures in JavaScript.")
    for engine in (FailingEngine(after=2), FailingEngine(error=RuntimeError("secret internals"))):
        events = await events_of(engine, request)
        assert events[-1]["event_type"] == "error" and events[-1]["data"]["success"] is False
        assert "internals" not in str(events[-1]) and "provider down" not in str(events[-1])
        assert "complete" not in [e["event_type"] for e in events] and engine.closed


async def test_closing_the_event_flow_closes_the_engine_stream() -> None:
    """A consumer that stops after the first content closes the engine's generator."""
    engine = FailingEngine(after=1000)
    request = AgentRequest(agent_id="technical", question="Explain closures in JavaScript.")
    async with aclosing(answer_events(engine, request, route(request.question))) as stream:
        async for item in stream:
            if item["event_type"] == "content":
                break
    assert engine.closed


async def test_auto_engine_falls_back_only_before_content() -> None:
    """AutoEngine streams the fallback when the primary fails at once, and re-raises a later failure."""
    request = AgentRequest(agent_id="behavioral", question="Tell me about a conflict.")
    whole = [
        d.text async for d in AutoEngine(FailingEngine(after=0), OfflineEngine()).stream_agent_answer(request)
    ]
    assert "".join(whole) == offline_answer(request)
    late = AutoEngine(FailingEngine(after=2), OfflineEngine())
    seen: list[str] = []
    with pytest.raises(AIError):
        async for delta in late.stream_agent_answer(request):
            seen.append(delta.provider)
    assert seen == ["failing", "failing"]


# ---------------------------------------------------------------- the OpenAI-compatible provider


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with fake_openai_server(slow_s=3.0) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reset()
    server.stream_delay_s, server.stream_chunks = 0.01, 5
    return server


@pytest.fixture
async def engine(fake: FakeOpenAI) -> AsyncIterator[OpenAIEngine]:
    settings = Settings(
        _env_file=None, openai_base_url=fake.v1, openai_api_key="sk-test", azure_openai_endpoint=None,
        llm_timeout_s=2.0, llm_max_retries=1,
    )  # fmt: skip
    engine = OpenAIEngine.from_settings(settings)
    yield engine
    await engine.close()


async def test_openai_streams_the_model_pieces(engine: OpenAIEngine, fake: FakeOpenAI) -> None:
    """The provider asks for a stream and yields the model's pieces as they come, with its name."""
    request = AgentRequest(agent_id="data_ml", question="Explain overfitting.", context="Junior analyst")
    deltas = [delta async for delta in engine.stream_agent_answer(request)]
    sent = fake.requests[0]
    assert [d.text for d in deltas] == stream_pieces(sent.body, 5)
    assert {(d.provider, d.model) for d in deltas} == {("openai", engine.model)}
    assert sent.body["stream"] is True and '"Data Science & ML" interview coach' in sent.content("system")
    assert sent.user_data == {
        "question": "Explain overfitting.",
        "context": "Junior analyst",
        "conversation_history": [],
    }
    assert fake.streams_completed == 1


async def test_openai_stream_closed_early_is_abandoned(engine: OpenAIEngine, fake: FakeOpenAI) -> None:
    """Closing the stream after one piece closes the HTTP response: the fake sees the stream abandoned."""
    fake.stream_delay_s, fake.stream_chunks = 0.1, 50
    request = AgentRequest(agent_id="technical", question="Explain closures in JavaScript.")
    async with aclosing(engine.stream_agent_answer(request)) as stream:
        async for _ in stream:
            break
    assert fake.abandoned.wait(5) and fake.streams_completed == 0


@pytest.mark.parametrize("behaviour", [HTTP_500, STREAM_ERROR])
async def test_openai_stream_failures_are_ai_errors(
    engine: OpenAIEngine, fake: FakeOpenAI, behaviour: str
) -> None:
    """An HTTP error before the stream or an error event inside it becomes an ``AIError``."""
    fake.script(behaviour)
    request = AgentRequest(agent_id="technical", question="Explain closures in JavaScript.")
    received: list[str] = []
    with pytest.raises(AIError):
        async for delta in engine.stream_agent_answer(request):
            received.append(delta.text)
    assert len(received) == (2 if behaviour == STREAM_ERROR else 0)


async def test_openai_follow_ups(engine: OpenAIEngine, fake: FakeOpenAI) -> None:
    """Follow-ups come from a JSON task; malformed replies are retried, then raise ``AIError``."""
    request = AgentRequest(agent_id="technical", question="Explain closures in JavaScript.")
    follow = await engine.agent_follow_ups(request, "A closure captures variables.")
    assert follow.questions == [f"Model follow-up {i} on Explain closures in JavaScript.?" for i in (1, 2, 3)]
    assert "TASK: agent_follow_ups" in fake.requests[0].content("system")
    assert fake.requests[0].user_data["answer"] == "A closure captures variables."
    fake.script(MALFORMED, WRONG_SHAPE)
    with pytest.raises(AIError):
        await engine.agent_follow_ups(request, "answer")
    fake.script(VALID)
    auto = AutoEngine(engine, OfflineEngine())
    fake.script(HTTP_500)
    assert (await auto.agent_follow_ups(request, "answer")).questions == offline_follow_ups(request)
