"""Account administration at /api/users (admins only): create, list, change role, deactivate."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support import ADMIN_EMAIL, Api, bearer


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@test.example"


def create(api: Api, admin: dict[str, str], **fields: Any) -> httpx.Response:
    body = {"email": new_email(), "password": "password-123", "name": "Hana Recruiter", **fields}
    return api.client.post("/api/users", headers=admin, json=body)


def login(api: Api, email: str, password: str = "password-123") -> httpx.Response:
    return api.client.post("/auth/login", json={"email": email, "password": password})


def test_admin_creates_hr_and_admin(api: Api) -> None:
    """An admin creates HR and admin accounts (201); the new accounts log in with their roles."""
    admin = api.admin()
    hr = create(api, admin, role="hr", job_role="HR Manager", name="  Hana Recruiter ")
    assert hr.status_code == 201, hr.text
    body = hr.json()
    assert body["role"] == "hr" and body["job_role"] == "HR Manager" and body["is_active"] is True
    assert body["name"] == "Hana Recruiter" and "password" not in str(body).lower()
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")

    other_admin = create(api, admin, role="admin", email=new_email("Admin").upper())
    assert other_admin.status_code == 201, other_admin.text
    assert other_admin.json()["email"] == other_admin.json()["email"].lower()

    for created in (hr.json(), other_admin.json()):
        response = login(api, created["email"])
        assert response.status_code == 200, response.text
        me = api.client.get("/auth/me", headers=bearer(response.json()["access_token"])).json()
        assert me["id"] == created["id"] and me["role"] == created["role"]
    new_admin = bearer(login(api, other_admin.json()["email"]).json()["access_token"])
    assert api.client.get("/api/users", headers=new_admin).status_code == 200

    fetched = api.client.get(f"/api/users/{hr.json()['id']}", headers=admin)
    assert fetched.status_code == 200 and fetched.json() == hr.json()
    default = create(api, admin)
    assert default.status_code == 201 and default.json()["role"] == "hr", "the default role is HR"


def test_list_filter_and_search(api: Api) -> None:
    """The list is a {total, skip, limit, data} envelope, filterable by role, searchable by name/email."""
    admin = api.admin()
    tag = uuid.uuid4().hex[:6]
    create(api, admin, role="hr", name=f"Zed {tag} One")
    create(api, admin, role="hr", name="Yara Two", email=f"yara-{tag}@test.example")
    create(api, admin, role="admin", name=f"Xavier {tag} Admin")
    api.register(name="Cara Candidate")

    everyone = api.client.get("/api/users", headers=admin).json()
    assert set(everyone) == {"total", "skip", "limit", "data"}
    assert everyone["total"] == 5 and everyone["limit"] == 50 and everyone["skip"] == 0
    assert ADMIN_EMAIL in [u["email"] for u in everyone["data"]]

    hrs = api.client.get("/api/users", headers=admin, params={"role": "hr"}).json()
    assert hrs["total"] == 2 and {u["role"] for u in hrs["data"]} == {"hr"}
    candidates = api.client.get("/api/users", headers=admin, params={"role": "candidate"}).json()
    assert [u["name"] for u in candidates["data"]] == ["Cara Candidate"]

    found = api.client.get("/api/users", headers=admin, params={"search": tag.upper()}).json()
    assert found["total"] == 3
    names = {u["name"] for u in found["data"]}
    assert names == {f"Zed {tag} One", "Yara Two", f"Xavier {tag} Admin"}
    both = api.client.get("/api/users", headers=admin, params={"search": tag, "role": "admin"}).json()
    assert [u["name"] for u in both["data"]] == [f"Xavier {tag} Admin"]

    page = api.client.get("/api/users", headers=admin, params={"skip": 1, "limit": 2}).json()
    assert page["total"] == 5 and page["skip"] == 1 and page["limit"] == 2 and len(page["data"]) == 2
    assert api.client.get("/api/users", headers=admin, params={"role": "boss"}).status_code == 422
    assert api.client.get("/api/users", headers=admin, params={"limit": 101}).status_code == 422


def test_only_admins(api: Api) -> None:
    """HR and candidate tokens get 403 on every /api/users route; no token is 401."""
    hr = api.make_user("hr")
    candidate = api.register()
    target = hr["id"]
    routes = [
        ("GET", "/api/users", None),
        (
            "POST",
            "/api/users",
            {"email": new_email(), "password": "password-123", "name": "X", "role": "admin"},
        ),
        ("GET", f"/api/users/{target}", None),
        ("PATCH", f"/api/users/{target}", {"role": "admin"}),
        ("DELETE", f"/api/users/{target}", None),
    ]
    for method, path, body in routes:
        assert api.client.request(method, path, json=body).status_code == 401, (method, path)
        for headers in (hr["headers"], candidate):
            response = api.client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
            assert "detail" in response.json()
    me = api.client.get("/auth/me", headers=hr["headers"]).json()
    assert me["role"] == "hr", "a refused PATCH must not have promoted the HR account"
    assert api.client.get("/api/users", headers=api.admin(), params={"role": "admin"}).json()["total"] == 1


def test_role_change_revokes_tokens(api: Api) -> None:
    """Changing a user's role makes their old token 401; a new login carries the new role."""
    admin = api.admin()
    hr = api.make_user("hr")
    assert api.client.get("/api/candidates", headers=hr["headers"]).status_code == 200
    response = api.client.patch(f"/api/users/{hr['id']}", headers=admin, json={"role": "admin"})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin" and response.json()["job_role"] == "HR Manager"
    assert api.client.get("/auth/me", headers=hr["headers"]).status_code == 401
    fresh = bearer(login(api, hr["email"]).json()["access_token"])
    assert api.client.get("/auth/me", headers=fresh).json()["role"] == "admin"
    assert api.client.get("/api/users", headers=fresh).status_code == 200


