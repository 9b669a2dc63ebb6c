"""An acknowledged answer is never lost or replaced: servers killed with SIGKILL right after ``answer.saved``.

Each test states the figure it checks: the answers acknowledged before the kill against the rows stored
after it (same ids, same text), one row per question at the end, and ``seq`` going on after the kill.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from server.domain.answers import LiveAnswer, Recorded, record_live_answer
from server.store import interviews
from server.store.db import Database
from tests.live.client import Candidate, Monitor, to_16k
from tests.live.support import (
    answer_question,
    free_port,
    instance_env,
    monitor_url,
    rejoin,
    start_instance,
)
from tests.live.support import schedule as schedule_two
from tests.media import speech
from tests.support import ADMIN_EMAIL, ADMIN_PASSWORD, Api

QUESTIONS = [
    {"text": "Tell me about a REST API you designed.", "expected_duration_minutes": 2},
    {"text": "How do you test a web service?", "expected_duration_minutes": 2},
    {"text": "How do you deploy a service safely?", "expected_duration_minutes": 2},
]
SECRET = "durable-answers-test-secret-key-of-32-or-more-chars"


@dataclass
class Remote:
    """A server in another process, as the ``Api`` helper sees one."""

    base_url: str


def embedded_env(data_dir: Path) -> dict[str, str]:
    """The embedded default: SQLite under the data dir, no Redis."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        VIVA_DATA_DIR=str(data_dir),
        VIVA_SECRET_KEY=SECRET,
        VIVA_ADMIN_EMAIL=ADMIN_EMAIL,
        VIVA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        VIVA_TTS_PREFETCH="false",
        VIVA_LIVE_MAX_FOLLOW_UPS="1",
        VIVA_LOG_LEVEL="WARNING",
    )
    return env


@dataclass
class Instance:
    process: subprocess.Popen[bytes]
    base_url: str

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def start(env: dict[str, str], log: Path) -> Instance:
    port = free_port()
    env = {**env, "VIVA_INSTANCE_URL": f"http://127.0.0.1:{port}"}
    return Instance(start_instance(env, port, log), f"http://127.0.0.1:{port}")


@pytest.fixture
def instances() -> Iterator[list[Instance]]:
    started: list[Instance] = []
    yield started
    for instance in started:
        if instance.process.poll() is None:
            instance.kill()


