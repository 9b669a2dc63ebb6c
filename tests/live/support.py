"""Helpers shared by the live tests: a scheduled interview and its room socket, an answer spoken into it,
the monitor socket, and server instances run as their own processes (to be killed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from protocol.monitor import parse_monitor_frame
from tests.live.client import Candidate
from tests.support import ADMIN_EMAIL, ADMIN_PASSWORD, REDIS_URL, Api

# ---------------------------------------------------------------------------------------------- the room


QUESTIONS = [
    {"text": "Tell me about a REST API you designed.", "expected_duration_minutes": 2},
    {"text": "How do you test a web service?", "expected_duration_minutes": 2},
]
SECOND = "I write unit tests and integration tests, and I run them in continuous integration."


def schedule_with_hr(api: Api) -> tuple[dict[str, Any], dict[str, str], str, str]:
    """An HR user, a registered candidate and an interview of QUESTIONS scheduled for them: (hr, candidate
    headers, interview id, candidate token)."""
    hr = api.make_user("hr", name="Hana Recruiter")
    candidate = api.register(email=f"live-{uuid.uuid4().hex[:8]}@test.example")
    me = api.client.get("/auth/me", headers=candidate).json()
    response = api.client.post(
        "/api/v1/interview/schedule",
        headers=hr["headers"],
        json={"candidate_id": me["id"], "job_title": "Backend Engineer", "questions": QUESTIONS},
    )
    assert response.status_code == 201, response.text
    return hr, candidate, response.json()["id"], candidate["Authorization"].split(" ", 1)[1]


def schedule(api: Api) -> tuple[dict[str, str], str, str]:
    _, candidate, interview_id, token = schedule_with_hr(api)
    return candidate, interview_id, token


def ws_url(api: Api, interview_id: str) -> str:
    return api.server.base_url.replace("http://", "ws://") + f"/ws/interviews/{interview_id}"


def answer_question(
    client: Candidate, started: dict[str, Any], pcm16k: bytes, *, done: bool, audio_ended: bool = False
) -> dict[str, Any]:
    """Play along with the started question (``audio_ended``: its ``question.audio.end`` was read
    already), speak the answer; returns ``transcript.final``."""
    if not audio_ended:
        client.expect("question.audio.end")
    client.send({"type": "playback.ended", "question_id": started["question_id"]})
    client.expect("listening")
    client.say(pcm16k)
    client.expect("speech.started")
    if done:
        client.wait_spoken()
        time.sleep(0.3)  # a little trailing silence, as a person pauses before pressing "done"
        client.send({"type": "answer.done", "question_id": started["question_id"]})
    final = client.expect("transcript.final", timeout=60)
    saved = client.expect("answer.saved", timeout=30)
    assert final["question_id"] == saved["question_id"] == started["question_id"]
    return final


# ------------------------------------------------------------------------------------------- the monitor


FOLLOW_UP = "Which of those indexes made the biggest difference, and how did you measure it?"


def monitor_url(base_url: str, interview_id: str) -> str:
    return base_url.replace("http://", "ws://") + f"/ws/monitor/{interview_id}"


def room_url(base_url: str, interview_id: str) -> str:
    return base_url.replace("http://", "ws://") + f"/ws/interviews/{interview_id}"


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def assert_contiguous(frames: list[dict[str, Any]], start: int = 1) -> None:
    """Frames carry seq start, start+1, ... with no gap, and each parses as a documented frame."""
    assert [f["seq"] for f in frames] == list(range(start, start + len(frames))), [f["seq"] for f in frames]
    for frame in frames:
        parse_monitor_frame(frame)


# ------------------------------------------------------------------------- server instances as processes


SECRET = "scale-out-test-secret-key-shared-by-every-instance"
OWNER_TTL_S = 3.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def instance_env(database_url: str, prefix: str, data_dir: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "VIVA_REDIS_PREFIX": prefix,
        "VIVA_SECRET_KEY": SECRET,
        "VIVA_DATA_DIR": str(data_dir),
        "VIVA_ADMIN_EMAIL": ADMIN_EMAIL,
        "VIVA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VIVA_INSTANCE_URL": f"http://127.0.0.1:{port}",
        "VIVA_LIVE_OWNER_TTL_S": str(OWNER_TTL_S),
        "VIVA_JOB_LEASE_S": "10",
        "VIVA_TTS_PREFETCH": "false",
        "VIVA_LOG_LEVEL": "WARNING",
    }


def start_instance(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """``python -m server serve`` as its own process (so that the test can kill it), once it is ready."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("instance A did not become ready: " + log.read_text()[-2000:])


def rejoin(url: str, token: str, last_seq: int, within_s: float = 30) -> tuple[Candidate, dict[str, Any]]:
    """Reconnect with resume until an instance takes the session (moved/refused answers are retried)."""
    deadline, refusals = time.monotonic() + within_s, []
    while time.monotonic() < deadline:
        client = Candidate(url, token)
        client.send(
            {"type": "hello", "token": token, "protocol": "1.0", "resume": True, "last_seq": last_seq}
        )
        try:
            reply = client.next_message(10)
            if reply["type"] == "welcome":
                return client, reply
            refusals.append(reply["type"])
        except ConnectionClosed as closed:
            refusals.append(str(closed.rcvd.code if closed.rcvd else None))
        client.ws.close()
        time.sleep(0.5)
    raise AssertionError(f"no instance took the session: {refusals}")
