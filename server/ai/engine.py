"""Choosing the AI engine from settings, and the ``auto`` engine that falls back to offline on failure."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import TypeVar

from server.ai.base import (
    AgentDelta,
    AgentFollowUps,
    AgentRequest,
    AIEngine,
    AIError,
    AnswerScore,
    FollowUp,
    InterviewPlan,
    PlanRequest,
    ReportInput,
    ReportSummary,
    ScoreRequest,
)
from server.ai.offline import OfflineEngine
from server.ai.openai_provider import OpenAIEngine, secret_text
from server.config import Settings
from server.logs import log

R = TypeVar("R")


class AutoEngine:
    """Uses ``primary``; when it raises ``AIError``, logs it and answers with ``fallback`` instead.

    Each result keeps the ``provider``/``model`` of the engine that produced it, so callers can record
    which one it was. Errors other than ``AIError`` (bugs) are not hidden.
    """

    name = "auto"

    def __init__(self, primary: AIEngine, fallback: AIEngine) -> None:
        self.primary = primary
        self.fallback = fallback

    async def plan(self, request: PlanRequest) -> InterviewPlan:
        return await self._either("plan", lambda e: e.plan(request))

    async def score(self, request: ScoreRequest) -> AnswerScore:
        return await self._either("score", lambda e: e.score(request))

    async def follow_up(self, question: str, answer: str) -> FollowUp:
        return await self._either("follow_up", lambda e: e.follow_up(question, answer))

    async def summarise(self, report: ReportInput) -> ReportSummary:
        return await self._either("summarise", lambda e: e.summarise(report))

    async def stream_agent_answer(self, request: AgentRequest) -> AsyncGenerator[AgentDelta, None]:
        """The primary's stream; the fallback's only when the primary fails before any content.

        Once content has reached the caller, switching engines would splice two answers: a later failure
        is raised as it is.
        """
        emitted = False
        try:
            async with aclosing(self.primary.stream_agent_answer(request)) as stream:
                async for delta in stream:
                    emitted = True
                    yield delta
            return
        except AIError as exc:
            if emitted:
                raise
            self._log_fallback("agent_answer", exc)
        async with aclosing(self.fallback.stream_agent_answer(request)) as stream:
            async for delta in stream:
                yield delta

    async def agent_follow_ups(self, request: AgentRequest, answer: str) -> AgentFollowUps:
        return await self._either("agent_follow_ups", lambda e: e.agent_follow_ups(request, answer))

    def _log_fallback(self, task: str, exc: AIError) -> None:
        log.warning(
            "ai.fallback", task=task, primary=self.primary.name, fallback=self.fallback.name, error=str(exc)
        )

    async def close(self) -> None:
        try:
            await self.primary.close()
        finally:
            await self.fallback.close()

    async def _either(self, task: str, call: Callable[[AIEngine], Awaitable[R]]) -> R:
        try:
            return await call(self.primary)
        except AIError as exc:
            log.warning(
                "ai.fallback",
                task=task,
                primary=self.primary.name,
                fallback=self.fallback.name,
                error=str(exc),
            )
            return await call(self.fallback)


def build_engine(settings: Settings) -> AIEngine:
    """The engine named by ``VIVA_AI_PROVIDER``.

    - ``offline``: ``OfflineEngine``;
    - ``openai``: ``OpenAIEngine`` (``AIConfigurationError`` without a key, base URL or Azure endpoint);
    - ``auto`` (default): ``AutoEngine(OpenAIEngine, OfflineEngine)`` when any of those is set, else offline.
    """
    if settings.ai_provider == "offline":
        return OfflineEngine()
    if settings.ai_provider == "openai":
        return OpenAIEngine.from_settings(settings)
    key = secret_text(settings.openai_api_key)
    if not (key or settings.openai_base_url or settings.azure_openai_endpoint):
        return OfflineEngine()
    return AutoEngine(OpenAIEngine.from_settings(settings), OfflineEngine())
