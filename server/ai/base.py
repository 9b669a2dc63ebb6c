"""The AI engine interface: one set of calls used by every API family, the live room and the agents.

Inputs that come from people (resume, job description, answers) are untrusted data: providers must keep
them in data fields and never let them act as instructions. Every result says which provider and model
produced it, and scores are always clamped to their documented bounds.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, Field

Score = Annotated[int, Field(ge=0, le=100)]
Category = Literal["intro", "technical", "gap", "behavioral", "system_design", "coding", "follow_up"]
Difficulty = Literal["easy", "medium", "hard"]


class PlanRequest(BaseModel):
    resume_text: str = ""
    job_description: str = ""
    job_title: str | None = None
    role: str | None = None
    tech_stack: list[str] = Field(default_factory=list)
    count: Annotated[int, Field(ge=1, le=20)] = 5


class PlannedQuestion(BaseModel):
    text: Annotated[str, Field(min_length=5, max_length=2000)]
    category: Category
    difficulty: Difficulty = "medium"
    expected_minutes: Annotated[int, Field(ge=1, le=30)] = 3
    key_concepts: list[str] = Field(default_factory=list, max_length=12)


class InterviewPlan(BaseModel):
    questions: list[PlannedQuestion]
    match_score: Score
    strengths: list[str] = Field(max_length=10)
    gaps: list[str] = Field(max_length=10)
    skills: list[str] = Field(default_factory=list)
    seniority: str | None = None
    provider: str
    model: str | None = None


class ScoreRequest(BaseModel):
    question_text: str
    category: str = "technical"
    key_concepts: list[str] = Field(default_factory=list)
    answer_text: str = ""
    code: str | None = None
    job_description: str = ""


class AnswerScore(BaseModel):
    accuracy: Score
    communication: Score
    behaviour: Score
    feedback: Annotated[str, Field(max_length=1000)]
    evidence: list[str] = Field(default_factory=list, max_length=20)
    provider: str
    model: str | None = None

    @property
    def overall(self) -> float:
        return round((self.accuracy + self.communication + self.behaviour) / 3, 1)


class FollowUp(BaseModel):
    text: str | None
    reason: str
    provider: str
    model: str | None = None


class ReportInput(BaseModel):
    job_title: str | None = None
    strengths: list[str] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list)
    decision: str
    technical: float
    communication: float
    behaviour: float
    answers: list[tuple[str, str, str]] = Field(
        default_factory=list, description="(question, answer text, feedback) per answered question"
    )


class ReportSummary(BaseModel):
    summary: Annotated[str, Field(max_length=4000)]
    provider: str
    model: str | None = None


class AgentTurn(BaseModel):
    """One earlier turn of the conversation with an agent (untrusted data)."""

    role: Literal["user", "assistant"] = "user"
    content: Annotated[str, Field(max_length=4000)]


class AgentRequest(BaseModel):
    """An interview question for one agent (see ``server.ai.agents``); every text in it is untrusted data."""

    agent_id: str
    question: Annotated[str, Field(min_length=1, max_length=2000)]
    context: Annotated[str, Field(max_length=1000)] = ""
    history: list[AgentTurn] = Field(default_factory=list, max_length=40)


class AgentDelta(BaseModel):
    """A piece of an agent's answer as it is produced, and who produced it."""

    text: str
    provider: str
    model: str | None = None


class AgentFollowUps(BaseModel):
    questions: list[str] = Field(min_length=1, max_length=5)
    provider: str
    model: str | None = None


class AIEngine(Protocol):
    """Implemented by the offline engine, the OpenAI-compatible provider and the auto fallback."""

    name: str

    async def plan(self, request: PlanRequest) -> InterviewPlan: ...

    async def score(self, request: ScoreRequest) -> AnswerScore: ...

    async def follow_up(self, question: str, answer: str) -> FollowUp: ...

    async def summarise(self, report: ReportInput) -> ReportSummary: ...

    def stream_agent_answer(self, request: AgentRequest) -> AsyncGenerator[AgentDelta, None]:
        """The agent's answer in pieces, as produced; raises ``AIError`` when the provider fails.

        Close the iterator (``contextlib.aclosing``) when you stop early: that abandons the generation.
        """
        ...

    async def agent_follow_ups(self, request: AgentRequest, answer: str) -> AgentFollowUps: ...

    async def close(self) -> None: ...


class AIError(Exception):
    """A provider could not produce a valid result (timeout, HTTP error, malformed output after retries)."""


class AIConfigurationError(ValueError):
    """The settings ask for a provider that they do not configure (raised at start-up, not per call)."""
