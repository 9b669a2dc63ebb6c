"""What HR does to a live interview from the monitor: who may watch, the state shown on joining, and the
actions (a follow-up question, a private note, ending the interview), each recorded with who did it.

Actions reach the session wherever it is held (see ``LiveRooms.command``); notes never reach the
candidate: they go to the database and the interview's event stream, which only monitors read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol.messages import QuestionInfo
from protocol.monitor import CandidateInfo, MonitorState
from server.domain import access
from server.domain.errors import InvalidInput, NotFound
from server.live import actions
from server.services import Services
from server.session.machine import question_info, view_snapshot
from server.session.model import Question
from server.store import interviews
from server.store.channels import events_channel, snapshot_key
from server.store.models import Candidate, HrAction, Interview, InterviewStatus

OVER = (InterviewStatus.completed, InterviewStatus.evaluated, InterviewStatus.cancelled)


@dataclass(frozen=True)
class Watcher:
    """An HR user or admin watching one interview."""

    user_id: str
    name: str
    interview_id: str


async def watch(services: Services, token: str, interview_id: str) -> Watcher:
    """Check that the token's user is HR or an admin and that the interview exists.

    Raises NotAuthenticated (bad token or account), Forbidden (another role), NotFound.
    """
    async with services.db.session() as session:
        user = await access.authenticate(session, services.tokens, token)
        access.may_watch(user, await interviews.get(session, interview_id))
    return Watcher(user.id, user.name, interview_id)


async def monitor_state(services: Services, interview_id: str) -> MonitorState:
    """The interview as a joining monitor should draw it: from the live snapshot when the session has
    started, else from the database."""
    async with services.db.session() as session:
        interview = await interviews.get(session, interview_id)
        if interview is None:
            raise NotFound("Interview not found")
        candidate = await session.get(Candidate, interview.candidate_id)
        stored = list(await interviews.questions_of(session, interview_id))
        answered = [a.question_id for a in await interviews.answers_of(session, interview_id)]
    snapshot = await services.store.get(snapshot_key(interview_id))
    live = await services.store.owner(snapshot_key(interview_id)) is not None
    base: dict[str, Any] = {
        "status": str(interview.status),
        "live": live,
        "candidate": CandidateInfo(id=candidate.id, name=candidate.name) if candidate else None,
        "job_title": interview.job_title,
    }
    if snapshot is not None:
        view = view_snapshot(snapshot)
        return MonitorState(
            phase=view.phase, question=view.current, questions=view.questions, answered=view.answered, **base
        )
    infos = _infos(stored)
    current = next((info for info in infos if info.question_id not in answered), None)
    return MonitorState(phase=None, question=current, questions=infos, answered=answered, **base)


def _infos(stored: list[Any]) -> list[QuestionInfo]:
    questions = [Question(**actions.question_view(q)) for q in stored]
    return [question_info(q, n, len(questions)) for n, q in enumerate(questions, 1)]


async def follow_up(services: Services, watcher: Watcher, text: str) -> tuple[str, str]:
    """Add HR's question right after the current one (asked next); returns (action id, question id)."""
    interview_id = watcher.interview_id
    await _require_open(services, interview_id)
    current = await _current_question(services, interview_id)
    stored = await actions.add_follow_up(services, interview_id, current, text.strip(), source="hr")
    question = Question(**stored, follow_up_of=current) if current else Question(**stored)
    action_id = await _record(services, watcher, "follow_up", text.strip(), stored["id"])
    command = {"kind": "add_question", "question": question.model_dump(mode="json"), "added_by": watcher.name}
    await services.live.command(interview_id, command)
    return action_id, stored["id"]


async def note(services: Services, watcher: Watcher, text: str, question_id: str | None) -> str:
    """Store a private note on ``question_id`` (default: the current question) and tell the monitors."""
    interview_id = watcher.interview_id
    if question_id is None:
        question_id = await _current_question(services, interview_id)
    else:
        async with services.db.session() as session:
            if await interviews.get_question(session, interview_id, question_id) is None:
                raise NotFound("No such question in this interview")
    action_id = await _record(services, watcher, "note", text.strip(), question_id)
    event = {
        "type": "note.added",
        "note_id": action_id,
        "text": text.strip(),
        "author_id": watcher.user_id,
        "author_name": watcher.name,
        **({"question_id": question_id} if question_id else {}),
    }
    await services.bus.publish(events_channel(interview_id), event)
    return action_id


async def end(services: Services, watcher: Watcher, reason: str | None) -> str:
    """End the interview now (answers already stored are kept); returns the action id."""
    await _require_open(services, watcher.interview_id)
    action_id = await _record(services, watcher, "end", (reason or "").strip(), None)
    await services.live.command(watcher.interview_id, {"kind": "terminate", "by": watcher.name})
    return action_id


async def _require_open(services: Services, interview_id: str) -> Interview:
    async with services.db.session() as session:
        interview = await interviews.get(session, interview_id)
    if interview is None:
        raise NotFound("Interview not found")
    if interview.status in OVER:
        raise InvalidInput(
            f"The interview is {interview.status}", details={"status": [str(interview.status)]}
        )
    return interview


async def _current_question(services: Services, interview_id: str) -> str | None:
    """The id of the question being asked now (or next); None when none is left."""
    state = await monitor_state(services, interview_id)
    return state.question.question_id if state.question else None


async def _record(services: Services, watcher: Watcher, kind: str, text: str, question_id: str | None) -> str:
    async with services.db.session() as session:
        action = HrAction(
            interview_id=watcher.interview_id,
            kind=kind,
            question_id=question_id,
            text=text,
            actor_id=watcher.user_id,
            actor_name=watcher.name,
        )
        session.add(action)
        await session.flush()
        return action.id


def action_view(action: HrAction) -> dict[str, Any]:
    """An HR action as reports show it (to HR and admins only)."""
    return {
        "id": action.id,
        "kind": action.kind,
        "question_id": action.question_id,
        "text": action.text,
        "by": {"id": action.actor_id, "name": action.actor_name},
        "at": action.created_at.isoformat(),
    }
