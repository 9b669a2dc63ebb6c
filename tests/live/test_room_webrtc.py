"""The live room with WebRTC: a real aiortc peer plays the candidate, speaking a Piper-made answer."""

from __future__ import annotations

import asyncio
import io
import time

import av
import httpx
import pytest

from tests.live.rtc_client import RtcCandidate
from tests.live.support import schedule, ws_url
from tests.media import ANSWER_TEXT, speech, word_error_rate
from tests.support import Api


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_interview_over_webrtc(api: Api) -> None:
    """Signalling over the socket connects a peer; its microphone's speech is transcribed, stored and
    recorded, and the interview completes."""
    headers, interview_id, token = await asyncio.to_thread(schedule, api)
    client = await RtcCandidate.connect(ws_url(api, interview_id), camera=True)
    pcm, rate = speech()
    finals = []
    try:
        await client.send({"type": "hello", "token": token, "protocol": "1.0"})
        await client.expect("welcome")
        await client.offer()
        while True:
            message = await client.expect_any(("question.started", "interview.completed"))
            if message["type"] == "interview.completed":
                break
            await client.expect("question.audio.end")
            await client.send({"type": "playback.ended", "question_id": message["question_id"]})
            await client.expect("listening")
            client.mic.say(pcm, rate)
            finals.append(await client.expect("transcript.final", within_s=90))
            await client.expect("answer.saved")
            await client.send({"type": "ping"})
    finally:
        await client.close()
    assert finals and all(word_error_rate(ANSWER_TEXT, f["text"]) < 0.35 for f in finals), [
        f["text"] for f in finals
    ]
    async with httpx.AsyncClient(base_url=api.server.base_url) as http:
        deadline = time.monotonic() + 30
        while "decision" not in (
            report := (await http.get(f"/interviews/{interview_id}/report", headers=headers)).json()
        ):
            assert time.monotonic() < deadline, report
            await asyncio.sleep(0.2)
    assert len(report["questions"]) == len(finals)
    async with httpx.AsyncClient(base_url=api.server.base_url, headers=headers) as http:
        answers = (await http.get(f"/api/v1/interview/{interview_id}/responses")).json()
        assert answers, "the answers are listed"
        for answer in answers:
            base = f"/interviews/{interview_id}/answers/{answer['id']}/recording"
            audio, video = await http.get(base), await http.get(base, params={"kind": "video"})
            assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
            assert video.status_code == 200 and video.headers["content-type"] == "video/webm"
            with av.open(io.BytesIO(video.content)) as container:
                frames = sum(1 for _ in container.decode(video=0))
            assert frames > 10, "each answer has its own camera recording"
