"""Background scoring of answers: bounded concurrency, resumed after a restart.

``submit(answer_id)`` returns at once; the answer moves submitted → processing → completed | failed.
"""

from __future__ import annotations

import asyncio

from server.logs import log
from server.services import Services
from server.store import interviews


class Scorer:
    def __init__(self, services: Services, concurrency: int = 4) -> None:
        self._services = services
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def submit(self, answer_id: str) -> None:
        if self._closing:
            return
        task = asyncio.create_task(self._run(answer_id), name=f"score-{answer_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, answer_id: str) -> None:
        from server.workflows import score_answer

        async with self._slots:
            try:
                await score_answer(self._services, answer_id)
            except Exception as exc:  # never let a background task die silently
                log.error("scoring_task_failed", answer_id=answer_id, error_type=type(exc).__name__)

    async def recover(self) -> int:
        """Queue every answer left submitted or processing by a previous run; returns how many."""
        async with self._services.db.session() as session:
            pending = [answer.id for answer in await interviews.unscored_answers(session)]
        for answer_id in pending:
            self.submit(answer_id)
        return len(pending)

    async def drain(self) -> None:
        """Wait for the queued work (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace_s: float = 10.0) -> None:
        """Stop taking work, give running scores ``grace_s`` to finish, then cancel (they resume at start)."""
        self._closing = True
        try:
            await asyncio.wait_for(self.drain(), grace_s)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
