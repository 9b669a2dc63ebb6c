"""One answer's processing: (media → audio → transcript → delivery) → AI score → stored, fenced on the worker.

Called by ``AnswerWorker`` after it claimed the answer; every write checks the answer is still claimed by
this worker, so a job whose lease was taken over never writes twice.
"""

from __future__ import annotations

from typing import Any

import anyio
from sqlalchemy import update
from sqlmodel import col

from server.domain.errors import ServiceUnavailable, UploadRejected
from server.jobs import announce
from server.logs import log
from server.services import Services
from server.speech import delivery, media
from server.speech.stt import Transcript
from server.store import files, interviews
from server.store.models import Answer, AnswerStatus, Question, utcnow
from server.workflows import score_columns, score_request

MAX_ATTEMPTS = 3


async def _fenced(services: Services, answer_id: str, worker_id: str, **values: Any) -> bool:
    """Write ``values`` only while this worker still holds the answer; True when written."""
    async with services.db.session() as session:
        result = await session.exec(
            update(Answer)
            .where(
                col(Answer.id) == answer_id,
                col(Answer.job_worker) == worker_id,
                col(Answer.status) == AnswerStatus.processing.value,
            )
            .values(updated_at=utcnow(), **values)
        )
        return bool(result.rowcount == 1)


async def transcribe_file(services: Services, relative_path: str) -> tuple[Transcript, delivery.Delivery]:
    """Decode a stored recording's audio, transcribe it and analyse the delivery."""
    path = files.resolve_stored(services.settings.uploads_dir, relative_path)
    audio = await anyio.to_thread.run_sync(
        media.decode_audio, path, float(services.settings.max_media_seconds)
    )
    transcript = await services.stt.transcribe(audio)
    return transcript, delivery.analyse(transcript.text, transcript.words, transcript.confidence)


def media_metrics(transcript: Transcript, analysis: delivery.Delivery) -> dict[str, Any]:
    return {
        "delivery": analysis.as_dict(),
        "asr": {
            "model": transcript.model,
            "confidence": transcript.confidence,
            "duration_s": round(transcript.duration_s, 2),
            "compute_s": round(transcript.compute_s, 3),
            "segments": [
                {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text}
                for s in transcript.segments
            ],
        },
    }


async def process_answer(services: Services, answer_id: str, worker_id: str) -> None:
    async with services.db.session() as session:
        answer = await interviews.get_answer(session, answer_id)
        if answer is None or answer.job_worker != worker_id:
            return
        question = await session.get(Question, answer.question_id)
        interview = await interviews.get(session, answer.interview_id)
    try:
        if answer.media_path and not answer.transcript:
            transcript, analysis = await transcribe_file(services, answer.media_path)
            answer.transcript = transcript.text
            if not await _fenced(
                services,
                answer_id,
                worker_id,
                transcript=transcript.text,
                metrics=media_metrics(transcript, analysis),
                emotion=analysis.emotion,
                confidence=analysis.confidence,
            ):
                return
        result = await services.ai.score(score_request(answer, question, interview))
        if await _fenced(services, answer_id, worker_id, job_lease_until=None, **score_columns(result)):
            await announce.scored(services, answer_id)
    except UploadRejected as exc:
        await _fenced(
            services,
            answer_id,
            worker_id,
            status=AnswerStatus.failed.value,
            failure_reason=exc.public_message,
            job_lease_until=None,
        )
    except Exception as exc:
        await _retry_or_fail(services, answer, worker_id, exc)


async def _retry_or_fail(services: Services, answer: Answer, worker_id: str, exc: Exception) -> None:
    log.error(
        "answer_processing_failed",
        answer_id=answer.id,
        attempt=answer.job_attempts,
        error_type=type(exc).__name__,
    )
    queued = AnswerStatus.uploaded if answer.media_path else AnswerStatus.submitted
    if isinstance(exc, ServiceUnavailable) or answer.job_attempts < MAX_ATTEMPTS:
        await _fenced(services, answer.id, worker_id, status=queued.value, job_lease_until=None)
    else:
        await _fenced(
            services,
            answer.id,
            worker_id,
            status=AnswerStatus.failed.value,
            failure_reason="Processing failed after several attempts",
            job_lease_until=None,
        )


async def transcribe_voice_note(services: Services, evaluation_id: str) -> None:
    """Transcribe an HR evaluation's voice note and store the text with the evaluation (idempotent)."""
    from server.store.models import Evaluation

    async with services.db.session() as session:
        evaluation = await session.get(Evaluation, evaluation_id)
        path = evaluation.voice_note_path if evaluation else None
    if not path:
        return
    try:
        transcript, _ = await transcribe_file(services, path)
        text = transcript.text or ""
    except UploadRejected as exc:
        text = f"[not transcribed: {exc.public_message}]"
    except Exception as exc:
        log.error(
            "voice_note_transcription_failed", evaluation_id=evaluation_id, error_type=type(exc).__name__
        )
        return
    async with services.db.session() as session:
        await session.exec(
            update(Evaluation)
            .where(col(Evaluation.id) == evaluation_id, col(Evaluation.voice_note_path) == path)
            .values(voice_note_transcript=text)
        )
