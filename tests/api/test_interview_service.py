"""Seeds 000/002: the interview service at /api/v1/interview, and the same rows through /interviews."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.support import Api, make_pdf

BASE = "/api/v1/interview"
ANSWER = (
    "I would design it with Python and FastAPI behind a load balancer, store data in PostgreSQL with proper "
    "indexes, and cache hot reads in Redis. For example, at my last job this cut latency by half because "
    "most reads were repeated; then I added monitoring so we could see regressions early."
)


@pytest.fixture
def people(api: Api) -> dict[str, Any]:
    hr = api.make_user("hr")
    email = f"cand-{uuid.uuid4().hex[:8]}@test.example"
    candidate = api.register(email=email)
    me = api.client.get("/auth/me", headers=candidate).json()
    return {"hr": hr["headers"], "hr_id": hr["id"], "candidate": candidate, "candidate_id": me["id"]}


def schedule(api: Api, people: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "candidate_id": people["candidate_id"],
        "job_title": "Backend Engineer",
        "job_description": "Python, FastAPI, PostgreSQL",
        "role": "Backend Developer",
        "tech_stack": ["Python", "FastAPI"],
        **extra,
    }
    response = api.client.post(f"{BASE}/schedule", headers=people["hr"], json=body)
    assert response.status_code == 201, response.text
    interview: dict[str, Any] = response.json()
    return interview


def wait_scored(api: Api, headers: dict[str, str], interview_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        answers: list[dict[str, Any]] = api.client.get(
            f"{BASE}/{interview_id}/responses", headers=headers
        ).json()
        if all(a["status"] in ("completed", "failed") for a in answers) or time.monotonic() > deadline:
            return answers
        time.sleep(0.1)


def test_default_questions_are_public(api: Api) -> None:
    """Default questions need no token and have the documented fields."""
    questions = api.client.get(f"{BASE}/default-questions").json()
    assert len(questions) >= 1
    assert set(questions[0]) >= {"id", "text", "category", "difficulty", "expected_duration_minutes"}
    # Seed 000 writes these words capitalised ("Behavioral", "Medium").
    assert {q["difficulty"] for q in questions} <= {"Easy", "Medium", "Hard"}
    assert "Behavioral" in {q["category"] for q in questions}


def test_schedule_answer_evaluate(api: Api, people: dict[str, Any]) -> None:
    """HR schedules (questions generated), the candidate answers all, results show AI then HR scores."""
    interview = schedule(api, people, num_questions=3)
    assert interview["status"] == "scheduled" and len(interview["questions"]) == 3
    assert interview["scheduled_by_id"] == people["hr_id"]
    interview_id, questions = interview["id"], interview["questions"]
    assert [i["id"] for i in api.client.get(f"{BASE}/candidate/me", headers=people["candidate"]).json()] == [
        interview_id
    ]
    assert api.client.get(f"{BASE}/results/{interview_id}", headers=people["hr"]).status_code == 400

    one = api.client.post(
        f"{BASE}/submit-response",
        headers=people["candidate"],
        json={"interview_id": interview_id, "question_id": questions[0]["id"], "answer_text": ANSWER},
    )
    assert one.status_code == 200 and one.json()["question_id"] == questions[0]["id"]
    assert one.json()["response_id"] == one.json()["id"]
    rest = [
        {"question_id": q["id"], "answer_text": ANSWER, "code_answer": "print('hi')"} for q in questions[1:]
    ]
    done = api.client.post(
        f"{BASE}/submit-all",
        headers=people["candidate"],
        json={"interview_id": interview_id, "answers": rest},
    )
    assert done.json() == {
        "message": "Interview responses submitted successfully.",
        "interview_id": interview_id,
        "status": "completed",
    }
    answers = wait_scored(api, people["hr"], interview_id)
    assert len(answers) == 3 and all(0 <= a["ai_score"] <= 100 for a in answers)
    assert [
        i["id"] for i in api.client.get(f"{BASE}/candidate/history", headers=people["candidate"]).json()
    ] == [interview_id]

    result = api.client.get(f"{BASE}/results/{interview_id}", headers=people["candidate"]).json()
    mean = sum(a["ai_score"] for a in answers) / 3
    assert result["status"] == "pending_hr_review" and result["overall_score"] == pytest.approx(
        mean, abs=0.05
    )
    assert [q["question_id"] for q in result["questions"]] == [q["id"] for q in questions]
    review = {
        "hr_feedback": "Strong analytical skills",
        "hr_score": 4,
        "hr_recommendation": "proceed_to_next_round",
        "questions": [{"question_id": questions[0]["id"], "hr_score": 5, "hr_feedback": "Great"}],
    }
    evaluated = api.client.post(f"{BASE}/{interview_id}/results", headers=people["hr"], json=review).json()
    assert evaluated["status"] == "evaluated" and evaluated["hr_overall_score"] == 4
    assert evaluated["overall_score"] == 80.0 and evaluated["questions"][0]["hr_score"] == 5
    assert interview_id in [
        r["interview_id"] for r in api.client.get(f"{BASE}/results/all", headers=people["hr"]).json()
    ]
    status = api.client.get(f"{BASE}/all", params={"status": "evaluated"}, headers=people["hr"]).json()
    assert [i["id"] for i in status] == [interview_id]

    # The same rows through seed 001's report.
    report = api.client.get(f"/interviews/{interview_id}/report", headers=people["candidate"]).json()
    assert report["decision"] in ("HIRE", "BORDERLINE", "REJECT") and len(report["questions"]) == 3


def test_explicit_questions_and_editing(api: Api, people: dict[str, Any]) -> None:
    """Explicit questions replace generation, HR can edit until the start, and not after."""
    qs = [
        {
            "text": "Explain Python generators.",
            "category": "Technical",
            "difficulty": "Easy",
            "expected_duration_minutes": 4,
        }
    ]
    interview = schedule(api, people, questions=qs)
    assert [(q["text"], q["category"], q["difficulty"]) for q in interview["questions"]] == [
        ("Explain Python generators.", "Technical", "Easy")
    ]
    edited = api.client.put(
        f"{BASE}/{interview['id']}/questions",
        headers=people["hr"],
        json={
            "questions": [
                {"text": "What is a Python decorator?"},
                {"text": "Design a URL shortener.", "category": "system-design", "difficulty": "HARD"},
            ]
        },
    )
    assert edited.status_code == 200 and [q["order"] for q in edited.json()["questions"]] == [1, 2]
    assert [(q["category"], q["difficulty"]) for q in edited.json()["questions"]] == [
        ("Technical", "Medium"),
        ("System Design", "Hard"),
    ]
    question_id = edited.json()["questions"][0]["id"]
    api.client.post(
        f"{BASE}/submit-response",
        headers=people["candidate"],
        json={"interview_id": interview["id"], "question_id": question_id, "answer_text": ANSWER},
    )
    again = api.client.put(
        f"{BASE}/{interview['id']}/questions",
        headers=people["hr"],
        json={"questions": [{"text": "Replaced after start?"}]},
    )
    assert again.status_code == 400
    assert len(api.client.get(f"{BASE}/{interview['id']}", headers=people["hr"]).json()["questions"]) == 2


def test_scheduled_interview_runs_through_001(api: Api, people: dict[str, Any]) -> None:
    """An interview scheduled at /api/v1/interview is started and answered through /interviews."""
    interview = schedule(api, people, num_questions=2)
    me = people["candidate"]
    assert [i["status"] for i in api.client.get("/interviews", headers=me).json()] == ["questions_generated"]
    assert (
        api.client.post(
            f"/interviews/{interview['id']}/start", params={"voice": "male"}, headers=me
        ).status_code
        == 200
    )
    for _ in range(2):
        question = api.client.get(f"/interviews/{interview['id']}/next-question", headers=me).json()
        api.client.post(
            f"/interviews/{interview['id']}/questions/{question['question_id']}/answer",
            headers=me,
            json={"answer_text": ANSWER},
        )
        api.client.post(f"/interviews/{interview['id']}/answer-complete", headers=me)
    assert api.client.get(f"/interviews/{interview['id']}/next-question", headers=me).json() == {
        "message": "Interview completed"
    }
    assert api.client.get(f"{BASE}/{interview['id']}", headers=people["hr"]).json()["status"] == "completed"


def test_roles_and_ownership(api: Api, people: dict[str, Any]) -> None:
    """Candidates cannot schedule or list all, and see only their own interviews (403 otherwise)."""
    interview = schedule(api, people)
    other = api.register()
    assert api.client.post(f"{BASE}/schedule", headers=people["candidate"], json={}).status_code == 403
    assert api.client.get(f"{BASE}/all", headers=people["candidate"]).status_code == 403
    assert api.client.get(f"{BASE}/results/all", headers=other).status_code == 403
    assert api.client.get(f"{BASE}/{interview['id']}", headers=other).status_code == 403
    assert api.client.get(f"{BASE}/{interview['id']}/responses", headers=other).status_code == 403
    submit = {
        "interview_id": interview["id"],
        "question_id": interview["questions"][0]["id"],
        "answer_text": ANSWER,
    }
    assert api.client.post(f"{BASE}/submit-response", headers=other, json=submit).status_code == 403
    assert api.client.post(f"{BASE}/submit-response", headers=people["hr"], json=submit).status_code == 403
    assert api.client.get(f"{BASE}/all").status_code == 401
    assert api.client.get(f"{BASE}/{uuid.uuid4()}", headers=people["hr"]).status_code == 404


def test_bad_input(api: Api, people: dict[str, Any]) -> None:
    """Bad schedules and answers get 4xx and store nothing."""
    h = people["hr"]
    for body in (
        {},
        {"candidate_id": people["candidate_id"]},
        {"candidate_id": people["candidate_id"], "job_title": "X", "num_questions": 21},
        {"candidate_id": people["candidate_id"], "job_title": "X", "num_questions": 0},
    ):
        assert api.client.post(f"{BASE}/schedule", headers=h, json=body).status_code == 422
    missing = {"candidate_id": str(uuid.uuid4()), "job_title": "X"}
    assert api.client.post(f"{BASE}/schedule", headers=h, json=missing).status_code == 404
    assert api.client.get(f"{BASE}/all", headers=h).json() == []

    interview = schedule(api, people, num_questions=2)
    q = interview["questions"]
    dup = {"interview_id": interview["id"], "answers": [{"question_id": q[0]["id"], "answer_text": "a"}] * 2}
    assert api.client.post(f"{BASE}/submit-all", headers=people["candidate"], json=dup).status_code == 400
    unknown = {
        "interview_id": interview["id"],
        "answers": [
            {"question_id": q[0]["id"], "answer_text": ANSWER},
            {"question_id": "nope", "answer_text": ANSWER},
        ],
    }
    assert api.client.post(f"{BASE}/submit-all", headers=people["candidate"], json=unknown).status_code == 404
    assert api.client.get(f"{BASE}/{interview['id']}/responses", headers=h).json() == []
    assert api.client.get(f"{BASE}/{interview['id']}", headers=h).json()["status"] == "scheduled"
    short = api.client.post(
        f"{BASE}/submit-response",
        headers=people["candidate"],
        json={"interview_id": interview["id"], "question_id": q[0]["id"], "answer_text": "short"},
    )
    assert short.status_code == 200
    evaluate = api.client.post(f"{BASE}/responses/{short.json()['id']}/evaluate", headers=h)
    assert evaluate.status_code == 400
    assert (
        api.client.post(f"{BASE}/{interview['id']}/results", headers=h, json={"hr_score": 4}).status_code
        == 400
    )
    assert (
        api.client.post(f"{BASE}/{interview['id']}/results", headers=h, json={"hr_score": 9}).status_code
        == 422
    )


def test_last_single_response_completes(api: Api, people: dict[str, Any]) -> None:
    """Answering every question one by one completes the interview (seed 002); the final submit-all
    that a front end sends after that still succeeds, and results are then open."""
    interview = schedule(api, people, num_questions=2)
    me, interview_id = people["candidate"], interview["id"]
    for question in interview["questions"]:
        assert api.client.get(f"{BASE}/results/{interview_id}", headers=me).status_code == 400
        answer = {"interview_id": interview_id, "question_id": question["id"], "answer_text": ANSWER}
        assert api.client.post(f"{BASE}/submit-response", headers=me, json=answer).status_code == 200
    detail = api.client.get(f"{BASE}/{interview_id}", headers=me).json()
    assert detail["status"] == "completed" and detail["completed_at"]
    final = api.client.post(
        f"{BASE}/submit-all", headers=me, json={"interview_id": interview_id, "answers": []}
    )
    assert final.status_code == 200 and final.json()["status"] == "completed"
    assert api.client.get(f"{BASE}/results/{interview_id}", headers=me).status_code == 200
    late = {
        "interview_id": interview_id,
        "question_id": interview["questions"][0]["id"],
        "answer_text": ANSWER,
    }
    assert api.client.post(f"{BASE}/submit-response", headers=me, json=late).status_code == 400


def test_submit_all_needs_some_answer(api: Api, people: dict[str, Any]) -> None:
    """An empty submit-all with nothing answered is a 400 and leaves the interview open."""
    interview = schedule(api, people, num_questions=2)
    empty = {"interview_id": interview["id"], "answers": []}
    assert api.client.post(f"{BASE}/submit-all", headers=people["candidate"], json=empty).status_code == 400
    assert api.client.get(f"{BASE}/{interview['id']}", headers=people["hr"]).json()["status"] == "scheduled"


def test_out_of_range_values_are_422(api: Api, people: dict[str, Any]) -> None:
    """Dates and offsets no database can hold are refused up front (never a 500), and nothing is stored."""
    h = people["hr"]
    for moment in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+05:00"):
        body = {"candidate_id": people["candidate_id"], "job_title": "X", "scheduled_at": moment}
        assert api.client.post(f"{BASE}/schedule", headers=h, json=body).status_code == 422
        assert api.client.get(f"{BASE}/all", params={"date_from": moment}, headers=h).status_code == 422
    assert api.client.get(f"{BASE}/all", params={"skip": 10**20}, headers=h).status_code == 422
    assert api.client.get(f"{BASE}/all", headers=h).json() == []
    naive = {"candidate_id": people["candidate_id"], "job_title": "X", "scheduled_at": "2030-01-02T10:00:00"}
    created = api.client.post(f"{BASE}/schedule", headers=h, json={**naive, "num_questions": 1}).json()
    assert created["scheduled_at"] == "2030-01-02T10:00:00Z"
    window = {"date_from": "2030-01-02T09:00:00", "date_to": "2030-01-02T12:30:00+02:00"}
    assert [i["id"] for i in api.client.get(f"{BASE}/all", params=window, headers=h).json()] == [
        created["id"]
    ]


def test_001_interview_taken_and_reviewed_through_000(api: Api, people: dict[str, Any]) -> None:
    """An interview created at /interviews (resume + JD) is answered, reviewed and reported at
    /api/v1/interview, and its report at /interviews covers the same answers."""
    me = people["candidate"]
    created = api.client.post(
        "/interviews/create",
        headers=me,
        data={"job_description": "Python, FastAPI, PostgreSQL"},
        files={"resume": ("cv.pdf", make_pdf("Python developer, FastAPI, PostgreSQL"), "application/pdf")},
    ).json()
    interview_id = created["interview_id"]
    assert api.client.get(f"{BASE}/{interview_id}", headers=me).json()["status"] == "pending_questions"
    assert api.client.post(f"/interviews/{interview_id}/setup-ai", headers=me).status_code == 200
    detail = api.client.get(f"{BASE}/{interview_id}", headers=people["hr"]).json()
    assert detail["status"] == "scheduled" and len(detail["questions"]) == 5
    answers = [{"question_id": q["id"], "answer_text": ANSWER} for q in detail["questions"]]
    submitted = api.client.post(
        f"{BASE}/submit-all", headers=me, json={"interview_id": interview_id, "answers": answers}
    )
    assert submitted.status_code == 200
    assert len(wait_scored(api, people["hr"], interview_id)) == 5
    result = api.client.get(f"{BASE}/results/{interview_id}", headers=me).json()
    assert all(0 <= q["ai_score"] <= 100 for q in result["questions"])
    review = api.client.post(f"{BASE}/{interview_id}/results", headers=people["hr"], json={"hr_score": 3.5})
    assert review.json()["overall_score"] == 70.0 and review.json()["status"] == "evaluated"
    report = api.client.get(f"/interviews/{interview_id}/report", headers=me).json()
    assert [q["question_id"] for q in report["questions"]] == [q["id"] for q in detail["questions"]]
    listed = api.client.get("/interviews", headers=me).json()
    assert [(i["interview_id"], i["status"]) for i in listed] == [(interview_id, "completed")]
