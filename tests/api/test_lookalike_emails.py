"""Look-alike emails (issue 15): addresses are NFKC-case-folded before they are stored or compared, and
one whose UTS #39 confusable skeleton is an existing account's or pool entry's is refused the way a plain
duplicate is, on every route that takes an email in (register, admin create, pool create and update)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.hostile import LEAKS, Headers, ok
from tests.support import Api

ORIGINAL = "ada.lovelace@example.com"
LOOK_ALIKES = {
    "fullwidth": "ａｄａ.ｌｏｖｅｌａｃｅ＠ｅｘａｍｐｌｅ.ｃｏｍ",  # NFKC: the very address
    "upper case": "Ada.Lovelace@Example.COM",
    "cyrillic local part": "\u0430da.lovelace@example.com",  # а
    "cyrillic domain": "ada.lovelace@\u0435\u0445ample.com",  # е, х
    "cyrillic o in the top-level domain": "ada.lovelace@example.c\u043em",  # о
}


def duplicate(response: httpx.Response, plain: httpx.Response) -> None:
    """``response`` is refused as ``plain`` (a plain duplicate) is: same status, same family shape."""
    assert response.status_code == plain.status_code and plain.status_code in (400, 409), response.text
    assert not LEAKS.search(response.text)
    body, expected = response.json(), plain.json()
    assert set(body) == set(expected) and body["detail"] == expected["detail"], body
    assert list(body["errors"]) == ["email"], body


@pytest.fixture
def admin(api: Api) -> Headers:
    return api.admin()


def accounts(api: Api, admin: Headers) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = ok(api.client.get("/api/users", headers=admin, params={"limit": 100}))[
        "data"
    ]
    return data


def pool(api: Api, staff: Headers) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = ok(api.client.get("/api/candidates", headers=staff, params={"limit": 100}))[
        "data"
    ]
    return data


def register(api: Api, email: str) -> httpx.Response:
    return api.client.post("/auth/register", json={"name": "Ada", "email": email, "password": "password-123"})


def test_register_refuses_look_alikes(api: Api, admin: Headers) -> None:
    """A fullwidth, upper-case or Cyrillic copy of a registered address is refused as the address itself
    is; no account and no pool entry is added."""
    ok(register(api, ORIGINAL))
    plain = register(api, ORIGINAL)
    before = (accounts(api, admin), pool(api, admin))
    for name, email in LOOK_ALIKES.items():
        response = register(api, email)
        duplicate(response, plain)
        assert ("looks the same" in response.text) == ("cyrillic" in name), (name, response.text)
    assert (accounts(api, admin), pool(api, admin)) == before


def test_admin_create_refuses_look_alikes(api: Api, admin: Headers) -> None:
    """The admin's account creation refuses look-alikes of an account for every role, and a candidate
    account that only looks like a pool entry; nothing is added."""
    hr = api.make_user("hr", email=ORIGINAL)["headers"]
    pooled = "grace.hopper@example.com"
    ok(api.client.post("/api/candidates", headers=hr, json={"name": "Grace", "email": pooled}), 201)

    def create(email: str, role: str = "hr") -> httpx.Response:
        body = {"email": email, "password": "password-123", "name": "Copy", "role": role}
        return api.client.post("/api/users", headers=admin, json=body)

    plain = create(ORIGINAL)
    before = (accounts(api, admin), pool(api, admin))
    for email in LOOK_ALIKES.values():
        for role in ("hr", "admin", "candidate"):
            duplicate(create(email, role), plain)
    alike = create("grace.h\u043epper@example.com", "candidate")  # о: looks like a pool entry's
    assert alike.status_code == plain.status_code and alike.json()["detail"] == "Email already in the pool"
    assert alike.json()["errors"] == {"email": ["A candidate with an email that looks the same exists"]}
    assert (accounts(api, admin), pool(api, admin)) == before


def test_pool_refuses_look_alikes_on_create_and_update(api: Api, admin: Headers) -> None:
    """Adding a candidate, or changing one's email, to a look-alike of another pool entry's is refused as
    the duplicate is (JSON and form bodies alike); changing one's own email to a folded-equal one is fine."""
    hr = api.make_user("hr")["headers"]
    ok(api.client.post("/api/candidates", headers=hr, json={"name": "Ada", "email": ORIGINAL}), 201)
    other = ok(
        api.client.post("/api/candidates", headers=hr, json={"name": "Bo", "email": "bo@example.com"}), 201
    )
    plain = api.client.post("/api/candidates", headers=hr, json={"name": "Ada", "email": ORIGINAL})
    plain_update = api.client.patch(f"/api/candidates/{other['id']}", headers=hr, json={"email": ORIGINAL})
    before = pool(api, hr)
    for email in LOOK_ALIKES.values():
        duplicate(
            api.client.post("/api/candidates", headers=hr, json={"name": "Copy", "email": email}), plain
        )
        duplicate(
            api.client.post("/api/candidates", headers=hr, data={"name": "Copy", "email": email}), plain
        )
        response = api.client.patch(f"/api/candidates/{other['id']}", headers=hr, json={"email": email})
        duplicate(response, plain_update)
    assert pool(api, hr) == before
    renamed = api.client.patch(
        f"/api/candidates/{other['id']}", headers=hr, json={"email": "ＢＯ@example.com"}
    )
    assert ok(renamed)["email"] == "bo@example.com"


def test_emails_are_stored_folded_and_login_folds_too(api: Api, admin: Headers) -> None:
    """A new address written in fullwidth or upper case is stored folded (account and pool entry); login
    with any folded-equal spelling finds that account, a Cyrillic look-alike does not."""
    email = f"new.{uuid.uuid4().hex[:6]}@example.com"
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in email.upper())
    headers = {"Authorization": f"Bearer {ok(register(api, fullwidth))['access_token']}"}
    me = ok(api.client.get("/auth/me", headers=headers))
    assert me["email"] == email
    assert next(c for c in pool(api, admin) if c["id"] == me["id"])["email"] == email
    for spelling in (email, email.upper(), fullwidth):
        response = api.client.post("/auth/login", json={"email": spelling, "password": "password-123"})
        token = ok(response)["access_token"]
        assert ok(api.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}))["id"] == me["id"]
    form = api.client.post("/auth/login", data={"username": fullwidth, "password": "password-123"})
    assert ok(form)["access_token"]
    cyrillic = email.replace("e", "\u0435", 1)
    response = api.client.post("/auth/login", json={"email": cyrillic, "password": "password-123"})
    assert response.status_code == 400 and response.json()["detail"] == "Invalid credentials"


def test_a_candidate_takes_over_its_own_pool_entry_but_not_a_look_alike(api: Api, admin: Headers) -> None:
    """Registering with a pool entry's very address (in any folded spelling) takes that entry over, as
    before; registering with an address that only looks like a pool entry's is refused."""
    hr = api.make_user("hr")["headers"]
    entry = ok(api.client.post("/api/candidates", headers=hr, json={"name": "Ada", "email": ORIGINAL}), 201)
    plain = api.client.post("/api/candidates", headers=hr, json={"name": "Ada", "email": ORIGINAL})
    for name in ("cyrillic local part", "cyrillic domain"):
        response = register(api, LOOK_ALIKES[name])
        assert response.status_code == plain.status_code and "looks the same" in response.text, response.text
    before = accounts(api, admin)
    token = ok(register(api, LOOK_ALIKES["fullwidth"]))["access_token"]
    me = ok(api.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}))
    assert me["id"] == entry["id"] and len(accounts(api, admin)) == len(before) + 1
