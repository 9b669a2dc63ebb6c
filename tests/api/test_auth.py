"""Seed 001 §1 accounts: register, login (JSON and OAuth2 form), /auth/me, tokens and login throttling."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from server.security import TokenService
from tests.support import Api, bearer, live_server, make_settings


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@test.example"


def register(api: Api, email: str, password: str = "password-123", **extra: str) -> httpx.Response:
    return api.client.post(
        "/auth/register", json={"name": "Cara Candidate", "email": email, "password": password, **extra}
    )


def test_register_then_me(api: Api) -> None:
    """Registering returns a bearer token and /auth/me shows the new candidate account."""
    email = new_email()
    response = register(api, email)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str) and token.count(".") == 2
    me = api.client.get("/auth/me", headers=bearer(token))
    assert me.status_code == 200
    body = me.json()
    assert set(body) == {"id", "name", "email", "role"}
    assert body["name"] == "Cara Candidate" and body["email"] == email and body["role"] == "candidate"
    assert uuid.UUID(body["id"])


def test_register_never_grants_another_role(api: Api) -> None:
    """A "role" sent to /auth/register is ignored: the account is always a candidate with no staff access."""
    response = register(api, new_email(), role="admin")
    assert response.status_code == 200, response.text
    headers = bearer(response.json()["access_token"])
    assert api.client.get("/auth/me", headers=headers).json()["role"] == "candidate"
    assert api.client.get("/api/users", headers=headers).status_code == 403
    assert api.client.get("/api/candidates", headers=headers).status_code == 403


def test_register_taken_email_any_case(api: Api) -> None:
    """An email already registered, in any letter case, is a 400 with a "detail" message."""
    email = new_email()
    assert register(api, email).status_code == 200
    for taken in (email, email.upper(), email.capitalize()):
        response = register(api, taken)
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == "Email already registered"
    admins = api.client.get("/api/users", headers=api.admin(), params={"search": email}).json()
    assert admins["total"] == 1


def test_register_validation(api: Api) -> None:
    """A malformed email or a short password is refused and creates no account."""
    assert register(api, "not-an-email").status_code == 422
    email = new_email()
    assert register(api, email, password="short").status_code == 422
    assert api.client.post("/auth/login", json={"email": email, "password": "short"}).status_code == 400


def test_login_json_and_form(api: Api) -> None:
    """Login works with a JSON body and with the OAuth2 password form; both tokens reach /auth/me."""
    email = new_email()
    register(api, email)
    as_json = api.client.post("/auth/login", json={"email": email, "password": "password-123"})
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["token_type"] == "bearer"
    as_form = api.client.post("/auth/login", data={"username": email.upper(), "password": "password-123"})
    assert as_form.status_code == 200, as_form.text
    for response in (as_json, as_form):
        me = api.client.get("/auth/me", headers=bearer(response.json()["access_token"]))
        assert me.status_code == 200 and me.json()["email"] == email


def test_login_refusals(api: Api) -> None:
    """A wrong password or an unknown email is a 400 "Invalid credentials"; a missing field or malformed
    JSON is a 4xx with a "detail" too."""
    email = new_email()
    register(api, email)
    for body in (
        {"email": email, "password": "wrong-password"},
        {"email": new_email("nobody"), "password": "password-123"},
    ):
        response = api.client.post("/auth/login", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == "Invalid credentials"
    response = api.client.post("/auth/login", data={"username": email, "password": "wrong-password"})
    assert response.status_code == 400 and response.json()["detail"] == "Invalid credentials"
    response = api.client.post("/auth/login", json={"email": email})
    assert response.status_code == 400 and "detail" in response.json()
    for path in ("/auth/login", "/auth/register"):
        response = api.client.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
        assert response.status_code in (400, 422) and "detail" in response.json(), (path, response.text)


def test_me_rejects_bad_tokens(api: Api) -> None:
    """/auth/me is 401 with no token, a junk token, a token signed with another key, and an expired token."""
    response = register(api, new_email())
    user_id = api.client.get("/auth/me", headers=bearer(response.json()["access_token"])).json()["id"]
    settings = api.server.settings
    foreign = TokenService("some-other-signing-key-" + uuid.uuid4().hex, timedelta(hours=1))
    expired = TokenService(settings.signing_key(), timedelta(minutes=-5))
    valid = TokenService(settings.signing_key(), timedelta(hours=1))
    assert api.client.get("/auth/me", headers=bearer(valid.issue(user_id, "candidate", 0))).status_code == 200

    cases: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer junk"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        bearer(foreign.issue(user_id, "candidate", 0)),
        bearer(expired.issue(user_id, "candidate", 0)),
        bearer(valid.issue(str(uuid.uuid4()), "candidate", 0)),
    ]
    for headers in cases:
        response = api.client.get("/auth/me", headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert "detail" in response.json()
        assert response.headers.get("www-authenticate") == "Bearer"


def test_login_throttling(tmp_path: Path, database_url: str) -> None:
    """After N failures an account is locked (429 + Retry-After, even with the right password); the address
    limit then stops every account from that address."""
    settings = make_settings(
        tmp_path, database_url, login_attempts_per_account=3, login_attempts_per_address=5
    )
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        api = Api(client, server)
        victim, other = new_email("victim"), new_email("other")
        register(api, victim)
        register(api, other)

        def login(email: str, password: str = "password-123") -> httpx.Response:
            return client.post("/auth/login", json={"email": email, "password": password})

        for _ in range(3):
            assert login(victim, "wrong-password").status_code == 400
        locked = login(victim)
        assert locked.status_code == 429, locked.text
        assert int(locked.headers["retry-after"]) >= 1
        assert "detail" in locked.json()
        assert login(victim.upper()).status_code == 429, "the account lock ignores letter case"

        assert login(other).status_code == 200, "another account from the same address still works"
        for _ in range(2):
            assert login(other, "wrong-password").status_code == 400
        blocked = login(other)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        assert login(new_email("third")).status_code == 429


def test_success_clears_account_failures(tmp_path: Path, database_url: str) -> None:
    """A successful login resets the account's failure count, so earlier typos do not add up to a lock."""
    settings = make_settings(tmp_path, database_url, login_attempts_per_account=3)
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        email = new_email()
        Api(client, server).register(email=email)
        for _ in range(2):
            for _ in range(2):
                bad = client.post("/auth/login", json={"email": email, "password": "wrong-password"})
                assert bad.status_code == 400
            good = client.post("/auth/login", json={"email": email, "password": "password-123"})
            assert good.status_code == 200, good.text


