"""Text the database cannot store (NUL characters) and numbers out of its range are 4xx, never 500."""

from __future__ import annotations

from tests.support import Api


def test_nul_characters_are_refused_cleanly(api: Api) -> None:
    """NUL in a JSON body, a query or a path is a 4xx on every backend, and nothing is stored."""
    assert api.client.post(
        "/auth/register", json={"name": "a\u0000b", "email": "nul@test.example", "password": "password-123"}
    ).status_code in (400, 422)
    assert (
        api.client.post("/auth/login", json={"email": "x\u0000@test.example", "password": "p"}).status_code
        == 400
    )
    hr = api.make_user("hr")["headers"]
    assert api.client.get("/api/candidates", params={"search": "a\u0000b"}, headers=hr).status_code in (
        200,
        400,
    )
    assert api.client.get("/api/candidates/a%00b", headers=hr).status_code in (400, 404)
    response = api.client.post(
        "/api/candidates", headers=hr, json={"name": "Nul\u0000Name", "email": "n@example.com"}
    )
    assert response.status_code in (400, 422)
    assert api.client.get("/api/candidates", headers=hr).json()["total"] == 0
    login = api.client.post("/auth/login", json={"email": "nul@test.example", "password": "password-123"})
    assert login.status_code == 400


def test_nul_in_a_multipart_text_field_is_refused(api: Api) -> None:
    """A NUL in a multipart form's text part (not scanned at the edge) is a 400, and nothing is stored."""
    hr = api.make_user("hr")["headers"]
    response = api.client.post(
        "/api/candidates",
        headers=hr,
        data={"name": "Nul\u0000Name", "email": "multipart-nul@example.com"},
        files={"resume": ("", b"", "application/octet-stream")},  # no file chosen: still multipart
    )
    assert response.status_code == 400 and "NUL" in response.text, response.text
    assert api.client.get("/api/candidates", headers=hr).json()["total"] == 0
