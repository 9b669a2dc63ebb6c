"""advance_early on a real server: each next question starts as soon as an answer ends, every answer is
still stored, and the interview completes once the last one is."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.live.client import Candidate, to_16k
from tests.live.support import room_url, schedule_with_hr
from tests.media import ANSWER_TEXT, speech, word_error_rate
from tests.support import Api, live_server, make_settings


def test_questions_follow_at_once_and_answers_are_all_stored(tmp_path: Path) -> None:
    """Without follow-ups, question n+1 starts before answer n's transcript; each answer is transcribed,
    saved and acknowledged, and the report lists every answer."""
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'viva.db'}",
        live_advance_early=True,
        live_max_follow_ups=0,
    )
    pcm, rate = speech()
    audio = to_16k(pcm, rate)
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as http:
        hr, candidate, interview_id, token = schedule_with_hr(Api(http, server))
        client = Candidate(room_url(server.base_url, interview_id), token)
        try:
            client.hello()
            client.start_audio()
            asked = []
            while (message := client.expect_any(("question.started", "interview.completed")))["type"] == (
                "question.started"
            ):
                asked.append(message["question_id"])
                client.expect("question.audio.end")
                client.send({"type": "playback.ended", "question_id": message["question_id"]})
                client.expect("listening")
                client.say(audio)
                client.expect("speech.started")
                client.wait_spoken()
                time.sleep(0.3)
                client.send({"type": "answer.done", "question_id": message["question_id"]})
                client.expect("thinking")
            kinds = [(m["type"], m.get("question_id")) for m in client.messages]
        finally:
            client.close()
        first, second = asked[0], asked[1]
        assert kinds.index(("question.started", second)) < kinds.index(("transcript.final", first)), (
            "the next question started before the previous answer's transcript"
        )
        finals = [m for m in client.messages if m["type"] == "transcript.final"]
        saved = [m["question_id"] for m in client.messages if m["type"] == "answer.saved"]
        assert sorted(saved) == sorted(asked) and len(finals) == len(asked)
        assert all(word_error_rate(ANSWER_TEXT, f["text"]) < 0.35 for f in finals), [
            f["text"] for f in finals
        ]
        completed = kinds.index(("interview.completed", None))
        assert all(kinds.index(("answer.saved", q)) < completed for q in asked)
        deadline = time.monotonic() + 30
        while "decision" not in (
            report := http.get(f"/interviews/{interview_id}/report", headers=hr["headers"]).json()
        ):
            assert time.monotonic() < deadline, report
            time.sleep(0.3)
        assert len(report["questions"]) == len(asked)
