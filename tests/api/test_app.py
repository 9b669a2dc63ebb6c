"""The app as a whole: probes, OpenAPI, CORS, body limits, request logs and unexpected errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from server.config import Settings
from tests.support import Api, LiveServer, bearer, live_server, make_settings


def app_of(api: Api) -> FastAPI:
    app = api.server.server.config.app
    assert isinstance(app, FastAPI)
    return app


def schema_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(path, method) of every APIRoute the app serves with include_in_schema, routers included.

    FastAPI versions that keep included routers nested expose them through ``iter_route_contexts``.
    """
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    entries: list[Any] = list(iterate(app.routes)) if iterate else list(app.routes)
    served = set()
    for entry in entries:
        route = getattr(entry, "original_route", entry)
        if isinstance(route, APIRoute) and route.include_in_schema:
            served |= {(entry.path_format, method) for method in entry.methods - {"HEAD", "OPTIONS"}}
    return served


def test_probes(api: Api) -> None:
    """/healthz answers 200 without a token; /readyz answers 200 with all checks ok, database included."""
    response = api.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    response = api.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["checks"]["database"] == "ok"
    assert set(body["checks"].values()) == {"ok"}


def test_openapi_lists_every_route(api: Api) -> None:
    """/openapi.json documents every route (path and method) the app serves in its schema; /docs is HTML."""
    schema = api.client.get("/openapi.json")
    assert schema.status_code == 200
    documented = {
        (path, method.upper())
        for path, operations in schema.json()["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    served = schema_routes(app_of(api))
    assert len(served) > 20, "the app's routes were found"
    assert served == documented
    for path in ("/auth/login", "/auth/register", "/auth/me", "/api/users", "/api/candidates", "/api/roles"):
        assert path in schema.json()["paths"], path
    assert "HTTPBearer" in json.dumps(schema.json()["components"]["securitySchemes"])

    response = api.client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


def test_cors(api: Api) -> None:
    """A preflight from the dev front end (localhost:5173) is allowed; one from another site is not."""
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = api.client.options("/auth/login", headers={"Origin": "http://localhost:5173", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

    refused = api.client.options("/auth/login", headers={"Origin": "http://evil.example", **preflight})
    assert refused.status_code >= 400
    assert "access-control-allow-origin" not in refused.headers
    simple = api.client.get("/healthz", headers={"Origin": "http://evil.example"})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers
    friendly = api.client.get("/healthz", headers={"Origin": "http://localhost:5173"})
    assert friendly.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_cors_allows_the_angular_dev_server(api: Api) -> None:
    """Seed 003's front end is Angular (``ng serve``: localhost:4200); its preflights pass by default."""
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    for origin in ("http://localhost:4200", "http://127.0.0.1:4200"):
        allowed = api.client.options("/api/agents/answer-stream", headers={"Origin": origin, **preflight})
        assert allowed.status_code == 200, (origin, allowed.text)
        assert allowed.headers["access-control-allow-origin"] == origin


def test_body_limit(tmp_path: Path, database_url: str) -> None:
    """A request body over max_body_bytes is a 413, whether it declares its length or streams chunked."""
    settings = make_settings(tmp_path, database_url, max_body_bytes=2_000)
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        big = {"email": "someone@test.example", "password": "x" * 5_000}
        response = client.post("/auth/login", json=big)
        assert response.status_code == 413, response.text
        assert response.json()["detail"] == "Request body too large"

        def chunks() -> Iterator[bytes]:
            yield b'{"email": "someone@test.example", "password": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        streamed = client.post("/auth/login", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413, streamed.text

        envelope = client.post("/api/interview-management/start-interview/", json={"x": "z" * 5_000})
        assert envelope.status_code == 413 and envelope.json()["error"] == "PAYLOAD_TOO_LARGE"

        small = client.post("/auth/login", json={"email": "someone@test.example", "password": "wrong-pass"})
        assert small.status_code == 400, "a body under the limit reaches the route"


def log_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def test_request_logs_hold_no_secrets(capfd: pytest.CaptureFixture[str], settings: Settings) -> None:
    """Request logs are JSON lines with method, path and status, and never a password, token or query."""
    # The server is built here, after capfd started, so its logger writes where capfd reads.
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        _log_in_and_out(Api(client, server))
    err = capfd.readouterr().err
    requests = [line for line in log_lines(err) if line.get("event") == "request"]
    logins = [line for line in requests if line.get("path") == "/auth/login"]
    assert len(logins) == 2, err[-2000:]
    assert {line["status"] for line in logins} == {200, 400}
    assert all(line["method"] == "POST" and isinstance(line["ms"], float) for line in logins)
    assert any(line.get("path") == "/auth/me" for line in requests)
    assert SECRET_PASSWORD not in err
    assert "token=" not in err and "eyJ" not in err, "no token, nor any part of one"


SECRET_PASSWORD = "Sup3r-secret-passw0rd"


def _log_in_and_out(api: Api) -> None:
    password = SECRET_PASSWORD
    email = "logged@test.example"
    registered = api.client.post(
        "/auth/register", json={"name": "Log Ged", "email": email, "password": password}
    )
    assert registered.status_code == 200
    response = api.client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert api.client.get("/auth/me", headers=bearer(token), params={"token": token}).status_code == 200
    api.client.post("/auth/login", data={"username": email, "password": password + "-wrong"})


def test_unexpected_error_leaks_nothing(capfd: pytest.CaptureFixture[str], settings: Settings) -> None:
    """An unexpected exception is a plain 500 in the family's error shape, with no traceback or message."""
    server = LiveServer(settings)
    app = server.server.config.app
    assert isinstance(app, FastAPI)

    async def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    app.add_api_route("/api/roles-boom", boom)
    app.add_api_route("/api/interview-management/test/boom/now/", boom)
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30, headers={"Connection": "close"}) as client:
            plain = client.get("/api/roles-boom")
            assert plain.status_code == 500
            assert plain.json() == {"detail": "Error processing the request"}
            envelope = client.get("/api/interview-management/test/boom/now/")
            assert envelope.status_code == 500
            body = envelope.json()
            assert body["success"] is False and body["error"] == "INTERNAL_ERROR"
            for response in (plain, envelope):
                assert "secret internal detail" not in response.text
                assert "Traceback" not in response.text and "RuntimeError" not in response.text
            assert client.get("/healthz").status_code == 200, "the server keeps serving"
    finally:
        server.stop()
    errors = [line for line in log_lines(capfd.readouterr().err) if line.get("event") == "unhandled_error"]
    assert errors and errors[0]["path"] == "/api/roles-boom" and errors[0]["error_type"] == "RuntimeError"