def test_registered_candidate_is_in_pool(api: Api) -> None:
    """A registered candidate appears in HR's /api/candidates with the same id as the user."""
    email = new_email("pool")
    headers = api.register(name="Rita Registered", email=email)
    user_id = api.client.get("/auth/me", headers=headers).json()["id"]
    hr = api.make_user("hr")
    listing = api.client.get("/api/candidates", headers=hr["headers"], params={"search": email})
    assert listing.status_code == 200
    rows = listing.json()["data"]
    assert [row["id"] for row in rows] == [user_id]
    assert rows[0]["name"] == "Rita Registered" and rows[0]["is_registered"] is True
    detail = api.client.get(f"/api/candidates/{user_id}", headers=hr["headers"])
    assert detail.status_code == 200 and detail.json()["email"] == email


def test_pooled_candidate_registers_with_same_id(api: Api) -> None:
    """When HR pooled an email first, registering with it (any case) makes the user id the candidate id."""
    hr = api.make_user("hr")
    email = new_email("pooled")
    created = api.client.post(
        "/api/candidates",
        headers=hr["headers"],
        json={"name": "Pat Pooled", "email": email, "phone_number": "+91 9876543210", "place": "Kochi"},
    )
    assert created.status_code == 201, created.text
    candidate_id = created.json()["id"]
    assert created.json()["is_registered"] is False

    response = register(api, email.upper())
    assert response.status_code == 200, response.text
    me = api.client.get("/auth/me", headers=bearer(response.json()["access_token"])).json()
    assert me["id"] == candidate_id and me["email"] == email

    listing = api.client.get("/api/candidates", headers=hr["headers"], params={"search": email}).json()
    assert listing["total"] == 1
    row = listing["data"][0]
    assert row["id"] == candidate_id and row["is_registered"] is True
    assert row["phone_number"] == "+91 9876543210" and row["place"] == "Kochi"
