"""Seed 003 interview tracking: tracked interviews, rounds, linked questions and statistics.

One live server per database backend serves the whole module (tests use their own users and names, so
they do not see each other's rows); every request is a black-box HTTP call on loopback.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.support import Headers, People, api_per_module, ok, person, unique
from tests.support import Api

INTERVIEW = {
    "custom_role_title": "Senior Full Stack Engineer",
    "interview_type": "actual",
    "seniority_level": "senior",
    "interview_status": "scheduled",
    "interview_result": "pending",
    "job_description": "Looking for a senior engineer with 5+ years experience",
    "main_skills_required": ["Python", "React", "AWS", "PostgreSQL"],
    "required_experience_years": 5,
    "job_location": "San Francisco, CA",
    "is_remote": True,
    "salary_range": "$150,000 - $200,000",
    "application_date": "2024-12-01",
    "preparation_notes": "Review system design patterns and AWS architecture",
    "created_by": "user@example.com",
}
ROUND = {
    "round_number": 1,
    "round_name": "Technical Phone Screen",
    "round_type": "phone_screen",
    "scheduled_date": "2024-12-05",
    "scheduled_time": "14:00:00",
    "duration_minutes": 60,
    "is_virtual": True,
    "meeting_platform": "Zoom",
    "interviewer_name": "John Doe",
    "interviewer_title": "Senior Engineering Manager",
}
LINK = {
    "was_asked": True,
    "order_asked": 1,
    "candidate_answer": "I would start by clarifying requirements...",
    "answer_quality_rating": 8,
    "time_taken_minutes": 40,
    "was_prepared": True,
    "confidence_level": 7,
    "what_went_well": "Good structure and covered all key points",
    "what_could_improve": "Could have discussed more about analytics",
}


api = api_per_module("tracking")


@pytest.fixture(scope="module")
def people(api: Api) -> People:
    owner, owner_id = person(api)
    return People(owner, owner_id, api.register(), api.admin())


def company(api: Api, headers: Headers, **fields: Any) -> dict[str, Any]:
    body = {"company_name": unique("TechCorp"), "industry": "Technology", **fields}
    created: dict[str, Any] = ok(api.client.post("/api/companies", headers=headers, json=body), 201)
    return created


def role(api: Api, headers: Headers) -> dict[str, Any]:
    created: dict[str, Any] = ok(
        api.client.post(
            "/api/roles", headers=headers, json={"role_name": unique("Senior Software Engineer")}
        ),
        201,
    )
    return created


def interview(api: Api, headers: Headers, **fields: Any) -> dict[str, Any]:
    created: dict[str, Any] = ok(
        api.client.post("/api/interviews", headers=headers, json={**INTERVIEW, **fields}), 201
    )
    return created


def question(api: Api, headers: Headers, **fields: Any) -> dict[str, Any]:
    body = {"question_text": unique("How would you design a URL shortening service?"), **fields}
    created: dict[str, Any] = ok(api.client.post("/api/questions", headers=headers, json=body), 201)
    return created


def listing(api: Api, headers: Headers, **params: Any) -> dict[str, Any]:
    page: dict[str, Any] = ok(api.client.get("/api/interviews", headers=headers, params=params))
    return page


# ---------------------------------------------------------------- interviews


def test_create_and_get_in_full(api: Api, people: People) -> None:
    """Creating answers 201 with every field, its company and role; GET returns the same object."""
    firm, job = company(api, people.owner), role(api, people.owner)
    body = interview(api, people.owner, company_id=firm["company_id"], role_id=job["role_id"])
    assert isinstance(body["interview_id"], int) and body["created_by"] == people.owner_id
    for field, value in INTERVIEW.items():
        if field != "created_by":
            assert body[field] == value, field
    assert body["company_name"] == firm["company_name"] and body["company"] == firm
    assert body["role_name"] == job["role_name"] and body["role"]["role_id"] == job["role_id"]
    assert body["rounds"] == [] and body["questions"] == [] and body["overall_rating"] is None
    assert body["created_at"].endswith("Z") and body["first_interview_date"] is None
    assert ok(api.client.get(f"/api/interviews/{body['interview_id']}", headers=people.owner)) == body
    minimal = ok(api.client.post("/api/interviews/", headers=people.owner, json={}), 201)
    assert minimal["interview_type"] == "actual" and minimal["interview_status"] == "scheduled"
    assert minimal["interview_result"] == "pending" and minimal["is_remote"] is False
    assert minimal["company"] is None and minimal["role_name"] is None


def test_list_envelope_filters_and_sort(api: Api, people: People) -> None:
    """The list filters by every documented field, sorts by the documented keys and pages with limits."""
    me, _ = person(api)
    a, b = company(api, me, company_name=unique("Alpha")), company(api, me, company_name=unique("Beta"))
    job = role(api, me)
    first = interview(api, me, company_id=b["company_id"], application_date="2024-11-01")
    second = interview(
        api, me, company_id=a["company_id"], role_id=job["role_id"], interview_type="mock", is_remote=False,
        seniority_level="junior", interview_status="completed", interview_result="passed",
        application_date="2024-12-20",
    )  # fmt: skip
    third = interview(api, me, interview_type="practice", application_date=None)
    ids = [first["interview_id"], second["interview_id"], third["interview_id"]]

    page = listing(api, me)
    assert set(page) == {"total", "skip", "limit", "data"} and page["limit"] == 20 and page["total"] == 3
    assert [row["interview_id"] for row in page["data"]] == ids[::-1]  # newest first
    assert ok(api.client.get("/api/interviews/", headers=me)) == page
    row = page["data"][1]
    assert row["company_name"] == a["company_name"] and row["role_name"] == job["role_name"]
    assert row["interview_status"] == "completed" and row["application_date"] == "2024-12-20"

    def ids_for(**params: Any) -> list[int]:
        return [row["interview_id"] for row in listing(api, me, **params)["data"]]

    assert ids_for(company_id=a["company_id"]) == [second["interview_id"]]
    assert ids_for(role_id=job["role_id"]) == [second["interview_id"]]
    assert ids_for(interview_type="practice") == [third["interview_id"]]
    assert ids_for(interview_status="completed") == ids_for(interview_result="passed") == [ids[1]]
    assert ids_for(seniority_level="senior") == [ids[0], ids[2]][::-1]
    assert ids_for(is_remote="false") == [ids[1]] and len(ids_for(is_remote="true")) == 2
    assert ids_for(sort_by="company_name", order="asc") == [ids[1], ids[0], ids[2]]  # no company last
    assert ids_for(sort_by="application_date", order="asc") == [ids[0], ids[1], ids[2]]
    assert ids_for(sort_by="application_date", order="desc") == [ids[1], ids[0], ids[2]]
    assert ids_for(sort_by="interview_status", order="asc") == [ids[1], ids[0], ids[2]]
    assert ids_for(sort_by="created_at", order="asc") == ids
    paged = listing(api, me, skip=1, limit=1)
    assert (
        paged["total"] == 3 and paged["skip"] == 1 and [r["interview_id"] for r in paged["data"]] == [ids[1]]
    )


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 1000},
        {"limit": 0},
        {"skip": -1},
        {"interview_type": "dream"},
        {"interview_status": "done"},
        {"interview_result": "maybe"},
        {"seniority_level": "wizard"},
        {"is_remote": "sometimes"},
        {"sort_by": "salary_range"},
        {"order": "sideways"},
        {"company_id": 2**40},
        {"role_id": "first"},
    ],
)
def test_bad_list_parameters_are_422(api: Api, people: People, params: dict[str, Any]) -> None:
    """Out-of-range paging, unknown enum values and unknown sort keys are a 422 with a detail."""
    response = api.client.get("/api/interviews", headers=people.owner, params=params)
    assert response.status_code == 422 and "detail" in response.json()


def test_update_is_partial(api: Api, people: People) -> None:
    """PUT changes only the fields sent; the documented update body works and the rest stays."""
    created = interview(api, people.owner)
    url = f"/api/interviews/{created['interview_id']}"
    change = {
        "interview_status": "completed",
        "interview_result": "passed",
        "overall_feedback": "Great interview! Demonstrated strong technical skills.",
        "strengths": "Strong system design knowledge, good communication",
        "areas_for_improvement": "Could improve algorithm optimization",
        "overall_rating": 9,
    }
    updated = ok(api.client.put(url, headers=people.owner, json=change))
    for field, value in change.items():
        assert updated[field] == value
    assert (
        updated["job_location"] == INTERVIEW["job_location"]
        and updated["salary_range"] == INTERVIEW["salary_range"]
    )
    assert updated["updated_at"] >= created["updated_at"]
    cleared = ok(api.client.patch(url, headers=people.owner, json={"salary_range": None}))
    assert cleared["salary_range"] is None and cleared["interview_status"] == "completed"
    assert ok(api.client.get(url, headers=people.owner)) == cleared


@pytest.mark.parametrize(
    "change",
    [
        {"interview_type": "dream"},
        {"interview_status": "done"},
        {"interview_result": "hired"},
        {"seniority_level": "wizard"},
        {"overall_rating": 0},
        {"overall_rating": 11},
        {"interview_status": None},
        {"main_skills_required": "Python"},
        {"application_date": "yesterday"},
        {"required_experience_years": -1},
    ],
)
def test_bad_update_is_422_and_changes_nothing(api: Api, people: People, change: dict[str, Any]) -> None:
    """Bad enums, out-of-range ratings, nulls for required fields and malformed values are 422s."""
    created = interview(api, people.owner)
    url = f"/api/interviews/{created['interview_id']}"
    for method in ("PUT", "POST"):
        target = url if method == "PUT" else "/api/interviews"
        response = api.client.request(method, target, headers=people.owner, json={**INTERVIEW, **change})
        assert response.status_code == 422, (method, response.text)
        assert "detail" in response.json()
    assert ok(api.client.get(url, headers=people.owner)) == created


def test_unknown_references_are_400(api: Api, people: People) -> None:
    """A company or role id that names nothing is a 400 naming the field, on create and update."""
    me, _ = person(api)
    for field in ("company_id", "role_id"):
        response = api.client.post("/api/interviews", headers=me, json={**INTERVIEW, field: 987654})
        assert response.status_code == 400 and field in response.json()["errors"]
    assert listing(api, me)["total"] == 0
    created = interview(api, me)
    response = api.client.put(
        f"/api/interviews/{created['interview_id']}", headers=me, json={"company_id": 987654}
    )
    assert response.status_code == 400
    assert ok(api.client.get(f"/api/interviews/{created['interview_id']}", headers=me)) == created


def test_unknown_interview_is_404(api: Api, people: People) -> None:
    """An unknown interview id, however large, is a 404 on every interview route."""
    for interview_id in (987654, 2**31, 10**15):
        base = f"/api/interviews/{interview_id}"
        for method, url, body in (
            ("GET", base, None),
            ("PUT", base, {"overall_rating": 5}),
            ("DELETE", base, None),
            ("GET", f"{base}/rounds", None),
            ("POST", f"{base}/rounds", ROUND),
            ("GET", f"{base}/questions", None),
            ("POST", f"{base}/questions", {"question_id": 1}),
        ):
            response = api.client.request(method, url, headers=people.owner, json=body)
            assert response.status_code == 404, (method, url, response.text)
            assert response.json() == {"detail": "Interview not found"}
    assert api.client.get("/api/interviews/abc", headers=people.owner).status_code == 422


def test_interviews_belong_to_their_owner(api: Api, people: People) -> None:
    """Another user gets 404 for every route on my interview and never lists it; an admin sees it."""
    mine = interview(api, people.owner)
    base = f"/api/interviews/{mine['interview_id']}"
    q = question(api, people.owner)
    for method, url, body in (
        ("GET", base, None),
        ("PUT", base, {"interview_status": "cancelled"}),
        ("DELETE", base, None),
        ("GET", f"{base}/rounds", None),
        ("POST", f"{base}/rounds", ROUND),
        ("GET", f"{base}/questions", None),
        ("POST", f"{base}/questions", {"question_id": q["question_id"]}),
    ):
        response = api.client.request(method, url, headers=people.other, json=body)
        assert response.status_code == 404, (method, url, response.text)
    assert mine["interview_id"] not in [
        r["interview_id"] for r in listing(api, people.other, limit=100)["data"]
    ]
    assert ok(api.client.get(base, headers=people.owner)) == mine
    assert ok(api.client.get(f"/api/questions/{q['question_id']}", headers=people.owner))["times_asked"] == 0
    assert ok(api.client.get(base, headers=people.admin))["interview_id"] == mine["interview_id"]
    assert listing(api, people.admin, limit=100)["total"] >= listing(api, people.owner, limit=100)["total"]
    for path in ("/api/interviews", base, f"{base}/rounds", "/api/stats/overview"):
        assert api.client.get(path).status_code == 401


def test_delete_cancels(api: Api, people: People) -> None:
    """DELETE answers 204 and leaves the interview with status cancelled (a soft delete)."""
    created = interview(api, people.owner)
    url = f"/api/interviews/{created['interview_id']}"
    response = api.client.delete(url, headers=people.owner)
    assert response.status_code == 204 and response.content == b""
    after = ok(api.client.get(url, headers=people.owner))
    assert after["interview_status"] == "cancelled" and after["job_location"] == created["job_location"]
    cancelled = listing(api, people.owner, interview_status="cancelled", limit=100)["data"]
    assert created["interview_id"] in [row["interview_id"] for row in cancelled]


# ---------------------------------------------------------------- rounds


def test_rounds(api: Api, people: People) -> None:
    """Rounds are created with the documented body, numbered, listed in order and updatable."""
    created = interview(api, people.owner)
    base = f"/api/interviews/{created['interview_id']}/rounds"
    first = ok(
        api.client.post(base, headers=people.owner, json={**ROUND, "interview_id": created["interview_id"]}),
        201,
    )
    for field, value in ROUND.items():
        assert first[field] == value, field
    assert first["interview_id"] == created["interview_id"] and isinstance(first["round_id"], int)
    assert (
        first["round_status"] == "scheduled"
        and first["round_result"] == "pending"
        and first["rating"] is None
    )
    second = ok(
        api.client.post(
            f"{base}/",
            headers=people.owner,
            json={"round_type": "system_design", "scheduled_date": "2024-12-03"},
        ),
        201,
    )
    assert second["round_number"] == 2 and second["round_type"] == "system_design"
    rounds = ok(api.client.get(base, headers=people.owner))
    assert [r["round_id"] for r in rounds] == [first["round_id"], second["round_id"]]
    documented = {
        "round_id",
        "interview_id",
        "round_number",
        "round_name",
        "round_type",
        "scheduled_date",
        "duration_minutes",
        "is_virtual",
        "interviewer_name",
        "round_status",
        "round_result",
        "rating",
    }
    assert documented <= set(rounds[0])  # fmt: skip
    detail = ok(api.client.get(f"/api/interviews/{created['interview_id']}", headers=people.owner))
    assert detail["rounds"] == rounds and detail["first_interview_date"] == "2024-12-03"

    done = {"round_status": "completed", "round_result": "passed", "rating": 8}
    updated = ok(api.client.put(f"{base}/{first['round_id']}", headers=people.owner, json=done))
    assert {k: updated[k] for k in done} == done and updated["round_name"] == ROUND["round_name"]
    assert api.client.put(f"{base}/987654", headers=people.owner, json=done).status_code == 404


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"round_type": "interrogation"}, 422),
        ({"round_status": "done"}, 422),
        ({"round_result": "maybe"}, 422),
        ({"rating": 11}, 422),
        ({"rating": 0}, 422),
        ({"round_number": 0}, 422),
        ({"duration_minutes": -5}, 422),
        ({"scheduled_time": "25:00:00"}, 422),
        ({"round_number": 1}, 400),  # taken
        ({"interview_id": 987654}, 400),  # not the interview in the URL
    ],
)
def test_bad_round_changes_nothing(api: Api, people: People, change: dict[str, Any], status: int) -> None:
    """Bad round enums, ratings, numbers or a mismatched interview id are rejected and create nothing."""
    created = interview(api, people.owner)
    base = f"/api/interviews/{created['interview_id']}/rounds"
    ok(api.client.post(base, headers=people.owner, json=ROUND), 201)
    response = api.client.post(base, headers=people.owner, json={**ROUND, "round_number": 2, **change})
    assert response.status_code == status, response.text
    assert "detail" in response.json()
    assert len(ok(api.client.get(base, headers=people.owner))) == 1


# ---------------------------------------------------------------- questions in an interview


def test_link_questions_counts_times_asked(api: Api, people: People) -> None:
    """Linking a bank question answers 201 with the link and question, counts times_asked and the rating."""
    q = question(api, people.owner, question_category="system_design")
    first, second = interview(api, people.owner), interview(api, people.owner)
    rounds_url = f"/api/interviews/{first['interview_id']}/rounds"
    round_ = ok(api.client.post(rounds_url, headers=people.owner, json=ROUND), 201)
    url = f"/api/interviews/{first['interview_id']}/questions"
    body = {
        **LINK,
        "interview_id": first["interview_id"],
        "question_id": q["question_id"],
        "round_id": round_["round_id"],
    }
    link = ok(api.client.post(url, headers=people.owner, json=body), 201)
    for field, value in body.items():
        assert link[field] == value, field
    assert link["question_text"] == q["question_text"] and link["question"]["times_asked"] == 1
    assert link["question"]["average_rating"] == 8

    other = {**LINK, "question_id": q["question_id"], "answer_quality_rating": 5}
    ok(
        api.client.post(
            f"/api/interviews/{second['interview_id']}/questions/", headers=people.owner, json=other
        ),
        201,
    )
    stored = ok(api.client.get(f"/api/questions/{q['question_id']}", headers=people.owner))
    assert stored["times_asked"] == 2 and stored["average_rating"] == 6.5

    linked = ok(api.client.get(url, headers=people.owner))
    assert [item["interview_question_id"] for item in linked] == [link["interview_question_id"]]
    detail = ok(api.client.get(f"/api/interviews/{first['interview_id']}", headers=people.owner))
    assert [item["question_id"] for item in detail["questions"]] == [q["question_id"]]


def test_bad_links_change_nothing(api: Api, people: People) -> None:
    """Unknown, inactive or repeated questions, foreign rounds, bad ratings are rejected; no count moves."""
    q, gone = question(api, people.owner), question(api, people.owner)
    assert api.client.delete(f"/api/questions/{gone['question_id']}", headers=people.owner).status_code == 204
    mine, elsewhere = interview(api, people.owner), interview(api, people.owner)
    foreign = ok(
        api.client.post(
            f"/api/interviews/{elsewhere['interview_id']}/rounds", headers=people.owner, json=ROUND
        ),
        201,
    )
    url = f"/api/interviews/{mine['interview_id']}/questions"
    ok(api.client.post(url, headers=people.owner, json={"question_id": q["question_id"]}), 201)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"question_id": q["question_id"]}, 400),  # already linked
        ({"question_id": 987654}, 400),
        ({"question_id": gone["question_id"]}, 400),
        ({"question_id": q["question_id"], "round_id": foreign["round_id"]}, 400),
        ({"question_id": q["question_id"], "interview_id": elsewhere["interview_id"]}, 400),
        ({"question_id": q["question_id"], "answer_quality_rating": 11}, 422),
        ({"question_id": q["question_id"], "confidence_level": 0}, 422),
        ({"question_id": "ten"}, 422),
        ({}, 422),
    ]
    for body, status in cases:
        response = api.client.post(url, headers=people.owner, json=body)
        assert response.status_code == status, (body, response.text)
        assert "detail" in response.json()
    assert len(ok(api.client.get(url, headers=people.owner))) == 1
    assert ok(api.client.get(f"/api/questions/{q['question_id']}", headers=people.owner))["times_asked"] == 1
    assert (
        ok(api.client.get(f"/api/questions/{gone['question_id']}", headers=people.owner))["times_asked"] == 0
    )


def test_questions_sort_by_times_asked(api: Api, people: People) -> None:
    """The question bank sorts by times_asked once questions are linked to interviews."""
    tag = uuid.uuid4().hex[:10]
    rare, common = question(api, people.owner, tags=[tag]), question(api, people.owner, tags=[tag])
    for _ in range(2):
        target = interview(api, people.owner)
        ok(api.client.post(f"/api/interviews/{target['interview_id']}/questions", headers=people.owner,
                           json={"question_id": common["question_id"]}), 201)  # fmt: skip
    params = {"tags": tag, "sort_by": "times_asked"}
    ranked = ok(api.client.get("/api/questions", headers=people.owner, params=params))["data"]
    assert [(row["question_id"], row["times_asked"]) for row in ranked] == [
        (common["question_id"], 2),
        (rare["question_id"], 0),
    ]


def test_company_in_use_cannot_be_deleted(api: Api, people: People) -> None:
    """Deleting a company that a tracked interview names is a 409 and the company stays."""
    firm = company(api, people.owner)
    interview(api, people.owner, company_id=firm["company_id"])
    response = api.client.delete(f"/api/companies/{firm['company_id']}", headers=people.owner)
    assert response.status_code == 409 and "detail" in response.json()
    assert ok(api.client.get(f"/api/companies/{firm['company_id']}", headers=people.owner)) == firm


# ---------------------------------------------------------------- statistics


def test_stats_overview(api: Api, people: People) -> None:
    """The overview has exactly the documented keys, counts my interviews and the active question bank."""
    me, _ = person(api)
    before = ok(api.client.get("/api/stats/overview", headers=me))
    assert set(before) == {
        "total_interviews", "total_questions", "total_companies", "interviews_by_status",
        "interviews_by_result", "questions_by_category", "questions_by_difficulty",
    }  # fmt: skip
    assert before["total_interviews"] == 0 and before["interviews_by_status"] == {}
    interview(api, me)
    interview(api, me, interview_status="completed", interview_result="passed")
    cancelled = interview(api, me, interview_status="completed", interview_result="failed")
    api.client.delete(f"/api/interviews/{cancelled['interview_id']}", headers=me)
    question(api, me, question_category="coding", question_difficulty="hard")
    question(api, me, question_category="coding", question_difficulty="easy")
    deleted = question(api, me, question_category="behavioral")
    api.client.delete(f"/api/questions/{deleted['question_id']}", headers=me)
    company(api, me)

    after = ok(api.client.get("/api/stats/overview", headers=me))
    assert after["total_interviews"] == 3
    assert after["interviews_by_status"] == {"cancelled": 1, "completed": 1, "scheduled": 1}
    assert after["interviews_by_result"] == {"failed": 1, "passed": 1, "pending": 1}
    assert after["total_questions"] == before["total_questions"] + 2
    assert after["total_questions"] == sum(after["questions_by_category"].values())
    assert after["total_questions"] == sum(after["questions_by_difficulty"].values())
    gained = after["questions_by_category"]["coding"] - before["questions_by_category"].get("coding", 0)
    assert gained == 2 and after["questions_by_category"].get("behavioral", 0) == before[
        "questions_by_category"
    ].get("behavioral", 0)
    assert after["total_companies"] == before["total_companies"] + 1
    assert after["total_companies"] == ok(api.client.get("/api/companies", headers=me))["total"]
    everyone = ok(api.client.get("/api/stats/overview", headers=people.admin))
    assert everyone["total_interviews"] >= after["total_interviews"] + 1
    assert ok(api.client.get("/api/stats/overview", headers=people.other))["total_interviews"] == 0
