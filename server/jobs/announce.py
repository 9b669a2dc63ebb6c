"""Tell the interview's monitors what background work produced: an answer's scores, then the report
(and, for a practice session, write its results into the tracked interview).

Both go on the interview's event stream (``server.store.channels.events_channel``), which the HR monitor
socket relays from any instance. Announcing never fails the work that produced the result.
"""

from __future__ import annotations

from server import practice
from server.logs import log
from server.services import Services
from server.store import interviews
from server.store.channels import events_channel
from server.store.models import AnswerStatus, InterviewStatus
from server.workflows import report_001

REPORT_ONCE_S = 30 * 24 * 3600
FINISHED = (InterviewStatus.completed, InterviewStatus.evaluated)


async def scored(services: Services, answer_id: str) -> None:
    """Publish ``answer.scored`` for a completed answer, then ``report.ready`` if that was the last one."""
    try:
        async with services.db.session() as session:
            answer = await interviews.get_answer(session, answer_id)
        if answer is None or answer.status != AnswerStatus.completed:
            return
        event = {
            "type": "answer.scored",
            "question_id": answer.question_id,
            "answer_id": answer.id,
            "scores": {
                "accuracy": answer.ai_accuracy or 0.0,
                "communication": answer.ai_communication or 0.0,
                "behaviour": answer.ai_behaviour or 0.0,
                "overall": answer.ai_score or 0.0,
            },
            "feedback": answer.ai_feedback or "",
            "provider": answer.ai_provider or "",
        }
        await services.bus.publish(events_channel(answer.interview_id), event)
    except Exception as exc:
        log.warning("announce_failed", what="answer.scored", error_type=type(exc).__name__)
        return
    await report_if_ready(services, answer.interview_id)


async def report_if_ready(services: Services, interview_id: str) -> None:
    """When the interview is over and every answer is scored: record a practice session's results, and
    publish ``report.ready`` (once per interview)."""
    try:
        async with services.db.session() as session:
            interview = await interviews.get(session, interview_id)
            if interview is None or interview.status not in FINISHED:
                return
            report = await report_001(services, session, interview)
        if "decision" not in report:
            return
        await practice.record_results(services, interview_id, report)
        if await services.store.incr(f"report-ready:{interview_id}", REPORT_ONCE_S) != 1:
            return
        event = {
            "type": "report.ready",
            "report_url": f"/interviews/{interview_id}/report",
            "decision": report["decision"],
            "scores": report["scores"],
        }
        await services.bus.publish(events_channel(interview_id), event)
    except Exception as exc:
        log.warning("announce_failed", what="report.ready", error_type=type(exc).__name__)