def schedule(base_url: str) -> tuple[str, str, str]:
    """A registered candidate and a three-question interview for them: (interview id, candidate token,
    HR token)."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        api = Api(http, Remote(base_url))  # type: ignore[arg-type]
        hr = api.make_user("hr")
        candidate = api.register(email=f"durable-{uuid.uuid4().hex[:8]}@test.example")
        me = http.get("/auth/me", headers=candidate).json()
        response = http.post(
            "/api/v1/interview/schedule",
            headers=hr["headers"],
            json={"candidate_id": me["id"], "job_title": "Backend Engineer", "questions": QUESTIONS},
        )
        assert response.status_code == 201, response.text
        return response.json()["id"], _token(candidate), _token(hr["headers"])


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def room_url(base_url: str, interview_id: str) -> str:
    return base_url.replace("http://", "ws://") + f"/ws/interviews/{interview_id}"


def answer_two_then_kill(
    instance: Instance, interview_id: str, token: str, audio: bytes
) -> tuple[dict[str, str], int]:
    """Answer the first two questions; SIGKILL the server the moment the second ``answer.saved`` arrives.
    Returns (question id -> acknowledged answer id, the highest seq the candidate saw)."""
    client = Candidate(room_url(instance.base_url, interview_id), token)
    acknowledged: dict[str, str] = {}
    try:
        client.hello()
        client.start_audio()
        for _ in range(2):
            started = client.expect("question.started")
            answer_question(client, started, audio, done=True)
            saved = next(m for m in reversed(client.messages) if m["type"] == "answer.saved")
            acknowledged[saved["question_id"]] = saved["answer_id"]
        instance.kill()  # right after the second answer.saved: no grace for anything still in flight
        last_seq = max(m["seq"] for m in client.messages if "seq" in m)
    finally:
        client.close()
    return acknowledged, last_seq


def finish(client: Candidate, audio: bytes, acknowledged: dict[str, str]) -> list[str]:
    """Answer whatever the resumed session asks until it completes; the question ids asked."""
    client.start_audio()
    asked = []
    while (message := client.expect_any(("question.started", "interview.completed"), 90))["type"] == (
        "question.started"
    ):
        assert message["question_id"] not in acknowledged, "an acknowledged answer's question is asked again"
        asked.append(message["question_id"])
        answer_question(client, message, audio, done=True)
    client.close()
    return asked


def sqlite_answers(db: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT question_id, id, transcript FROM answers").fetchall()
    return {question_id: (answer_id, text) for question_id, answer_id, text in rows}


def test_embedded_default_resumes_after_sigkill_right_after_answer_saved(
    tmp_path: Path, instances: list[Instance]
) -> None:
    """SQLite, no Redis. Killed the moment the second answer is acknowledged, the restarted server resumes
    the session (resumed, seq beyond what the candidate saw, both answers counted), a monitor replays the
    history from before the kill, only the third question is asked, and every acknowledged answer is
    stored once with its text unchanged."""
    data_dir = tmp_path / "data"
    pcm, rate = speech()
    audio = to_16k(pcm, rate)
    first = start(embedded_env(data_dir), tmp_path / "first.log")
    instances.append(first)
    interview_id, token, hr_token = schedule(first.base_url)
    acknowledged, last_seq = answer_two_then_kill(first, interview_id, token, audio)
    stored_at_kill = sqlite_answers(data_dir / "viva.db")
    assert {q: stored_at_kill[q][0] for q in acknowledged} == acknowledged, "acknowledged = stored"

    second = start(embedded_env(data_dir), tmp_path / "second.log")
    instances.append(second)
    monitor = Monitor(monitor_url(second.base_url, interview_id), hr_token)
    try:  # the event history outlived the process: the first answer's save, published before the kill
        first_answer = next(iter(acknowledged.items()))
        monitor.wait("answer.saved", question_id=first_answer[0], answer_id=first_answer[1], timeout=15)
    finally:
        monitor.close()
    client, welcome = rejoin(room_url(second.base_url, interview_id), token, last_seq)
    assert welcome["resumed"] is True
    assert set(acknowledged) <= set(welcome["state"]["answered"])
    assert welcome["seq"] > last_seq
    asked = finish(client, audio, acknowledged)
    assert asked and asked[0] not in acknowledged

    stored = sqlite_answers(data_dir / "viva.db")
    for question_id, answer_id in acknowledged.items():
        assert stored[question_id] == stored_at_kill[question_id], "an acknowledged answer was replaced"
        assert stored[question_id][0] == answer_id
    assert len(stored) == 2 + len(asked), "one row per question"
    with sqlite3.connect(data_dir / "viva.db") as conn:
        follow_ups = conn.execute(
            "SELECT COUNT(*) FROM questions WHERE interview_id = ? AND source = 'follow_up'", (interview_id,)
        ).fetchone()[0]
    assert follow_ups <= 1, "the AI follow-up budget (1) survives the restart"


@pytest.mark.redis
@pytest.mark.postgres
def test_two_instances_holder_killed_right_after_answer_saved(
    tmp_path: Path, shared_database: str, instances: list[Instance]
) -> None:
    """Redis + PostgreSQL, two instances. The holder is killed the moment the second answer is
    acknowledged; the other instance takes the session over, never asks either question again, and the
    acknowledged rows are unchanged (same ids, same text) with one row per question."""
    prefix = f"viva-test-{uuid.uuid4().hex[:8]}:"
    pcm, rate = speech()
    audio = to_16k(pcm, rate)
    env_a = instance_env(shared_database, prefix, tmp_path / "data", 0)
    a = start(env_a, tmp_path / "a.log")
    b = start(instance_env(shared_database, prefix, tmp_path / "data", 0), tmp_path / "b.log")
    instances.extend([a, b])
    interview_id, token, _ = schedule(b.base_url)
    acknowledged, last_seq = answer_two_then_kill(a, interview_id, token, audio)
    at_kill = _pg_answers(shared_database, interview_id)
    assert {q: at_kill[q][0] for q in acknowledged} == acknowledged, "acknowledged = stored"

    client, welcome = rejoin(room_url(b.base_url, interview_id), token, last_seq, within_s=60)
    assert welcome["resumed"] is True and set(acknowledged) <= set(welcome["state"]["answered"])
    assert welcome["seq"] > last_seq
    asked = finish(client, audio, acknowledged)

    stored = _pg_answers(shared_database, interview_id)
    for question_id in acknowledged:
        assert stored[question_id] == at_kill[question_id], "an acknowledged answer was replaced"
    assert len(stored) == 2 + len(asked), "one row per question"


def _pg_answers(url: str, interview_id: str) -> dict[str, tuple[str, str]]:
    async def read() -> dict[str, tuple[str, str]]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            rows = await conn.fetch(
                "SELECT question_id, id, transcript FROM answers WHERE interview_id = $1", interview_id
            )
        finally:
            await conn.close()
        return {row["question_id"]: (row["id"], row["transcript"]) for row in rows}

    return asyncio.run(read())


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_a_live_resave_keeps_the_stored_answer(api: Api) -> None:
    """A second live save for an answered question (a retry, a stale snapshot, another instance) keeps the
    first answer: same id, same text, no second row."""
    _, interview_id, _ = schedule_two(api)
    first, again, rows = asyncio.run(_save_twice(api.server.settings.effective_database_url, interview_id))
    assert first.created and not again.created and again.answer_id == first.answer_id
    assert rows == [(first.answer_id, "the first answer", "a.wav")]


async def _save_twice(url: str, interview_id: str) -> tuple[Recorded, Recorded, list[tuple[Any, ...]]]:
    db = Database(url)
    try:
        async with db.session() as session:
            question_id = (await interviews.questions_of(session, interview_id))[0].id
        first = await record_live_answer(
            db, interview_id, question_id, LiveAnswer("the first answer", "a.wav")
        )
        again = await record_live_answer(db, interview_id, question_id, LiveAnswer("a replacement", "b.wav"))
        async with db.session() as session:
            stored = await interviews.answers_of(session, interview_id)
        return first, again, [(row.id, row.transcript, row.media_path) for row in stored]
    finally:
        await db.close()
