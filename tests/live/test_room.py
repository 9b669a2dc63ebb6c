"""The live room end to end: a real websockets client speaks PCM answers to a real uvicorn."""

from __future__ import annotations

import time

import pytest

from tests.live.client import Candidate, to_16k
from tests.live.support import QUESTIONS, SECOND, answer_question, schedule, ws_url
from tests.media import ANSWER_TEXT, speech, word_error_rate
from tests.support import Api


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_interview_by_voice_over_pcm_frames(api: Api) -> None:
    """Two questions answered by voice (one ended by silence, one by answer.done): transcripts match the
    words, answers and recordings are stored, the interview completes and reports."""
    headers, interview_id, token = schedule(api)
    client = Candidate(ws_url(api, interview_id), token)
    try:
        welcome = client.hello()
        assert welcome["interview_id"] == interview_id and welcome["config"]["silence_ms"] == 2000
        client.start_audio()
        pcm, rate = speech()
        second_pcm, second_rate = speech(SECOND)
        answers = {QUESTIONS[0]["text"]: (ANSWER_TEXT, to_16k(pcm, rate))}
        finals, asked = [], []
        while (message := client.expect_any(("question.started", "interview.completed")))["type"] != (
            "interview.completed"
        ):
            asked.append(message)
            expected, audio = answers.get(message["text"], (SECOND, to_16k(second_pcm, second_rate)))
            final = answer_question(client, message, audio, done=len(asked) % 2 == 0)
            assert word_error_rate(expected, final["text"]) < 0.35, final["text"]
            finals.append(final)
        assert [q["text"] for q in asked if not q["is_follow_up"]] == [q["text"] for q in QUESTIONS]
        assert sum(q["is_follow_up"] for q in asked) <= 1
        assert client.audio_bytes > 16_000, "question speech was streamed as binary frames"
        seqs = [m["seq"] for m in client.messages if "seq" in m]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finally:
        client.close()
    deadline = time.monotonic() + 30
    while "decision" not in (
        report := api.client.get(f"/interviews/{interview_id}/report", headers=headers).json()
    ):
        assert time.monotonic() < deadline, report
        time.sleep(0.2)
    assert [q["question_id"] for q in report["questions"]] == [q["question_id"] for q in asked]
    assert [q["transcript"] for q in report["questions"]] == [f["text"] for f in finals]
    detail = api.client.get(f"/api/v1/interview/{interview_id}", headers=headers).json()
    assert detail["status"] == "completed"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_room_refuses_strangers_and_bad_hellos(api: Api) -> None:
    """No hello, a bad token, another candidate, or a wrong protocol major close with the documented codes."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    _, interview_id, token = schedule(api)
    stranger = api.register()["Authorization"].split(" ", 1)[1]
    cases = [
        ({"type": "ping"}, 4001),
        ({"type": "hello", "token": "junk", "protocol": "1.0"}, 4001),
        ({"type": "hello", "token": stranger, "protocol": "1.0"}, 4004),
        ({"type": "hello", "token": token, "protocol": "2.0"}, 4010),
    ]
    import json

    for message, code in cases:
        with connect(ws_url(api, interview_id)) as ws:
            ws.send(json.dumps(message))
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code, message
