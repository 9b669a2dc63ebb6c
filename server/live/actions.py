"""What the live room does to the rest of Viva: who may join, the questions, storing answers, completion.

Each function is one unit of work with its own transaction; the room's shell calls them to run the
session machine's effects.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
from sqlalchemy.exc import DBAPIError

from server.domain import access, answers, lifecycle
from server.domain.answers import LiveAnswer
from server.domain.errors import Forbidden, NotFound
from server.jobs.pipeline import media_metrics
from server.live.audio import AnswerRecording
from server.logs import log
from server.services import Services
from server.speech import delivery
from server.speech.stt import Transcript
from server.store import interviews
from server.store.db import unavailable
from server.store.models import Interview, InterviewStatus, utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class Joined:
    user_id: str
    interview: Interview
    questions: list[dict[str, Any]]


async def join(services: Services, token: str, interview_id: str) -> Joined:
    """Check the token and that its user is this interview's candidate and may take it now.

    Raises NotAuthenticated (bad token), NotFound (no such interview, or not theirs), Forbidden (wrong
    role or the interview is not scheduled / in progress).
    """
    async with services.db.session() as session:
        user = await access.authenticate(session, services.tokens, token)
        interview = access.may_take(user, await interviews.get(session, interview_id))
        questions = [question_view(q) for q in await interviews.questions_of(session, interview.id)]
    if not questions:
        raise Forbidden("The interview has no questions yet")
    return Joined(user.id, interview, questions)


async def session_questions(services: Services, interview_id: str) -> Joined:
    """The interview and its questions, for a session opened on HR's behalf (the caller checked who asks).

    Raises NotFound for an unknown interview.
    """
    async with services.db.session() as session:
        interview = await interviews.get(session, interview_id)
        if interview is None:
            raise NotFound("Interview not found")
        questions = [question_view(q) for q in await interviews.questions_of(session, interview.id)]
    return Joined(interview.candidate_id, interview, questions)


def question_view(question: Any) -> dict[str, Any]:
    return {
        "id": question.id,
        "order": question.order,
        "text": question.text,
        "category": question.category,
        "expected_minutes": question.expected_minutes,
    }


@dataclass(frozen=True)
class Progress:
    answers: dict[str, str]  # question id -> answer id, every answer stored
    ai_follow_ups: int  # AI follow-up questions stored (the budget already spent)


async def progress(services: Services, interview_id: str) -> Progress:
    """What the database says about a live interview's progress (the truth a resumed session follows)."""
    async with services.db.session() as session:
        stored = await answers.stored_answers(session, interview_id)
        sources = [q.source for q in await interviews.questions_of(session, interview_id)]
    return Progress(stored, answers.ai_follow_ups(sources))


async def mark_in_progress(services: Services, interview_id: str) -> None:
    """scheduled → in_progress (no-op when it already is)."""
    async with services.db.session() as session:
        interview = await interviews.get(session, interview_id)
        if interview is not None and interview.status == InterviewStatus.scheduled:
            await lifecycle.start(session, interview)


async def mark_completed(services: Services, interview_id: str, index: int) -> None:
    async with services.db.session() as session:
        interview = await interviews.get(session, interview_id)
        if interview is not None and interview.status == InterviewStatus.in_progress:
            await lifecycle.complete(session, interview, index=index)


async def mark_ended(services: Services, interview_id: str, index: int) -> None:
    """Ended early: an interview that had started is completed with what was answered; one that had not
    (HR ended it before the candidate joined) is cancelled."""
    async with services.db.session() as session:
        interview = await interviews.get(session, interview_id)
        if interview is not None and interview.status == InterviewStatus.in_progress:
            await lifecycle.complete(session, interview, index=index)
        elif interview is not None and interview.status == InterviewStatus.scheduled:
            await lifecycle.cancel(session, interview)


async def set_progress(services: Services, interview_id: str, index: int) -> None:
    async with services.db.session() as session:
        interview = await interviews.get(session, interview_id)
        if interview is not None and interview.current_question_index != index:
            interview.current_question_index, interview.updated_at = index, utcnow()
            session.add(interview)


