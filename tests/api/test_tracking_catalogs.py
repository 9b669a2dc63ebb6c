"""Seed 003 catalogs: companies, skills and the question bank (create, read, filter, ownership, checks)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.support import Headers, People, api_per_module, ok, person, unique
from tests.support import Api

COMPANY = {
    "industry": "Technology",
    "company_size": "1000-5000",
    "headquarters": "San Francisco, CA",
    "website": "https://techcorp.com",
    "company_description": "Leading technology company",
}
SKILL = {
    "skill_category": "Programming Language",
    "skill_type": "Technical",
    "skill_description": "High-level programming language",
    "is_trending": True,
    "market_demand": "high",
}
QUESTION = {
    "question_text": "How would you design a URL shortening service?",
    "question_category": "system_design",
    "question_difficulty": "medium",
    "answer_summary": "Design should include URL generation, storage, redirection",
    "key_concepts": ["Hashing", "Database Design", "Caching"],
    "common_mistakes": ["Not considering collision handling"],
    "tips_and_tricks": ["Use base62 encoding", "Consider Redis for caching"],
    "time_to_answer_minutes": 45,
    "tags": ["system_design", "scalability"],
    "created_by": "admin",
}


api = api_per_module("catalogs")


@pytest.fixture(scope="module")
def people(api: Api) -> People:
    owner, owner_id = person(api)
    return People(owner, owner_id, api.register(), api.admin())


def create(api: Api, path: str, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = ok(api.client.post(path, headers=headers, json=body), 201)
    return created


def total(api: Api, path: str, headers: Headers, **params: Any) -> int:
    count: int = ok(api.client.get(path, headers=headers, params=params))["total"]
    return count


# ---------------------------------------------------------------- companies


def test_company_create_get_list(api: Api, people: People) -> None:
    """A company is created with every documented field, read back, listed (limit 50) and searched."""
    name = unique("TechCorp Inc")
    body = create(api, "/api/companies", people.owner, {"company_name": f"  {name} ", **COMPANY})
    assert isinstance(body["company_id"], int) and body["company_name"] == name
    assert {k: body[k] for k in COMPANY} == COMPANY and body["created_by"] == people.owner_id
    assert body["created_at"].endswith("Z")
    assert ok(api.client.get(f"/api/companies/{body['company_id']}", headers=people.other)) == body
    page = ok(api.client.get("/api/companies", headers=people.other, params={"search": name.upper()}))
    assert page == {"total": 1, "skip": 0, "limit": 50, "data": [body]}
    assert ok(api.client.get("/api/companies/", headers=people.other, params={"search": name})) == page
    assert ok(api.client.get("/api/companies", headers=people.other))["limit"] == 50
    slash = create(api, "/api/companies/", people.other, {"company_name": unique("Slash Co")})
    assert slash["industry"] is None and slash["company_id"] != body["company_id"]


def test_company_duplicates_are_400(api: Api, people: People) -> None:
    """A company name that exists in any case is a 400, on create and on rename; nothing changes."""
    name = unique("Globex")
    create(api, "/api/companies", people.owner, {"company_name": name})
    other = create(api, "/api/companies", people.owner, {"company_name": unique("Initech")})
    for candidate in (name, name.lower(), f"  {name.upper()} "):
        response = api.client.post("/api/companies", headers=people.other, json={"company_name": candidate})
        assert response.status_code == 400, response.text
        assert "detail" in response.json() and "company_name" in response.json()["errors"]
    url = f"/api/companies/{other['company_id']}"
    assert api.client.put(url, headers=people.owner, json={"company_name": name.lower()}).status_code == 400
    assert ok(api.client.get(url, headers=people.owner)) == other
    assert total(api, "/api/companies", people.owner, search=name) == 1


def test_company_only_creator_or_admin_changes(api: Api, people: People) -> None:
    """Another user cannot PUT or DELETE a company (403); the creator and an admin can."""
    firm = create(api, "/api/companies", people.owner, {"company_name": unique("Umbrella"), **COMPANY})
    url = f"/api/companies/{firm['company_id']}"
    assert api.client.put(url, headers=people.other, json={"industry": "Hijacked"}).status_code == 403
    assert api.client.delete(url, headers=people.other).status_code == 403
    assert ok(api.client.get(url, headers=people.owner)) == firm
    updated = ok(api.client.put(url, headers=people.owner, json={"industry": "Pharma"}))
    assert updated["industry"] == "Pharma" and updated["website"] == COMPANY["website"]
    assert (
        ok(api.client.put(url, headers=people.admin, json={"company_size": "50-100"}))["company_size"]
        == "50-100"
    )
    assert api.client.delete(url, headers=people.owner).status_code == 204
    assert api.client.get(url, headers=people.owner).status_code == 404
    spare = create(api, "/api/companies", people.owner, {"company_name": unique("Spare")})
    assert api.client.delete(f"/api/companies/{spare['company_id']}", headers=people.admin).status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"company_name": ""},
        {"company_name": "   "},
        {"company_name": "x" * 201},
        {"company_name": "Ok", "website": "w" * 501},
    ],
)
def test_invalid_company_is_422(api: Api, people: People, body: dict[str, Any]) -> None:
    """A missing, blank or over-long name or field is a 422 and creates nothing."""
    before = total(api, "/api/companies", people.owner)
    response = api.client.post("/api/companies", headers=people.owner, json=body)
    assert response.status_code == 422 and "detail" in response.json()
    assert total(api, "/api/companies", people.owner) == before


def test_unknown_catalog_ids_are_404(api: Api, people: People) -> None:
    """Unknown company, skill and question ids, however large, are 404 on GET, PUT and DELETE."""
    for path, what in (("companies", "Company"), ("skills", "Skill"), ("questions", "Question")):
        for entry_id in (987654, 2**31, 10**15):
            for method, body in (("GET", None), ("PUT", {}), ("DELETE", None)):
                response = api.client.request(
                    method, f"/api/{path}/{entry_id}", headers=people.owner, json=body
                )
                assert response.status_code == 404, (path, method, response.text)
                assert response.json() == {"detail": f"{what} not found"}
        assert api.client.get(f"/api/{path}/abc", headers=people.owner).status_code == 422


@pytest.mark.parametrize("path", ["/api/companies", "/api/skills", "/api/questions", "/api/roles"])
@pytest.mark.parametrize("params", [{"limit": 1000}, {"limit": 0}, {"skip": -1}])
def test_bad_paging_is_422(api: Api, people: People, path: str, params: dict[str, int]) -> None:
    """limit above 100 or below 1 and a negative skip are 422s on every catalog."""
    response = api.client.get(path, headers=people.owner, params=params)
    assert response.status_code == 422 and "detail" in response.json()


def test_catalogs_need_a_token(api: Api) -> None:
    """Every catalog route answers 401 without a bearer token."""
    for path in ("/api/companies", "/api/skills", "/api/questions", "/api/questions/category/coding"):
        assert api.client.get(path).status_code == 401
        assert api.client.post(path, json={}).status_code in (401, 405)


# ---------------------------------------------------------------- skills


def test_skills(api: Api, people: People) -> None:
    """Skills are created, filtered by search, category and is_trending, unique by name, creator-owned."""
    token = uuid.uuid4().hex[:8]
    python = create(api, "/api/skills", people.owner, {"skill_name": f"Python {token}", **SKILL})
    assert {k: python[k] for k in SKILL} == SKILL and isinstance(python["skill_id"], int)
    create(api, "/api/skills/", people.owner, {"skill_name": f"Cobol {token}", "skill_category": "Legacy"})
    assert ok(api.client.get(f"/api/skills/{python['skill_id']}", headers=people.other)) == python

    def names(**params: Any) -> list[str]:
        page = ok(api.client.get("/api/skills", headers=people.other, params={"search": token, **params}))
        return [row["skill_name"] for row in page["data"]]

    assert names() == [f"Cobol {token}", f"Python {token}"]
    assert names(category="programming language") == [f"Python {token}"]
    assert names(is_trending="true") == [f"Python {token}"] and names(is_trending="false") == [
        f"Cobol {token}"
    ]
    assert ok(api.client.get("/api/skills", headers=people.other))["limit"] == 20
    duplicate = api.client.post("/api/skills", headers=people.other, json={"skill_name": f"PYTHON {token}"})
    assert duplicate.status_code == 400 and "skill_name" in duplicate.json()["errors"]
    url = f"/api/skills/{python['skill_id']}"
    assert api.client.put(url, headers=people.other, json={"is_trending": False}).status_code == 403
    assert api.client.delete(url, headers=people.other).status_code == 403
    for bad in ({"market_demand": "enormous"}, {"is_trending": None}, {"skill_name": None}):
        assert api.client.put(url, headers=people.owner, json=bad).status_code == 422, bad
    assert ok(api.client.get(url, headers=people.owner)) == python
    assert (
        ok(api.client.put(url, headers=people.admin, json={"market_demand": "very_high"}))["market_demand"]
        == "very_high"
    )
    assert api.client.delete(url, headers=people.owner).status_code == 204
    assert names() == [f"Cobol {token}"]
    bad = api.client.post(
        "/api/skills", headers=people.owner, json={"skill_name": f"Go {token}", "market_demand": "huge"}
    )
    assert bad.status_code == 422 and names() == [f"Cobol {token}"]


# ---------------------------------------------------------------- questions


def test_question_round_trip(api: Api, people: People) -> None:
    """A question keeps every documented field; counters start at zero; GET by id returns it."""
    body = create(api, "/api/questions", people.owner, QUESTION)
    for field, value in QUESTION.items():
        if field != "created_by":
            assert body[field] == value, field
    assert body["created_by"] == people.owner_id and body["is_active"] is True
    assert body["times_asked"] == 0 and body["times_practiced"] == 0 and body["average_rating"] is None
    assert ok(api.client.get(f"/api/questions/{body['question_id']}", headers=people.other)) == body
    minimal = create(
        api, "/api/questions/", people.owner, {"question_text": "Why Viva?", "tags": ["a", "A", "b"]}
    )
    assert minimal["question_category"] == "technical" and minimal["question_difficulty"] == "medium"
    assert minimal["key_concepts"] == [] and minimal["tags"] == ["a", "b"]


def test_question_filters(api: Api, people: People) -> None:
    """Questions filter by category, difficulty, search (literal % and _), repeated tags and is_active."""
    tag = f"t{uuid.uuid4().hex[:8]}"
    specs = [
        (f"Explain 100% of {tag} caching", [tag, "cache"], "technical", "easy"),
        (f"Design a feed for {tag}", [tag, "feed"], "system_design", "hard"),
        (f"Tell me about a conflict ({tag}_x)", [tag], "behavioral", "expert"),
    ]
    fields = ("question_text", "tags", "question_category", "question_difficulty")
    rows = [
        create(api, "/api/questions", people.owner, dict(zip(fields, spec, strict=True))) for spec in specs
    ]
    ids = [row["question_id"] for row in rows]

    def found(**params: Any) -> list[int]:
        page = ok(api.client.get("/api/questions", headers=people.other, params={"tags": tag, **params}))
        return [row["question_id"] for row in page["data"]]

    assert found() == ids[::-1]  # newest first
    assert found(category="system_design") == [ids[1]] and found(difficulty="expert") == [ids[2]]
    assert (
        found(search="FEED") == [ids[1]]
        and found(search="100%") == [ids[0]]
        and found(search="0%") == [ids[0]]
    )
    assert found(search=f"{tag}_x") == [ids[2]] and found(search="_") == [ids[2]]
    any_of = ok(
        api.client.get("/api/questions", headers=people.other, params=[("tags", "feed"), ("tags", "cache")])
    )
    assert {ids[0], ids[1]} <= {row["question_id"] for row in any_of["data"]}
    assert found(tags=[tag.upper()]) == ids[::-1]
    page = ok(
        api.client.get("/api/questions", headers=people.other, params={"tags": tag, "skip": 1, "limit": 1})
    )
    assert page["total"] == 3 and page["limit"] == 1 and [r["question_id"] for r in page["data"]] == [ids[1]]
    assert ok(api.client.get("/api/questions", headers=people.other))["limit"] == 20
    order = {"sort_by": "question_difficulty", "order": "asc"}
    assert found(**order) == [ids[0], ids[1], ids[2]]
    assert found(sort_by="question_difficulty", order="desc") == [ids[2], ids[1], ids[0]]
    assert found(sort_by="created_at", order="asc") == ids and found(sort_by="average_rating") == ids[::-1]


def test_question_soft_delete_and_category(api: Api, people: People) -> None:
    """DELETE hides a question (is_active false) from lists and its category; PUT can restore it."""
    tag = f"t{uuid.uuid4().hex[:8]}"
    keep = create(
        api, "/api/questions", people.owner, {**QUESTION, "question_category": "case_study", "tags": [tag]}
    )
    drop = create(
        api, "/api/questions", people.owner, {**QUESTION, "question_category": "case_study", "tags": [tag]}
    )
    url = f"/api/questions/{drop['question_id']}"
    assert api.client.delete(url, headers=people.other).status_code == 403
    assert api.client.delete(url, headers=people.owner).status_code == 204
    assert ok(api.client.get(url, headers=people.owner))["is_active"] is False

    def ids(**params: Any) -> list[int]:
        page = ok(api.client.get("/api/questions", headers=people.owner, params={"tags": tag, **params}))
        return [row["question_id"] for row in page["data"]]

    assert ids() == [keep["question_id"]] and ids(is_active="false") == [drop["question_id"]]
    in_category = ok(api.client.get("/api/questions/category/case_study", headers=people.owner))
    assert isinstance(in_category, list) and all(q["question_category"] == "case_study" for q in in_category)
    assert keep["question_id"] in [q["question_id"] for q in in_category]
    assert drop["question_id"] not in [q["question_id"] for q in in_category]
    assert api.client.get("/api/questions/category/astrology", headers=people.owner).status_code == 422
    restored = ok(api.client.put(url, headers=people.admin, json={"is_active": True}))
    assert restored["is_active"] is True and ids() == [drop["question_id"], keep["question_id"]]


def test_question_update_rules(api: Api, people: People) -> None:
    """The creator or an admin may PUT a question (partial); others get 403 and bad values 422."""
    q = create(api, "/api/questions", people.owner, QUESTION)
    url = f"/api/questions/{q['question_id']}"
    assert api.client.put(url, headers=people.other, json={"question_difficulty": "easy"}).status_code == 403
    changed = ok(
        api.client.put(
            url, headers=people.owner, json={"question_difficulty": "hard", "answer_summary": None}
        )
    )
    assert changed["question_difficulty"] == "hard" and changed["answer_summary"] is None
    assert changed["key_concepts"] == QUESTION["key_concepts"]
    for bad in (
        {"question_text": "shrt"},
        {"question_text": None},
        {"question_category": "astrology"},
        {"question_difficulty": "impossible"},
        {"tags": ['bad"tag']},
        {"time_to_answer_minutes": 0},
    ):
        assert api.client.put(url, headers=people.owner, json=bad).status_code == 422, bad
    assert ok(api.client.get(url, headers=people.owner)) == changed


@pytest.mark.parametrize(
    "change",
    [
        {"question_text": "Why?"},
        {"question_text": "x" * 2001},
        {"question_category": "astrology"},
        {"question_difficulty": "impossible"},
        {"tags": ["no\\backslash"]},
        {"tags": ["t"] * 21},
        {"key_concepts": "Hashing"},
    ],
)
def test_invalid_question_is_422(api: Api, people: People, change: dict[str, Any]) -> None:
    """Text outside 5–2000 characters, unknown enums and malformed lists are 422s and create nothing."""
    before = total(api, "/api/questions", people.owner, is_active="true")
    response = api.client.post("/api/questions", headers=people.owner, json={**QUESTION, **change})
    assert response.status_code == 422 and "detail" in response.json()
    assert total(api, "/api/questions", people.owner, is_active="true") == before


@pytest.mark.parametrize(
    "params",
    [
        {"category": "astrology"},
        {"difficulty": "impossible"},
        {"sort_by": "question_text"},
        {"order": "up"},
        {"tags": 'bad"tag'},
        {"is_active": "perhaps"},
    ],
)
def test_bad_question_filters_are_422(api: Api, people: People, params: dict[str, Any]) -> None:
    """Unknown categories, difficulties, sort keys, orders, malformed tags and booleans are 422s."""
    response = api.client.get("/api/questions", headers=people.owner, params=params)
    assert response.status_code == 422 and "detail" in response.json()
