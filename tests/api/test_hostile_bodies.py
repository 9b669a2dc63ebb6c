"""Hostile bodies (issue 15): JSON nested thousands of levels deep is a 400 in each family's error shape,
and stores or changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from server.logs import MAX_JSON_DEPTH
from tests.api.hostile import LEAKS, Headers, ok
from tests.support import Api

MANAGEMENT = "/api/interview-management"
DEEP = {
    "array": b"[" * 100_000 + b"]" * 100_000,
    "object": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
}


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


def test_nul_in_a_body_of_any_content_type_is_refused(api: Api, stage: Stage) -> None:
    """The routes read a body without a content type, or of another type than a form, as JSON: a NUL
    escaped in one is refused at the edge like one in application/json; nothing is stored."""
    before = stored(api, stage)
    body = b'{"name": "Nul\\u0000Name", "email": "nul-%s@example.com"}' % uuid.uuid4().hex[:8].encode()
    for content_type in (None, "text/plain"):
        headers = {**stage.hr, **({"Content-Type": content_type} if content_type else {})}
        assert "NUL" in str(refused(api.client.post("/api/candidates", headers=headers, content=body)))
    assert stored(api, stage) == before