def test_name_change_keeps_tokens(api: Api) -> None:
    """A rename keeps the user's token valid; a new password revokes it and the old password stops working."""
    admin = api.admin()
    hr = api.make_user("hr")
    response = api.client.patch(f"/api/users/{hr['id']}", headers=admin, json={"name": "Hana Renamed"})
    assert response.status_code == 200 and response.json()["name"] == "Hana Renamed"
    assert response.json()["role"] == "hr"
    assert api.client.get("/auth/me", headers=hr["headers"]).json()["name"] == "Hana Renamed"

    response = api.client.patch(f"/api/users/{hr['id']}", headers=admin, json={"password": "new-password-9"})
    assert response.status_code == 200
    assert api.client.get("/auth/me", headers=hr["headers"]).status_code == 401
    assert login(api, hr["email"]).status_code == 400
    assert login(api, hr["email"], "new-password-9").status_code == 200


def test_deactivate(api: Api) -> None:
    """DELETE deactivates: the old token is 401, login is 400, and the account stays listed as inactive."""
    admin = api.admin()
    hr = api.make_user("hr")
    response = api.client.delete(f"/api/users/{hr['id']}", headers=admin)
    assert response.status_code == 204 and response.content == b""
    assert api.client.get("/auth/me", headers=hr["headers"]).status_code == 401
    response = login(api, hr["email"])
    assert response.status_code == 400 and response.json()["detail"] == "Invalid credentials"
    listed = api.client.get(f"/api/users/{hr['id']}", headers=admin).json()
    assert listed["is_active"] is False

    response = api.client.patch(f"/api/users/{hr['id']}", headers=admin, json={"is_active": True})
    assert response.status_code == 200 and response.json()["is_active"] is True
    assert login(api, hr["email"]).status_code == 200


def test_admin_cannot_lock_themselves_out(api: Api) -> None:
    """An admin cannot deactivate or demote their own account (400), and stays an active admin."""
    admin = api.admin()
    my_id = api.client.get("/auth/me", headers=admin).json()["id"]
    for method, body in (
        ("DELETE", None),
        ("PATCH", {"is_active": False}),
        ("PATCH", {"role": "hr"}),
        ("PATCH", {"role": "candidate"}),
    ):
        response = api.client.request(method, f"/api/users/{my_id}", headers=admin, json=body)
        assert response.status_code == 400, (method, body, response.text)
        assert "detail" in response.json()
    me = api.client.get("/auth/me", headers=admin)
    assert me.status_code == 200 and me.json()["role"] == "admin"
    renamed = api.client.patch(f"/api/users/{my_id}", headers=admin, json={"name": "Chief", "role": "admin"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Chief"


def test_create_refusals(api: Api) -> None:
    """A taken email (any case) is 400; a short password, bad email, unknown role or no name is 422."""
    admin = api.admin()
    email = new_email()
    assert create(api, admin, email=email).status_code == 201
    for taken in (email, email.upper(), ADMIN_EMAIL):
        response = create(api, admin, email=taken)
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == "Email already registered"
    assert create(api, admin, password="short").status_code == 422
    assert create(api, admin, email="nope").status_code == 422
    assert create(api, admin, role="superuser").status_code == 422
    assert create(api, admin, name="").status_code == 422
    assert api.client.get("/api/users", headers=admin).json()["total"] == 2


def test_pooled_email_becomes_candidate_account(api: Api) -> None:
    """An admin-created candidate account for an email already in the pool takes over that pool entry."""
    admin = api.admin()
    email = new_email("pooled")
    pooled = api.client.post("/api/candidates", headers=admin, json={"name": "Pat Pooled", "email": email})
    assert pooled.status_code == 201, pooled.text
    response = create(api, admin, email=email, role="candidate", name="Pat Pooled")
    assert response.status_code == 201, response.text
    assert response.json()["id"] == pooled.json()["id"]
    detail = api.client.get(f"/api/candidates/{pooled.json()['id']}", headers=admin).json()
    assert detail["is_registered"] is True


def test_unknown_user_is_404(api: Api) -> None:
    """An unknown user id is a 404 on GET, PATCH and DELETE."""
    admin = api.admin()
    for method, body in (("GET", None), ("PATCH", {"name": "X"}), ("DELETE", None)):
        response = api.client.request(method, f"/api/users/{uuid.uuid4()}", headers=admin, json=body)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["detail"] == "User not found"
