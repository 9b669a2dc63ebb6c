"""Durable answer processing: the database is the queue, leases make it safe to run many workers.

An answer waiting for work has status ``submitted`` (text to score) or ``uploaded`` (media to transcribe,
analyse and score). A worker claims one with a conditional UPDATE (status → ``processing``, its id, a lease
deadline); a worker that dies leaves an expired lease, and the next worker claims the answer again. Every
write of results is fenced on the claiming worker's id, so a job finishes exactly once even if a stalled
worker wakes up late. The app runs one embedded worker by default; ``python -m server worker`` runs more.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select

from server.logs import log
from server.services import Services
from server.store.models import Answer, AnswerStatus, utcnow

QUEUED = (AnswerStatus.submitted.value, AnswerStatus.uploaded.value)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class AnswerWorker:
    def __init__(
        self, services: Services, *, concurrency: int = 2, poll_s: float = 1.0, lease_s: float = 300.0
    ) -> None:
        self.services = services
        self.worker_id = worker_name()
        self.concurrency = max(1, concurrency)
        self.poll_s, self.lease_s = poll_s, lease_s
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False

    def notify(self, _answer_id: str | None = None) -> None:
        """Work was queued: look for it now rather than at the next poll."""
        self._wake.set()

    submit = notify

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name=f"answer-worker-{self.worker_id}")
            self.spawn(self._recover_voice_notes())

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run one-off background work, tracked so that shutdown waits for (or cancels) it."""
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._done)

    async def _recover_voice_notes(self) -> None:
        from server.jobs.pipeline import transcribe_voice_note
        from server.store.models import Evaluation

        async with self.services.db.session() as session:
            rows = await session.exec(
                select(Evaluation.id).where(
                    col(Evaluation.voice_note_path).is_not(None),
                    col(Evaluation.voice_note_transcript).is_(None),
                )
            )
            pending = list(rows.all())
        for evaluation_id in pending:
            await transcribe_voice_note(self.services, evaluation_id)

    async def run_until_stopped(self, stop: asyncio.Event) -> None:
        self.start()
        await stop.wait()
        await self.close()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                claimed = await self._claim(self.concurrency - len(self._running))
            except Exception as exc:  # database briefly unreachable: keep going
                log.warning("worker_claim_failed", error_type=type(exc).__name__)
                claimed = []
            for answer_id, token in claimed:
                task = asyncio.create_task(self._process(answer_id, token), name=f"answer-{answer_id}")
                self._running.add(task)
                task.add_done_callback(self._done)
            if not claimed:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_s)
                except TimeoutError:
                    pass

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()

    async def _claim(self, slots: int) -> list[tuple[str, str]]:
        """Claim up to ``slots`` answers (queued, or processing with an expired lease): (id, claim token)."""
        if slots <= 0:
            return []
        now = utcnow()
        due = or_(
            col(Answer.status).in_(QUEUED),
            (col(Answer.status) == AnswerStatus.processing.value) & (col(Answer.job_lease_until) < now),
        )
        claimed: list[tuple[str, str]] = []
        async with self.services.db.session() as session:
            rows = await session.exec(
                select(Answer.id).where(due).order_by(col(Answer.updated_at)).limit(slots * 2)
            )
            candidates = list(rows.all())
        for answer_id in candidates:
            if len(claimed) >= slots:
                break
            token = f"{self.worker_id}/{uuid.uuid4().hex[:8]}"
            async with self.services.db.session() as session:
                result = await session.exec(
                    update(Answer)
                    .where(col(Answer.id) == answer_id, due)
                    .values(
                        status=AnswerStatus.processing.value,
                        job_worker=token,
                        job_lease_until=now + timedelta(seconds=self.lease_s),
                        job_attempts=col(Answer.job_attempts) + 1,
                    )
                )
                if result.rowcount == 1:
                    claimed.append((answer_id, token))
        return claimed

    async def _process(self, answer_id: str, token: str) -> None:
        from server.jobs.pipeline import process_answer

        heartbeat = asyncio.create_task(self._keep_lease(answer_id, token))
        try:
            await process_answer(self.services, answer_id, token)
        except Exception as exc:
            log.error("answer_job_crashed", answer_id=answer_id, error_type=type(exc).__name__)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    async def _keep_lease(self, answer_id: str, token: str) -> None:
        """Extend the lease every third of its length while the job runs (a dead worker stops doing this)."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                async with self.services.db.session() as session:
                    await session.exec(
                        update(Answer)
                        .where(
                            col(Answer.id) == answer_id,
                            col(Answer.job_worker) == token,
                            col(Answer.status) == AnswerStatus.processing.value,
                        )
                        .values(job_lease_until=utcnow() + timedelta(seconds=self.lease_s))
                    )
            except Exception as exc:  # the final write is fenced anyway
                log.warning("lease_renewal_failed", answer_id=answer_id, error_type=type(exc).__name__)

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Wait until nothing is queued or running (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            async with self.services.db.session() as session:
                rows = await session.exec(
                    select(Answer.id)
                    .where(col(Answer.status).in_([*QUEUED, AnswerStatus.processing.value]))
                    .limit(1)
                )
                if rows.first() is None and not self._running:
                    return
            self._wake.set()
            await asyncio.sleep(0.05)

    async def close(self, grace_s: float = 10.0) -> None:
        """Stop claiming, let running jobs finish for ``grace_s``, then cancel (their leases expire)."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._running:
            _, pending = await asyncio.wait(list(self._running), timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
