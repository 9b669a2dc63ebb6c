"""Practice mode (seed 003): a tracked mock interview starts a live session whose results flow back."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.live.client import Candidate, to_16k
from tests.live.support import answer_question
from tests.media import ANSWER_TEXT, speech
from tests.support import Api

BANK_QUESTION = {
    "question_text": "How do you profile and speed up a slow Python REST API endpoint?",
    "question_category": "technical",
    "question_difficulty": "expert",
    "key_concepts": ["profiling", "indexes", "caching"],
    "time_to_answer_minutes": 4,
    "tags": ["python", "performance"],
}


def tracked(api: Api, headers: dict[str, str], kind: str) -> int:
    body = {
        "custom_role_title": "Backend Engineer",
        "interview_type": kind,
        "main_skills_required": ["Python", "PostgreSQL"],
        "job_description": "A backend role: Python services on PostgreSQL.",
    }
    response = api.client.post("/api/interviews", headers=headers, json=body)
    assert response.status_code == 201, response.text
    interview_id: int = response.json()["interview_id"]
    return interview_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_practice_session_runs_live_and_fills_the_tracker(api: Api) -> None:
    """A practice interview gets bank questions for its skills (the AI engine fills the rest), is taken by
    voice in the room, and its rating, feedback and status land in the tracked interview; an actual
    interview cannot start one, and nobody starts one on another user's interview."""
    seeker = api.register(email=f"seeker-{uuid.uuid4().hex[:8]}@test.example")
    bank = api.client.post("/api/questions", headers=seeker, json=BANK_QUESTION)
    assert bank.status_code == 201, bank.text
    practice_id, actual_id = tracked(api, seeker, "practice"), tracked(api, seeker, "actual")

    refused = api.client.post(f"/api/interviews/{actual_id}/practice", headers=seeker)
    assert refused.status_code == 400 and "mock or practice" in refused.text
    stranger = api.register(email=f"other-{uuid.uuid4().hex[:8]}@test.example")
    assert api.client.post(f"/api/interviews/{practice_id}/practice", headers=stranger).status_code == 404
    bad = api.client.post(
        f"/api/interviews/{practice_id}/practice", headers=seeker, json={"num_questions": 0}
    )
    assert bad.status_code == 422

    started = api.client.post(
        f"/api/interviews/{practice_id}/practice", headers=seeker, json={"num_questions": 2, "voice": "male"}
    )
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["status"] == "scheduled" and len(session["questions"]) == 2
    assert session["questions"][0]["text"] == BANK_QUESTION["question_text"], (
        "the bank's question comes first"
    )
    used = api.client.get(f"/api/questions/{bank.json()['question_id']}", headers=seeker).json()
    assert used["times_practiced"] == 1
    assert api.client.get(f"/api/interviews/{practice_id}", headers=seeker).json()["interview_status"] == (
        "in_progress"
    )

    pcm, rate = speech()
    audio = to_16k(pcm, rate)
    url = api.server.base_url.replace("http://", "ws://") + session["socket_url"]
    client = Candidate(url, seeker["Authorization"].split(" ", 1)[1])
    try:
        client.hello()
        client.start_audio()
        while (message := client.expect_any(("question.started", "interview.completed")))["type"] == (
            "question.started"
        ):
            answer_question(client, message, audio, done=True)
    finally:
        client.close()

    deadline = time.monotonic() + 60
    while (result := api.client.get(f"/api/interviews/{practice_id}", headers=seeker).json())[
        "overall_rating"
    ] is None:
        assert time.monotonic() < deadline, result
        time.sleep(0.3)
    assert 1 <= result["overall_rating"] <= 10 and result["interview_status"] == "completed"
    assert result["overall_feedback"] and result["strengths"] and result["areas_for_improvement"]
    report = api.client.get(session["report_url"], headers=seeker).json()
    assert report["decision"] in ("HIRE", "BORDERLINE", "REJECT")
    assert ANSWER_TEXT.split()[1] in " ".join(q["transcript"] for q in report["questions"])
