"""HR's monitor socket on one instance: state, history replay, resume by sequence number, HR actions."""

from __future__ import annotations

import json
import uuid

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.live.client import Candidate, Monitor, to_16k
from tests.live.support import (
    FOLLOW_UP,
    QUESTIONS,
    answer_question,
    assert_contiguous,
    monitor_url,
    room_url,
    schedule_with_hr,
    token_of,
)
from tests.media import ANSWER_TEXT, speech, word_error_rate
from tests.support import Api, bearer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_monitor_follows_interview_and_hr_acts(api: Api) -> None:
    """A monitor sees the state, every event in order (with scores), adds a follow-up that is asked next,
    leaves a note the candidate never sees; a late monitor replays history, a reconnecting one resumes."""
    hr, candidate_headers, interview_id, token = schedule_with_hr(api)
    base = api.server.base_url
    monitor = Monitor(monitor_url(base, interview_id), token_of(hr["headers"]))
    welcome = monitor.welcome
    assert welcome["type"] == "monitor.welcome" and welcome["id"] == "m-hello"
    assert welcome["state"].get("phase") is None and welcome["state"]["status"] == "scheduled"
    assert [q["text"] for q in welcome["state"]["questions"]] == [q["text"] for q in QUESTIONS]
    pcm, rate = speech()
    audio = to_16k(pcm, rate)
    client = Candidate(room_url(base, interview_id), token)
    try:
        client.hello()
        client.start_audio()
        first = client.expect("question.started")
        monitor.wait("question.started", question_id=first["question_id"])
        monitor.send({"type": "monitor.follow_up", "id": "f1", "text": FOLLOW_UP})
        ack = monitor.wait("monitor.ack", id="f1")
        added = monitor.wait("question.added", question_id=ack["question_id"])
        assert added["source"] == "hr" and added["added_by"] == "Hana Recruiter" and added["number"] == 2
        final = answer_question(client, first, audio, done=True)
        assert word_error_rate(ANSWER_TEXT, final["text"]) < 0.35
        note = {
            "type": "monitor.note",
            "id": "n1",
            "text": "Clear on indexing.",
            "question_id": first["question_id"],
        }
        monitor.send(note)
        note_ack = monitor.wait("monitor.ack", id="n1")
        nxt = client.expect("question.started")
        assert nxt["question_id"] == ack["question_id"] and nxt["text"] == FOLLOW_UP, "HR's question is next"
        monitor.send({"type": "monitor.note", "id": "n2", "text": "Now probing caching."})
        on_current = monitor.wait("note.added", note_id=monitor.wait("monitor.ack", id="n2")["action_id"])
        assert on_current["question_id"] == nxt["question_id"], (
            "a note without question_id is on the current one"
        )
        monitor.wait("transcript.final", question_id=first["question_id"])
        quality = monitor.wait("connection.quality", transport="pcm")
        assert quality["level"] in ("good", "fair", "poor") and quality["audio_ratio"] >= 0
        scored = monitor.wait("answer.scored", question_id=first["question_id"])
        assert 0 <= scored["scores"]["accuracy"] <= 100 and scored["provider"]
        note = monitor.wait("note.added", note_id=note_ack["action_id"])
        assert note["question_id"] == first["question_id"] and note["author_name"] == "Hana Recruiter"
        assert all(m["type"] != "note.added" for m in client.messages), "the candidate never sees notes"

        late = Monitor(monitor_url(base, interview_id), token_of(hr["headers"]))
        late.wait("note.added")
        seen = list(monitor.frames)
        late.wait(seen[-1]["type"], seq=seen[-1]["seq"])  # the late one has replayed at least as far
        assert late.welcome["state"]["phase"] in ("asking", "listening")
        assert late.frames[: len(seen)] == seen, "a late monitor replays the same history"
        late.close()

        cut = monitor.frames[len(monitor.frames) // 2]["seq"]
        monitor.close()
        resumed = Monitor(monitor_url(base, interview_id), token_of(hr["headers"]), last_seq=cut)
        resumed.wait("note.added")
        assert resumed.frames[0]["seq"] == cut + 1

        resumed.send({"type": "monitor.end", "id": "e1", "reason": "enough for today"})
        assert resumed.wait("monitor.ack", id="e1")["action"] == "end"
        ended = client.expect("session.ended")
        assert ended["reason"] == "terminated"
        resumed.wait("session.ended")
        resumed.wait("report.ready", timeout=60)
        assert_contiguous(resumed.frames, cut + 1)
        resumed.close()
    finally:
        client.close()

    report = api.client.get(f"/interviews/{interview_id}/report", headers=hr["headers"]).json()
    kinds = [(a["kind"], a["by"]["name"]) for a in report["hr_actions"]]
    assert [kind for kind, _ in kinds] == ["follow_up", "note", "note", "end"]
    assert {name for _, name in kinds} == {"Hana Recruiter"}
    mine = api.client.get(f"/interviews/{interview_id}/report", headers=candidate_headers).json()
    assert "hr_actions" not in mine, "the candidate's report has no HR notes"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_monitor_refuses_who_may_not_watch(api: Api) -> None:
    """A candidate's token, a bad token and an unknown interview are refused with their close codes;
    HR actions on a finished interview and malformed actions get errors without closing."""
    hr, candidate_headers, interview_id, _ = schedule_with_hr(api)
    base = api.server.base_url
    cases = [
        (interview_id, token_of(candidate_headers), 4003),
        (interview_id, "not-a-token", 4001),
        (str(uuid.uuid4()), token_of(hr["headers"]), 4004),
    ]
    for target, token, code in cases:
        with connect(monitor_url(base, target), open_timeout=10) as ws:
            ws.send(f'{{"type": "hello", "token": "{token}", "protocol": "1.0"}}')
            error = json.loads(ws.recv(timeout=10))  # the spec's error frame comes before the close
            assert error["type"] == "error" and error["code"] == code
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code
    monitor = Monitor(monitor_url(base, interview_id), token_of(hr["headers"]))
    try:
        monitor.send({"type": "monitor.follow_up", "id": "short", "text": "Why"})
        assert monitor.wait("error", id="short")["code"] == 4000
        monitor.send({"type": "monitor.note", "id": "q", "text": "x", "question_id": "nope"})
        assert monitor.wait("error", id="q")["code"] == 4004
        monitor.send({"type": "monitor.end", "id": "end"})
        monitor.wait("monitor.ack", id="end")
        monitor.send({"type": "monitor.follow_up", "id": "late", "text": "One more question please?"})
        assert monitor.wait("error", id="late")["code"] == 4012
        monitor.send({"type": "ping", "id": "p"})
        monitor.wait("pong", id="p")
    finally:
        monitor.close()
    status = api.client.get(f"/api/v1/interview/{interview_id}", headers=hr["headers"]).json()
    assert status["status"] != "scheduled", status
    refused = api.client.get(f"/interviews/{interview_id}/report", headers=bearer("bad"))
    assert refused.status_code == 401
