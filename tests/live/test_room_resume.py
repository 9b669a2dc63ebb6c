"""Resume after a server restart: the session snapshot lives in Redis; nothing is lost or doubled."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from tests.live.client import Candidate, to_16k
from tests.live.test_room import QUESTIONS, answer_question, schedule, ws_url
from tests.media import ANSWER_TEXT, speech, word_error_rate
from tests.support import REDIS_URL, Api, live_server, redis_reachable, unavailable

pytestmark = pytest.mark.redis


def test_restart_mid_interview_resumes(tmp_path: Path) -> None:
    """The server stops after the first answer; a new server resumes the same session from Redis, asks the
    remaining questions, and the database holds exactly one answer per question."""
    if not redis_reachable():
        unavailable("Redis", REDIS_URL)
    db = tmp_path / "viva.db"
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{db}",
        redis_url=REDIS_URL,
        redis_prefix=f"viva-test-{uuid.uuid4().hex[:8]}:",
        secret_key="restart-test-secret-key-shared-by-both-servers",
    )
    pcm, rate = speech()
    audio = to_16k(pcm, rate)
    with live_server(settings) as first, httpx.Client(base_url=first.base_url, timeout=30) as http:
        api = Api(http, first)
        headers, interview_id, token = schedule(api)
        client = Candidate(ws_url(api, interview_id), token)
        welcome = client.hello()
        client.start_audio()
        started = client.expect("question.started")
        final = answer_question(client, started, audio, done=True)
        assert word_error_rate(ANSWER_TEXT, final["text"]) < 0.35
        last_seq = max(m["seq"] for m in client.messages if "seq" in m)
        client.close()
    with live_server(settings) as second, httpx.Client(base_url=second.base_url, timeout=30) as http:
        api = Api(http, second)
        client = Candidate(ws_url(api, interview_id), token)
        resumed = client.hello(resume=True, last_seq=last_seq)
        assert resumed["session_id"] == welcome["session_id"] and resumed["resumed"] is True
        assert started["question_id"] in resumed["state"]["answered"]
        assert resumed["seq"] > last_seq
        client.start_audio()
        asked = []
        while (message := client.expect_any(("question.started", "interview.completed")))["type"] == (
            "question.started"
        ):
            assert message["question_id"] != started["question_id"], "an answered question is not asked again"
            asked.append(message["question_id"])
            answer_question(client, message, audio, done=True)
        client.close()
        assert len(asked) >= len(QUESTIONS) - 1
        deadline = time.monotonic() + 30
        while "decision" not in (
            report := http.get(f"/interviews/{interview_id}/report", headers=headers).json()
        ):
            assert time.monotonic() < deadline, report
            time.sleep(0.2)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT question_id, COUNT(*) FROM answers GROUP BY question_id").fetchall()
    assert len(rows) == 1 + len(asked) and all(count == 1 for _, count in rows)
