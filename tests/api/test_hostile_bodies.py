"""Hostile bodies (issue 15): JSON nested thousands of levels deep, multipart text that is not UTF-8 and
empty bodies that claim to be JSON are 400s in each family's error shape, and store or change nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from server.logs import MAX_JSON_DEPTH
from tests.api.hostile import LEAKS, RESUME, Headers, ok
from tests.api.support import wav
from tests.support import Api, make_pdf

MANAGEMENT = "/api/interview-management"
DEEP = {
    "array": b"[" * 100_000 + b"]" * 100_000,
    "object": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
}
NOT_UTF8 = b"Jos\xe9 \xff\xfe"  # Latin-1 bytes: not valid UTF-8


def refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """``response`` is a ``status`` in its family's error shape: seed 004's envelope under
    /api/interview-management, ``{"detail": ...}`` elsewhere; no internals leak."""
    assert response.status_code == status, (response.request.method, response.request.url, response.text)
    assert not LEAKS.search(response.text), response.text
    body: dict[str, Any] = response.json()
    if response.request.url.path.startswith(MANAGEMENT):
        assert body["success"] is False and body["error"] == "VALIDATION_ERROR", body
        assert isinstance(body["message"], str) and "details" in body
    else:
        assert set(body) <= {"detail", "errors"} and isinstance(body["detail"], str), body
    return body


@dataclass
class Stage:
    """An HR account, a candidate account, a pool candidate and a started seed-004 interview."""

    hr: Headers
    admin: Headers
    candidate: Headers
    pooled: str
    interview: str


@pytest.fixture
def stage(api: Api) -> Stage:
    hr = api.make_user("hr")["headers"]
    person = {"name": "Pat Pool", "email": f"pat-{uuid.uuid4().hex[:8]}@example.com"}
    pooled = ok(api.client.post("/api/candidates", headers=hr, json=person), 201)["id"]
    start = {"candidate_id": pooled, "scheduled_at": "2030-01-01T10:00:00Z"}
    started = ok(api.client.post(f"{MANAGEMENT}/start-interview/", headers=hr, json=start), 201)
    return Stage(hr, api.admin(), api.register(name="Ada Candidate"), pooled, started["data"]["id"])


def stored(api: Api, stage: Stage) -> dict[str, Any]:
    """Everything the tests below could have changed, to compare before and after."""
    files = api.server.settings.uploads_dir
    return {
        "users": ok(api.client.get("/api/users", headers=stage.admin, params={"limit": 100})),
        "pool": ok(api.client.get("/api/candidates", headers=stage.hr, params={"limit": 100})),
        "interviews": ok(api.client.get(f"{MANAGEMENT}/", headers=stage.hr)),
        "detail": ok(api.client.get(f"{MANAGEMENT}/{stage.interview}/", headers=stage.hr)),
        "mine": ok(api.client.get("/interviews", headers=stage.candidate)),
        "files": sorted(str(p) for p in files.rglob("*") if p.is_file() and "tts" not in p.parts),
    }


def json_routes(api: Api) -> list[tuple[str, str]]:
    """(method, path) of every route whose OpenAPI request body may be JSON, path parameters filled."""
    document = ok(api.client.get("/openapi.json"))
    routes = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                routes.append((method.upper(), path.replace("{", "").replace("}", "")))
    return routes


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_deeply_nested_json_is_refused_on_every_json_route(api: Api, stage: Stage, shape: str) -> None:
    """A 100,000-deep array and a 20,000-deep object are a 400 'nested too deeply' on every route that
    takes JSON (login without a token included), whatever content type they come with; nothing is stored."""
    before = stored(api, stage)
    routes = json_routes(api)
    assert ("POST", "/auth/login") in routes and len(routes) > 20
    named = [
        ("POST", "/auth/login"),
        ("POST", "/api/candidates"),
        ("POST", f"{MANAGEMENT}/{stage.interview}/evaluation/"),
        ("PATCH", f"{MANAGEMENT}/{stage.interview}/evaluation/"),
    ]
    for method, path in [*routes, *named]:
        for headers in ({}, stage.hr, stage.admin):
            response = api.client.request(
                method, path, headers={**headers, "Content-Type": "application/json"}, content=DEEP[shape]
            )
            assert refused(response)["message" if path.startswith(MANAGEMENT) else "detail"] == (
                "JSON nested too deeply"
            )
    for path in ("/auth/login", "/api/candidates", f"{MANAGEMENT}/{stage.interview}/evaluation/"):
        for content_type in (None, "text/plain", "application/vnd.viva+json"):
            headers = {**stage.hr, **({"Content-Type": content_type} if content_type else {})}
            refused(api.client.post(path, headers=headers, content=DEEP[shape]))
    assert stored(api, stage) == before


def test_nesting_up_to_the_bound_and_brackets_in_strings_pass(api: Api, stage: Stage) -> None:
    """JSON nested exactly to the bound is read as usual, one level more is refused, and brackets inside
    strings (escaped quotes included) are not nesting."""

    def nested(levels: int) -> str:  # an object holding levels - 1 arrays: ``levels`` deep in all
        arrays = "[" * (levels - 1) + "]" * (levels - 1)
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        return f'{{"name": "Deep Enough", "email": "{email}", "extra": {arrays}}}'

    headers = {**stage.hr, "Content-Type": "application/json"}
    ok(api.client.post("/api/candidates", headers=headers, content=nested(MAX_JSON_DEPTH)), 201)
    refused(api.client.post("/api/candidates", headers=headers, content=nested(MAX_JSON_DEPTH + 1)))
    remark = '[{"\\' * 2000
    url = f"{MANAGEMENT}/{stage.interview}/evaluation/"
    saved = ok(api.client.patch(url, headers=stage.hr, json={"remark": remark}), 200, 201)
    assert saved["data"]["remark"] == remark


def multipart(fields: list[tuple[bytes, bytes]], files: list[tuple[bytes, bytes, bytes]] = ()) -> Any:
    """A multipart body built by hand (so that any bytes can go in), and its content type."""
    boundary = uuid.uuid4().hex.encode()
    parts = [
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, name, value)
        for name, value in fields
    ]
    parts += [
        b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n%s\r\n" % (boundary, name, filename, content)
        for name, filename, content in files
    ]
    body = b"".join(parts) + b"--%s--\r\n" % boundary
    return body, f"multipart/form-data; boundary={boundary.decode()}"


def test_invalid_utf8_in_multipart_text_is_refused(api: Api, stage: Stage) -> None:
    """Bytes that are not UTF-8 in a multipart text part, field name or file name are a 400 on every
    multipart route (pool create and update, /interviews/create, the seed-004 evaluation, login); nothing
    is stored, no file is kept; the same fields in valid UTF-8 are stored as sent."""
    pdf, note = make_pdf(RESUME), wav()
    email = f"jose-{uuid.uuid4().hex[:8]}@example.com".encode()
    evaluation = f"{MANAGEMENT}/{stage.interview}/evaluation/"
    attempts: list[tuple[str, str, Headers, bytes, list[tuple[bytes, bytes]], Any]] = [
        ("POST", "/api/candidates", stage.hr, b"name", [(b"email", email)], [(b"resume", b"cv.pdf", pdf)]),
        ("POST", "/api/candidates", stage.hr, b"place", [(b"name", b"Jose"), (b"email", email)], []),
        ("PATCH", f"/api/candidates/{stage.pooled}", stage.hr, b"place", [], []),
        ("POST", "/interviews/create", stage.candidate, b"job_description", [], [(b"resume", b"r.pdf", pdf)]),
        ("POST", evaluation, stage.hr, b"remark", [(b"knowledge", b"7")], [(b"voice_note", b"n.wav", note)]),
        ("PATCH", evaluation, stage.hr, b"languages", [], []),
        ("POST", "/auth/login", {}, b"username", [(b"password", b"password-123")], []),
    ]
    before = stored(api, stage)
    for method, path, headers, field, others, files in attempts:
        variants = [
            ([(field, NOT_UTF8), *others], files),  # the value
            ([(field + b"\xff", b"x"), (field, b"ok"), *others], files),  # a field name
            ([(field, b"ok"), *others], [(b"resume", b"cv\xff.pdf", pdf)]),  # a file name
        ]
        for fields, parts in variants:
            body, content_type = multipart(fields, parts)
            response = api.client.request(
                method, path, headers={**headers, "Content-Type": content_type}, content=body
            )
            details = refused(response)["details" if path.startswith(MANAGEMENT) else "errors"]
            assert details, response.text
    assert stored(api, stage) == before
    body, content_type = multipart([(b"name", "José Núñez".encode()), (b"email", email)])
    created = ok(
        api.client.post("/api/candidates", headers={**stage.hr, "Content-Type": content_type}, content=body),
        201,
    )
    assert created["name"] == "José Núñez"


def test_an_empty_json_body_is_refused_by_seed_004(api: Api, stage: Stage) -> None:
    """An empty body sent as application/json is a 400 in seed 004's envelope on the evaluation (POST,
    PUT, PATCH, with and without the slash), start-interview and update-status, and on the pool's update;
    the evaluation's and the interview's updated_at do not move."""
    base = f"{MANAGEMENT}/{stage.interview}"
    json_headers = {**stage.hr, "Content-Type": "application/json"}
    ok(api.client.post(f"{base}/evaluation/", headers=stage.hr, json={"knowledge": 6}), 201)
    before = stored(api, stage)
    assert before["detail"]["data"]["evaluation"]["knowledge"] == 6
    calls = [(m, f"{base}/evaluation{slash}") for m in ("POST", "PUT", "PATCH") for slash in ("/", "")]
    calls += [("POST", f"{MANAGEMENT}/start-interview/"), ("PATCH", f"{base}/update-status/")]
    for method, path in calls:
        for content in (b"", b"  \r\n"):
            body = refused(api.client.request(method, path, headers=json_headers, content=content))
            assert body["details"], body
    refused(api.client.patch(f"/api/candidates/{stage.pooled}", headers=json_headers, content=b""))
    assert stored(api, stage) == before


def test_nul_in_a_body_of_any_content_type_is_refused(api: Api, stage: Stage) -> None:
    """The routes read a body without a content type, or of another type than a form, as JSON: a NUL
    escaped in one is refused at the edge like one in application/json; nothing is stored."""
    before = stored(api, stage)
    body = b'{"name": "Nul\\u0000Name", "email": "nul-%s@example.com"}' % uuid.uuid4().hex[:8].encode()
    for content_type in (None, "text/plain"):
        headers = {**stage.hr, **({"Content-Type": content_type} if content_type else {})}
        assert "NUL" in str(refused(api.client.post("/api/candidates", headers=headers, content=body)))
    assert stored(api, stage) == before
