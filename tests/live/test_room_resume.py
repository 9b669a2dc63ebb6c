"""Resume after a server restart: the session snapshot lives in Redis; nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.config import Settings
from tests.live.client import Candidate, to_16k
from tests.live.rtc_client import RtcCandidate
from tests.live.support import QUESTIONS, answer_question, schedule, ws_url
from tests.media import ANSWER_TEXT, speech, word_error_rate
from tests.support import REDIS_URL, Api, live_server, make_settings, redis_reachable, unavailable

pytestmark = pytest.mark.redis


def test_restart_mid_interview_resumes(tmp_path: Path) -> None:
    """The server stops after the first answer; a new server resumes the same session from Redis, asks the
    remaining questions, and the database holds exactly one answer per question."""
    if not redis_reachable():
        unavailable("Redis", REDIS_URL)
    db = tmp_path / "viva.db"
    settings = _restart_settings(tmp_path)
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


def _restart_settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'viva.db'}",
        redis_url=REDIS_URL,
        redis_prefix=f"viva-test-{uuid.uuid4().hex[:8]}:",
        secret_key="restart-test-secret-key-shared-by-both-servers",
    )


async def _answer_over_webrtc(client: RtcCandidate, question_id: str, pcm: Any, rate: int) -> dict[str, Any]:
    """Play along with the question, speak the answer into the peer's microphone; ``transcript.final``."""
    await client.expect("question.audio.end")
    await client.send({"type": "playback.ended", "question_id": question_id})
    await client.expect("listening")
    client.mic.say(pcm, rate)
    await client.mic.drained.wait()
    await asyncio.sleep(0.3)
    await client.send({"type": "answer.done", "question_id": question_id})
    final = await client.expect("transcript.final", within_s=90)
    saved = await client.expect("answer.saved", within_s=60)
    assert final["question_id"] == saved["question_id"] == question_id
    await client.send({"type": "ping"})
    return final


async def test_restart_mid_interview_resumes_over_webrtc(tmp_path: Path) -> None:
    """The same over WebRTC: a real aiortc peer answers the first question, the server stops; a new server
    resumes the session from Redis, the peer reconnects (``hello`` with ``resume``, a new offer) and answers
    the rest; every transcript matches the words, and the database holds exactly one answer per question."""
    if not redis_reachable():
        unavailable("Redis", REDIS_URL)
    settings = _restart_settings(tmp_path)
    pcm, rate = speech()
    finals: list[dict[str, Any]] = []
    with live_server(settings) as first, httpx.Client(base_url=first.base_url, timeout=30) as http:
        headers, interview_id, token = await asyncio.to_thread(schedule, Api(http, first))
        client = await RtcCandidate.connect(ws_url(Api(http, first), interview_id))
        try:
            await client.send({"type": "hello", "token": token, "protocol": "1.0"})
            welcome = await client.expect("welcome")
            await client.offer()
            started = await client.expect("question.started")
            finals.append(await _answer_over_webrtc(client, started["question_id"], pcm, rate))
            last_seq = max(m["seq"] for m in client.messages if "seq" in m)
        finally:
            await client.close()
    with live_server(settings) as second, httpx.Client(base_url=second.base_url, timeout=30) as http:
        client = await RtcCandidate.connect(ws_url(Api(http, second), interview_id))
        asked = []
        try:
            hello = {"type": "hello", "token": token, "protocol": "1.0", "resume": True, "last_seq": last_seq}
            await client.send(hello)
            resumed = await client.expect("welcome")
            assert resumed["session_id"] == welcome["session_id"] and resumed["resumed"] is True
            assert started["question_id"] in resumed["state"]["answered"]
            await client.offer()
            while (message := await client.expect_any(("question.started", "interview.completed")))[
                "type"
            ] == "question.started":
                assert message["question_id"] != started["question_id"], (
                    "an answered question is not asked again"
                )
                asked.append(message["question_id"])
                finals.append(await _answer_over_webrtc(client, message["question_id"], pcm, rate))
        finally:
            await client.close()
        assert len(asked) >= len(QUESTIONS) - 1
        assert all(word_error_rate(ANSWER_TEXT, f["text"]) < 0.35 for f in finals), [
            f["text"] for f in finals
        ]
        deadline = time.monotonic() + 30
        while "decision" not in (
            report := (
                await asyncio.to_thread(http.get, f"/interviews/{interview_id}/report", headers=headers)
            ).json()
        ):
            assert time.monotonic() < deadline, report
            await asyncio.sleep(0.2)
    with sqlite3.connect(tmp_path / "viva.db") as conn:
        rows = conn.execute("SELECT question_id, COUNT(*) FROM answers GROUP BY question_id").fetchall()
    assert len(rows) == 1 + len(asked) and all(count == 1 for _, count in rows)
