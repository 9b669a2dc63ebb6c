"""Seed 001: the AI interview lifecycle at /interviews with the offline AI engine, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import JD, RESUME, STRONG, create, wait_report
from tests.support import Api, make_docx, make_pdf


def test_full_lifecycle(api: Api) -> None:
    """Create → setup-ai (5 questions) → start → answer each current question → completed → report."""
    me = api.register()
    interview_id = create(api, me)
    setup = api.client.post(f"/interviews/{interview_id}/setup-ai", headers=me)
    assert setup.status_code == 200 and setup.json()["message"] == "AI setup completed"
    assert setup.json()["questions_count"] == 5
    assert api.client.post(f"/interviews/{interview_id}/setup-ai", headers=me).status_code == 400
    assert api.client.get(f"/interviews/{interview_id}/report", headers=me).json() == {
        "status": "incomplete",
        "message": "Interview answers not found",
    }

    started = api.client.post(f"/interviews/{interview_id}/start", params={"voice": "female"}, headers=me)
    assert started.status_code == 200 and started.json() == {
        "message": "Interview started",
        "voice": "female",
    }
    seen = []
    while True:
        nxt = api.client.get(f"/interviews/{interview_id}/next-question", headers=me)
        assert nxt.status_code == 200, nxt.text
        body = nxt.json()
        if body.get("message") == "Interview completed":
            break
        assert body["question_number"] == len(seen) + 1 and body["voice"] == "female"
        seen.append(body["question_id"])
        answer = api.client.post(
            f"/interviews/{interview_id}/questions/{body['question_id']}/answer",
            headers=me,
            json={"answer_text": STRONG},
        )
        assert answer.status_code == 200, answer.text
        done = api.client.post(f"/interviews/{interview_id}/answer-complete", headers=me)
        assert done.json() == {"message": "Answer recorded, moving to next question"}
    assert len(set(seen)) == 5
    assert api.client.post(f"/interviews/{interview_id}/end", headers=me).status_code == 400

    report = wait_report(api, me, interview_id)
    assert report["decision"] in ("HIRE", "BORDERLINE", "REJECT")
    assert set(report["scores"]) == {"technical", "communication", "behavior"}
    assert all(0 <= v <= 100 for v in report["scores"].values())
    assert [q["question_id"] for q in report["questions"]] == seen
    assert len(report["strengths"]) == 3 and len(report["gaps"]) == 2 and report["summary"]
    technical = sum(q["accuracy"] for q in report["questions"]) / 5
    assert report["scores"]["technical"] == pytest.approx(technical, abs=0.05)
    mine = api.client.get("/interviews", headers=me).json()
    assert [(i["interview_id"], i["status"]) for i in mine] == [(interview_id, "completed")]


def test_state_rules(api: Api) -> None:
    """Wrong voice, wrong order of calls and answering another question are 400s and change nothing."""
    me = api.register()
    interview_id = create(api, me, make_docx(), "cv.docx")
    assert (
        api.client.post(
            f"/interviews/{interview_id}/start", params={"voice": "female"}, headers=me
        ).status_code
        == 400
    )
    assert api.client.get(f"/interviews/{interview_id}/next-question", headers=me).status_code == 400
    assert api.client.post(f"/interviews/{interview_id}/answer-complete", headers=me).status_code == 400
    assert api.client.post(f"/interviews/{interview_id}/setup-ai", headers=me).status_code == 200
    for voice in ("robot", ""):
        bad = api.client.post(f"/interviews/{interview_id}/start", params={"voice": voice}, headers=me)
        assert bad.status_code == 400
    assert api.client.post(f"/interviews/{interview_id}/start", headers=me).status_code == 400
    assert (
        api.client.post(f"/interviews/{interview_id}/start", params={"voice": "male"}, headers=me).status_code
        == 200
    )
    assert (
        api.client.post(f"/interviews/{interview_id}/start", params={"voice": "male"}, headers=me).status_code
        == 400
    )
    first = api.client.get(f"/interviews/{interview_id}/next-question", headers=me).json()
    questions = api.client.get(f"/interviews/{interview_id}/next-question", headers=me).json()
    assert first == questions, "next-question does not advance by itself"
    report_before = api.client.get(f"/interviews/{interview_id}/report", headers=me).json()
    other = api.client.post(
        f"/interviews/{interview_id}/questions/not-a-question/answer", headers=me, json={"answer_text": "x"}
    )
    assert other.status_code == 404
    blank = api.client.post(
        f"/interviews/{interview_id}/questions/{first['question_id']}/answer",
        headers=me,
        json={"answer_text": "   "},
    )
    assert blank.status_code == 400
    unscored = api.client.post(
        f"/interviews/{interview_id}/questions/{first['question_id']}/score", headers=me
    )
    assert unscored.status_code == 400
    assert api.client.get(f"/interviews/{interview_id}/report", headers=me).json() == report_before
    assert api.client.post(f"/interviews/{interview_id}/end", headers=me).json() == {
        "message": "Interview ended successfully"
    }
    assert api.client.get(f"/interviews/{interview_id}/next-question", headers=me).status_code == 400


def test_score_on_demand_and_ranking(api: Api) -> None:
    """On-demand scoring returns bounded scores, and a strong answer outscores an evasive one."""
    me = api.register()
    scores = []
    for text in (STRONG, "I don't know, skip."):
        interview_id = create(api, me)
        api.client.post(f"/interviews/{interview_id}/setup-ai", headers=me)
        api.client.post(f"/interviews/{interview_id}/start", params={"voice": "male"}, headers=me)
        question = api.client.get(f"/interviews/{interview_id}/next-question", headers=me).json()
        url = f"/interviews/{interview_id}/questions/{question['question_id']}"
        assert api.client.post(f"{url}/answer", headers=me, json={"answer_text": text}).status_code == 200
        scored = api.client.post(f"{url}/score", headers=me)
        assert scored.status_code == 200 and scored.json()["message"] == "Scoring completed"
        values = scored.json()["score"]
        assert set(values) == {"accuracy", "communication", "behavior"}
        assert all(0 <= v <= 100 for v in values.values())
        scores.append(sum(values.values()))
    assert scores[0] > scores[1]


def test_other_users_interview_is_404(api: Api) -> None:
    """Every /interviews route answers 404 for another candidate's interview."""
    owner, stranger = api.register(), api.register()
    interview_id = create(api, owner)
    api.client.post(f"/interviews/{interview_id}/setup-ai", headers=owner)
    calls = [
        ("POST", "/setup-ai"),
        ("POST", "/start?voice=male"),
        ("GET", "/next-question"),
        ("POST", "/answer-complete"),
        ("POST", "/end"),
        ("GET", "/report"),
    ]
    for method, path in calls:
        assert (
            api.client.request(method, f"/interviews/{interview_id}{path}", headers=stranger).status_code
            == 404
        )
        assert api.client.request(method, f"/interviews/{interview_id}{path}").status_code == 401
    assert api.client.get("/interviews", headers=stranger).json() == []
    assert (
        api.client.post(
            f"/interviews/{interview_id}/start", params={"voice": "male"}, headers=owner
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "files, data, status",
    [
        ({}, {"job_description": JD}, 400),
        ({"resume": ("cv.pdf", make_pdf(RESUME), "application/pdf")}, {}, 400),
        (
            {"resume": ("cv.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")},
            {"job_description": JD},
            400,
        ),
        (
            {"resume": ("cv.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "application/pdf")},
            {"job_description": JD},
            400,
        ),
        (
            {"resume": ("cv.pdf", b"%PDF-1.4" + b"0" * 300_000, "application/pdf")},
            {"job_description": JD},
            413,
        ),
    ],
)
def test_create_rejects_bad_input(api: Api, files: dict[str, Any], data: dict[str, str], status: int) -> None:
    """Missing fields, corrupt, mistyped or oversized resumes are refused and no interview is created."""
    me = api.register()
    response = api.client.post("/interviews/create", headers=me, data=data, files=files or None)
    assert response.status_code == status, response.text
    assert "detail" in response.json()
    assert api.client.get("/interviews", headers=me).json() == []
