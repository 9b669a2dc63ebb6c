"""Two instances on one Redis and one PostgreSQL: a candidate on A, HR watching and acting from B, then A
is killed mid-answer and the candidate finishes on B with nothing stored lost or doubled."""

from __future__ import annotations

import json
import signal
import uuid
from pathlib import Path

import asyncpg  # noqa: F401  (PostgreSQL driver: the test needs it installed)
import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.live.client import Candidate, Monitor, to_16k
from tests.live.support import (
    FOLLOW_UP,
    OWNER_TTL_S,
    SECOND,
    SECRET,
    answer_question,
    assert_contiguous,
    free_port,
    instance_env,
    monitor_url,
    rejoin,
    room_url,
    schedule_with_hr,
    start_instance,
    token_of,
)
from tests.media import ANSWER_TEXT, speech, word_error_rate
from tests.support import (
    REDIS_URL,
    Api,
    live_server,
    make_settings,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def test_candidate_on_a_hr_on_b_then_a_dies(tmp_path: Path, shared_database: str) -> None:
    """B's monitor sees every event of A's session in order and without gaps; HR's follow-up from B is
    asked next on A; a socket that reaches B is sent to A; when A is killed mid-answer the candidate
    resumes on B and completes; late and resuming monitors replay history; the database holds exactly
    one answer per question, the follow-up and HR's action included."""
    prefix = f"viva-test-{uuid.uuid4().hex[:8]}:"
    data_dir = tmp_path / "data"
    port_a = free_port()
    instance_a = start_instance(
        instance_env(shared_database, prefix, data_dir, port_a), port_a, tmp_path / "a.log"
    )
    base_a = f"http://127.0.0.1:{port_a}"
    settings_b = make_settings(
        tmp_path,
        shared_database,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        secret_key=SECRET,
        live_owner_ttl_s=OWNER_TTL_S,
        job_lease_s=10,
    )
    pcm, rate = speech()
    second_pcm, second_rate = speech(SECOND)
    audio, second_audio = to_16k(pcm, rate), to_16k(second_pcm, second_rate)
    try:
        with live_server(settings_b) as b, httpx.Client(base_url=b.base_url, timeout=30) as http:
            hr, _, interview_id, token = schedule_with_hr(Api(http, b))
            monitor = Monitor(monitor_url(b.base_url, interview_id), token_of(hr["headers"]))

            client = Candidate(room_url(base_a, interview_id), token)
            client.hello()
            client.start_audio()
            first = client.expect("question.started")
            monitor.send({"type": "monitor.follow_up", "id": "f1", "text": FOLLOW_UP})
            follow_up_id = monitor.wait("monitor.ack", id="f1")["question_id"]
            monitor.wait("question.added", question_id=follow_up_id)
            final = answer_question(client, first, audio, done=True)
            assert word_error_rate(ANSWER_TEXT, final["text"]) < 0.35
            asked = client.expect("question.started")
            assert asked["question_id"] == follow_up_id and asked["text"] == FOLLOW_UP

            with connect(room_url(b.base_url, interview_id), open_timeout=10) as elsewhere:
                elsewhere.send(json.dumps({"type": "hello", "token": token, "protocol": "1.0"}))
                moved = json.loads(elsewhere.recv(timeout=10))
                assert moved["type"] == "session.moved"
                assert moved["url"] == room_url(base_a, interview_id)
                with pytest.raises(ConnectionClosed) as closed:
                    elsewhere.recv(timeout=10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4307

            client.expect("question.audio.end")
            client.send({"type": "playback.ended", "question_id": follow_up_id})
            client.expect("listening")
            client.say(second_audio)
            client.expect("speech.started")
            last_seq = max(m["seq"] for m in client.messages if "seq" in m)
            instance_a.send_signal(signal.SIGKILL)
            instance_a.wait(10)
            client.close()

            client, welcome = rejoin(room_url(b.base_url, interview_id), token, last_seq)
            assert welcome["resumed"] is True and first["question_id"] in welcome["state"]["answered"]
            client.start_audio()
            spoken: dict[str, bytes] = {follow_up_id: second_audio}
            asked_on_b = []
            while (message := client.expect_any(("question.started", "interview.completed")))["type"] == (
                "question.started"
            ):
                asked_on_b.append(message["question_id"])
                answer_question(client, message, spoken.get(message["question_id"], second_audio), done=True)
            client.close()
            assert asked_on_b[0] == follow_up_id, "the question A was asking is asked again on B"
            assert first["question_id"] not in asked_on_b

            report = monitor.wait("report.ready", timeout=90)
            assert report["decision"] in ("HIRE", "BORDERLINE", "REJECT")
            assert_contiguous(monitor.frames)
            started = [f["question_id"] for f in monitor.frames if f["type"] == "question.started"]
            assert started == [first["question_id"], follow_up_id, *asked_on_b]
            seen = list(monitor.frames)  # up to report.ready at least
            late = Monitor(monitor_url(b.base_url, interview_id), token_of(hr["headers"]))
            late.wait(seen[-1]["type"], seq=seen[-1]["seq"])
            assert late.frames[: len(seen)] == seen, "a late monitor replays the same history"
            cut = seen[10]["seq"]
            resumed = Monitor(monitor_url(b.base_url, interview_id), token_of(hr["headers"]), last_seq=cut)
            resumed.wait(seen[-1]["type"], seq=seen[-1]["seq"])
            assert resumed.frames[: len(seen) - 11] == seen[11:], (
                "a resumed monitor gets exactly what it missed"
            )
            for watcher in (monitor, late, resumed):
                watcher.close()

            full = http.get(f"/interviews/{interview_id}/report", headers=hr["headers"]).json()
            assert [a["kind"] for a in full["hr_actions"]] == ["follow_up"]
            answered = [q["question_id"] for q in full["questions"]]
            assert sorted(answered) == sorted({first["question_id"], follow_up_id, *asked_on_b})
    finally:
        if instance_a.poll() is None:
            instance_a.kill()
            instance_a.wait(10)