async def save_answer(
    services: Services,
    interview_id: str,
    question_id: str,
    transcript: Transcript | None,
    recording: AnswerRecording,
    started_at: datetime | None,
    ended_at: datetime | None,
    *,
    retry_for_s: float = 0.0,
) -> str:
    """Store the answer's recording (WAV, generated name) and row, queued for scoring; returns its id,
    committed (so the caller may acknowledge it).

    A stored answer is final (:func:`server.domain.answers.record_live_answer`): a second save for the
    question keeps the first answer, returns its id and removes the files it brought. So a save whose
    commit was lost with its connection is retried safely: while the database is unreachable the row is
    tried again with backoff for up to ``retry_for_s`` seconds, then the last error is raised.
    """
    relative = await _store_wav(services, recording.wav_bytes())
    text = transcript.text if transcript else ""
    analysis = delivery.analyse(
        text, transcript.words if transcript else [], transcript.confidence if transcript else None
    )
    metrics = {
        **(media_metrics(transcript, analysis) if transcript else {}),
        "live": {
            "started_at": _iso(started_at),
            "ended_at": _iso(ended_at),
            "seconds": round(recording.seconds, 2),
            "video_path": _relative(services, recording.video),
        },
    }
    answer = LiveAnswer(text, relative, metrics, analysis.emotion, analysis.confidence)
    recorded = await _retrying(
        lambda: answers.record_live_answer(services.db, interview_id, question_id, answer), retry_for_s
    )
    if not recorded.created:
        log.warning("live_answer_kept", interview_id=interview_id, question_id=question_id)
        await _discard(services, relative, recording.video)
        return recorded.answer_id
    services.jobs.notify(recorded.answer_id)
    return recorded.answer_id


SAVE_FIRST_DELAY_S, SAVE_MAX_DELAY_S = 0.25, 2.0


async def _retrying(work: Callable[[], Awaitable[T]], retry_for_s: float) -> T:
    """``work()``, tried again with backoff after a transient error for up to ``retry_for_s`` seconds."""
    deadline, delay = time.monotonic() + retry_for_s, SAVE_FIRST_DELAY_S
    while True:
        try:
            return await work()
        except Exception as exc:
            if not _transient(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("live_save_retry", error_type=type(exc).__name__, delay_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, SAVE_MAX_DELAY_S)


def _transient(exc: Exception) -> bool:
    """A database error that another attempt may not meet: a lost or refused connection, a timeout, a
    locked SQLite file (not a constraint or a bug in the statement)."""
    if isinstance(exc, DBAPIError):
        return unavailable(exc)
    return isinstance(exc, OSError | TimeoutError)


async def _discard(services: Services, relative: str, video: Path | None) -> None:
    """Remove the files of a save that found its question already answered."""
    paths = [anyio.Path(services.settings.uploads_dir) / relative]
    if video is not None:
        paths.append(anyio.Path(video))
    for path in paths:
        await path.unlink(missing_ok=True)


async def _store_wav(services: Services, data: bytes) -> str:
    folder = anyio.Path(services.settings.uploads_dir) / "answers"
    await folder.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.wav"
    await (folder / name).write_bytes(data)
    return f"answers/{name}"


def _relative(services: Services, path: Path | None) -> str | None:
    """A stored file's path relative to the uploads folder (how answers refer to their media)."""
    return None if path is None else path.relative_to(services.settings.uploads_dir).as_posix()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def add_follow_up(
    services: Services, interview_id: str, after_question_id: str | None, text: str, source: str = "follow_up"
) -> dict[str, Any]:
    """Store a follow-up right after the question it follows (``source``: ``follow_up`` for the AI's,
    ``hr`` for HR's); returns its view. Without that question, it goes last.

    Later questions move down one place, so ``order`` stays the order in which questions are asked.
    """
    from server.store.models import Question

    async with services.db.session() as session:
        questions = list(await interviews.questions_of(session, interview_id))
        parent = next((q for q in questions if q.id == after_question_id), None)
        position = (parent.order if parent else (questions[-1].order if questions else 0)) + 1
        for later in sorted((q for q in questions if q.order >= position), key=lambda q: -q.order):
            later.order += 1
            session.add(later)
            await session.flush()
        question = Question(
            interview_id=interview_id,
            order=position,
            text=text,
            category="follow_up",
            expected_minutes=2,
            source=source,
            key_concepts=[],
        )
        session.add(question)
        await session.flush()
        view = question_view(question)
    log.info("follow_up_added", interview_id=interview_id, after=after_question_id)
    return view
