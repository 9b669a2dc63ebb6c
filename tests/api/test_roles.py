"""Seed 003 job roles at /api/roles: create, list, search, ownership, and roles in use."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api

ROLE = {
    "role_name": "Senior Software Engineer",
    "role_category": "Engineering",
    "role_description": "Senior engineer position",
    "typical_skills": ["Python", "JavaScript", "AWS", "Docker"],
}


@pytest.fixture
def hr(api: Api) -> dict[str, Any]:
    return api.make_user("hr")


def create(api: Api, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = api.client.post("/api/roles", headers=headers, json={**ROLE, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_and_get(api: Api, hr: dict[str, Any]) -> None:
    """Creating a role answers 201 with an integer role_id; GET returns the same role."""
    body = create(api, hr["headers"], role_name="  Senior Software Engineer ")
    assert isinstance(body["role_id"], int) and body["role_id"] >= 1
    assert body["role_name"] == "Senior Software Engineer" and body["role_category"] == "Engineering"
    assert body["typical_skills"] == ROLE["typical_skills"] and body["created_by"] == hr["id"]
    assert body["created_at"].endswith("Z")
    fetched = api.client.get(f"/api/roles/{body['role_id']}", headers=hr["headers"])
    assert fetched.status_code == 200 and fetched.json() == body
    minimal = api.client.post("/api/roles", headers=hr["headers"], json={"role_name": "Intern"})
    assert minimal.status_code == 201 and minimal.json()["typical_skills"] == []
    assert minimal.json()["role_id"] != body["role_id"]


def test_any_signed_in_user_may_read(api: Api, hr: dict[str, Any]) -> None:
    """Candidates can read roles; nobody can without a token."""
    role = create(api, hr["headers"])
    candidate = api.register()
    assert api.client.get("/api/roles", headers=candidate).json()["total"] == 1
    assert api.client.get(f"/api/roles/{role['role_id']}", headers=candidate).status_code == 200
    assert api.client.get("/api/roles").status_code == 401
    assert api.client.get(f"/api/roles/{role['role_id']}").status_code == 401
    assert api.client.post("/api/roles", json={"role_name": "Nope"}).status_code == 401


def test_list_envelope_and_limits(api: Api, hr: dict[str, Any]) -> None:
    """The list is {total, skip, limit, data} with limit 50 by default, at most 100; the slash forms work."""
    for index in range(2):
        create(api, hr["headers"], role_name=f"Role {index}")
    slashed = api.client.post("/api/roles/", headers=hr["headers"], json={"role_name": "Role 2"})
    assert slashed.status_code == 201, slashed.text
    listing = api.client.get("/api/roles", headers=hr["headers"])
    assert listing.status_code == 200
    body = listing.json()
    assert set(body) == {"total", "skip", "limit", "data"}
    assert body["total"] == 3 and body["skip"] == 0 and body["limit"] == 50 and len(body["data"]) == 3
    slash = api.client.get("/api/roles/", headers=hr["headers"])
    assert slash.status_code == 200 and slash.json() == body
    page = api.client.get("/api/roles", headers=hr["headers"], params={"skip": 1, "limit": 100}).json()
    assert page["limit"] == 100 and page["total"] == 3 and len(page["data"]) == 2
    assert [r["role_name"] for r in page["data"]] == [r["role_name"] for r in body["data"][1:]]
    for bad in ({"limit": 101}, {"limit": 0}, {"skip": -1}):
        response = api.client.get("/api/roles", headers=hr["headers"], params=bad)
        assert response.status_code == 422, bad
        assert "detail" in response.json()


def test_search_and_category(api: Api, hr: dict[str, Any]) -> None:
    """search matches part of the name (any case) and category filters by exact category (any case)."""
    create(api, hr["headers"], role_name="Backend Engineer", role_category="Engineering")
    create(api, hr["headers"], role_name="Frontend Engineer", role_category="Engineering")
    create(api, hr["headers"], role_name="Data Analyst", role_category="Data")

    def names(**params: str) -> list[str]:
        response = api.client.get("/api/roles", headers=hr["headers"], params=params)
        assert response.status_code == 200
        return [role["role_name"] for role in response.json()["data"]]

    assert names(search="ENGINEER") == ["Backend Engineer", "Frontend Engineer"]
    assert names(search="analyst") == ["Data Analyst"]
    assert names(category="data") == ["Data Analyst"]
    assert names(category="Engineering", search="front") == ["Frontend Engineer"]
    assert names(category="Sales") == []
    assert names(search="%") == names(search="_") == names(search="Data_Analyst") == [], "no wildcards"
    count = api.client.get("/api/roles", headers=hr["headers"], params={"category": "Engineering"})
    assert count.json()["total"] == 2


def test_duplicate_name(api: Api, hr: dict[str, Any]) -> None:
    """A role name that exists already, in any case, is a 400; so is renaming onto it."""
    create(api, hr["headers"], role_name="QA Engineer")
    other = create(api, hr["headers"], role_name="Test Lead")
    for name in ("QA Engineer", "qa engineer", "  QA ENGINEER "):
        response = api.client.post("/api/roles", headers=hr["headers"], json={"role_name": name})
        assert response.status_code == 400, response.text
        assert "detail" in response.json() and "role_name" in response.json()["errors"]
    renamed = api.client.put(
        f"/api/roles/{other['role_id']}", headers=hr["headers"], json={"role_name": "qa ENGINEER"}
    )
    assert renamed.status_code == 400
    assert api.client.get("/api/roles", headers=hr["headers"]).json()["total"] == 2


def test_unknown_role_is_404(api: Api, hr: dict[str, Any]) -> None:
    """An unknown role id, however large, is a 404 on GET, PUT and DELETE (never a 500)."""
    for role_id in (12345, 2**31, 10**15):
        for method, body in (("GET", None), ("PUT", {"role_name": "X"}), ("DELETE", None)):
            response = api.client.request(method, f"/api/roles/{role_id}", headers=hr["headers"], json=body)
            assert response.status_code == 404, (role_id, method, response.text)
            assert response.json()["detail"] == "Role not found"
    assert api.client.get("/api/roles/not-a-number", headers=hr["headers"]).status_code == 422


def test_only_creator_or_admin_changes(api: Api, hr: dict[str, Any]) -> None:
    """Another HR user or a candidate cannot PUT or DELETE a role (403); the creator and an admin can."""
    role = create(api, hr["headers"])
    url = f"/api/roles/{role['role_id']}"
    other_hr = api.make_user("hr")
    candidate = api.register()
    for headers in (other_hr["headers"], candidate):
        assert api.client.put(url, headers=headers, json={"role_description": "hijacked"}).status_code == 403
        assert (
            api.client.patch(url, headers=headers, json={"role_description": "hijacked"}).status_code == 403
        )
        assert api.client.delete(url, headers=headers).status_code == 403
    assert api.client.get(url, headers=hr["headers"]).json()["role_description"] == ROLE["role_description"]

    response = api.client.put(
        url, headers=hr["headers"], json={"role_description": "Updated", "typical_skills": ["Go"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["role_description"] == "Updated" and body["typical_skills"] == ["Go"]
    assert body["role_name"] == ROLE["role_name"] and body["role_category"] == "Engineering"

    response = api.client.put(url, headers=api.admin(), json={"role_name": "Staff Engineer"})
    assert response.status_code == 200 and response.json()["role_name"] == "Staff Engineer"
    assert api.client.delete(url, headers=hr["headers"]).status_code == 204
    assert api.client.get(url, headers=hr["headers"]).status_code == 404

    second = create(api, hr["headers"], role_name="Second")
    assert api.client.delete(f"/api/roles/{second['role_id']}", headers=api.admin()).status_code == 204


def test_role_in_use_cannot_be_deleted(api: Api, hr: dict[str, Any]) -> None:
    """Deleting a role that a candidate holds is a 409 and the role stays."""
    role = create(api, hr["headers"])
    candidate = api.client.post(
        "/api/candidates",
        headers=hr["headers"],
        json={"name": "John Doe", "email": "john@example.com", "job_title": role["role_id"]},
    )
    assert candidate.status_code == 201, candidate.text
    response = api.client.delete(f"/api/roles/{role['role_id']}", headers=hr["headers"])
    assert response.status_code == 409, response.text
    assert "detail" in response.json()
    assert api.client.get(f"/api/roles/{role['role_id']}", headers=hr["headers"]).status_code == 200
    detail = api.client.get(f"/api/candidates/{candidate.json()['id']}", headers=hr["headers"]).json()
    assert detail["job_title"] == role["role_id"] and detail["job_title_name"] == ROLE["role_name"]


def test_invalid_role_is_422(api: Api, hr: dict[str, Any]) -> None:
    """A missing, empty or over-long name, or malformed skills/category, is a 422 and creates nothing."""
    for body in (
        {},
        {"role_name": ""},
        {"role_name": "   "},
        {"role_name": "x" * 201},
        {"role_name": "Fine", "typical_skills": "Python"},
        {"role_name": "Fine", "typical_skills": [""]},
        {"role_name": "Fine", "typical_skills": ["  "]},
        {"role_name": "Fine", "role_category": "c" * 101},
    ):
        response = api.client.post("/api/roles", headers=hr["headers"], json=body)
        assert response.status_code == 422, (body, response.text)
        assert "detail" in response.json()
    assert api.client.get("/api/roles", headers=hr["headers"]).json()["total"] == 0


def test_blank_or_null_rename_is_422(api: Api, hr: dict[str, Any]) -> None:
    """Renaming to blank or null is a 422 naming ``role_name`` (not a duplicate-name 400); the name stays."""
    role = create(api, hr["headers"])
    url = f"/api/roles/{role['role_id']}"
    for name in ("", "   ", None):
        response = api.client.put(url, headers=hr["headers"], json={"role_name": name})
        assert response.status_code == 422, (name, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", "role_name"]
    assert api.client.get(url, headers=hr["headers"]).json()["role_name"] == ROLE["role_name"]
    padded = api.client.put(url, headers=hr["headers"], json={"role_name": "  Staff Engineer  "})
    assert padded.status_code == 200 and padded.json()["role_name"] == "Staff Engineer"
