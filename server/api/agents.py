"""Seed 003's AI agents: the catalog, one answer as JSON, and the same answer as Server-Sent Events.

Each SSE message is one ``data:`` line holding ``{"event_type", "timestamp", "data"}`` (no ``event:``
field, so ``EventSource.onmessage`` sees every event). When the client disconnects, sse-starlette cancels
the generator, which closes the provider's stream: the generation stops.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sse_starlette import EventSourceResponse

from server.ai import agents
from server.ai.base import AgentRequest, AgentTurn
from server.api.deps import CurrentUser, ServicesDep
from server.domain.errors import ServiceUnavailable

router = APIRouter(prefix="/api/agents", tags=["agents"])

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)]
TurnText = Annotated[str, Field(max_length=4000)]
AgentId = Literal["product_manager", "system_design", "technical", "behavioral", "data_ml", "career_coach"]


class HistoryItem(BaseModel):
    """An earlier turn: ``{role, content}``, or a ``{question, answer}`` pair (each at most 4000 chars)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant"] = "user"
    content: TurnText | None = None
    question: TurnText | None = None
    answer: TurnText | None = None

    @model_validator(mode="after")
    def _has_text(self) -> HistoryItem:
        if self.content is None and self.question is None and self.answer is None:
            raise ValueError("a history item needs content, or a question and/or an answer")
        return self

    def turns(self) -> list[AgentTurn]:
        if self.content is not None:
            return [AgentTurn(role=self.role, content=self.content)]
        turns = [AgentTurn(role="user", content=self.question)] if self.question is not None else []
        return turns + ([AgentTurn(role="assistant", content=self.answer)] if self.answer is not None else [])


class AgentQuestion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: Question
    context: Annotated[str | None, Field(max_length=1000)] = None
    conversation_history: Annotated[list[TurnText | HistoryItem], Field(max_length=20)] = Field(
        default_factory=list
    )
    agent: AgentId | None = Field(default=None, description="Skip routing and ask this agent")

    def history(self) -> list[AgentTurn]:
        turns: list[AgentTurn] = []
        for item in self.conversation_history:
            turns += [AgentTurn(content=item)] if isinstance(item, str) else item.turns()
        return turns

    def routed(self) -> tuple[agents.Routing, AgentRequest]:
        history = self.history()
        recent = " ".join(turn.content for turn in history[-2:])
        routing = agents.route(self.question, self.context or "", recent, preferred=self.agent)
        request = AgentRequest(
            agent_id=routing.selected_agent,
            question=self.question,
            context=self.context or "",
            history=history,
        )
        return routing, request


class AgentCard(BaseModel):
    id: str
    name: str
    specializations: list[str]
    best_for: list[str]


class AgentCatalog(BaseModel):
    total_agents: int
    agents: list[AgentCard]


class RoutingOut(BaseModel):
    selected_agent: str
    reasoning: str
    confidence: float


class AnswerOut(BaseModel):
    success: bool
    timestamp: str
    question: str
    routing: RoutingOut
    answer: str
    metadata: dict[str, Any]
    follow_up_questions: list[str]
    statistics: dict[str, int]


@router.get("/available", response_model=AgentCatalog, summary="The AI agents and what each is best for")
async def available(_user: CurrentUser) -> AgentCatalog:
    cards = [AgentCard(**card) for card in agents.catalog()]
    return AgentCatalog(total_agents=len(cards), agents=cards)


@router.post("/answer", response_model=AnswerOut, summary="Answer an interview question (whole answer)")
async def answer(body: AgentQuestion, services: ServicesDep, _user: CurrentUser) -> AnswerOut:
    routing, request = body.routed()
    seen: dict[str, dict[str, Any]] = {}
    async with aclosing(agents.answer_events(services.ai, request, routing)) as events:
        async for item in events:
            seen[item["event_type"]] = item["data"]
    if "error" in seen:
        raise ServiceUnavailable("The AI agent could not answer right now; please try again")
    done = seen["answer_complete"]
    return AnswerOut(
        success=True,
        timestamp=agents.now(),
        question=request.question,
        routing=RoutingOut(**routing.public()),
        answer=done["full_answer"],
        metadata={"agent": routing.selected_agent, "provider": done["provider"], "model": done["model"]},
        follow_up_questions=seen["follow_ups"]["questions"],
        statistics={"word_count": done["word_count"], "character_count": done["character_count"]},
    )


async def _sse(events: AsyncGenerator[dict[str, Any], None]) -> AsyncGenerator[dict[str, str], None]:
    async with aclosing(events) as stream:
        async for item in stream:
            yield {"data": json.dumps(item, ensure_ascii=False, separators=(",", ":"))}


@router.post(
    "/answer-stream",
    response_class=EventSourceResponse,
    summary="Answer an interview question as Server-Sent Events",
    responses={200: {"content": {"text/event-stream": {}}, "description": "start, routing, processing, ..."}},
)
async def answer_stream(
    body: AgentQuestion, services: ServicesDep, _user: CurrentUser
) -> EventSourceResponse:
    routing, request = body.routed()
    return EventSourceResponse(_sse(agents.answer_events(services.ai, request, routing)), sep="\n")
