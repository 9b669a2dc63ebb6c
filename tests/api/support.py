"""Helpers shared by the API tests: one live server per module and backend, the tracking people, the agents'
SSE stream, an AI interview and its report, pool candidates and their uploads, started managed interviews."""

from __future__ import annotations

import io
import json
import struct
import time
import uuid
import wave
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import httpx
import pytest

from tests.support import (
    Api,
    create_pg_database,
    drop_pg_database,
    live_server,
    make_pdf,
    make_settings,
    sqlite_copy,
    unavailable,
)

# ----------------------------------------------------------------------------------- tracking (seed 003)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
Headers = dict[str, str]


def serve(backend: str, tmp: Path, pg_template: str | None, sqlite_template: Path) -> Iterator[Api]:
    """A live server on a fresh database of ``backend`` (a copy or a clone of the migrated template)."""
    if backend == "sqlite":
        url = sqlite_copy(sqlite_template, tmp)
    elif pg_template is None:
        unavailable("PostgreSQL", "127.0.0.1:5432")
    else:
        url = create_pg_database(template=pg_template)
    try:
        settings = make_settings(tmp, url, ai_provider="offline")
        with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
            yield Api(client, server)
    finally:
        if backend != "sqlite":
            drop_pg_database(url)


def api_per_module(folder: str) -> Any:
    """The ``api`` fixture of a module whose tests all share one live server per database backend (they use
    their own users and names, so they do not see each other's rows): ``api = api_per_module("tracking")``
    at the module's top level; the server's files go under a temporary ``folder``."""

    @pytest.fixture(name="api", scope="module", params=BACKENDS)
    def shared_api(
        request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory,
        pg_template: str | None,
        sqlite_template: Path,
    ) -> Iterator[Api]:
        yield from serve(request.param, tmp_path_factory.mktemp(folder), pg_template, sqlite_template)

    return shared_api


@dataclass
class People:
    owner: Headers
    owner_id: str
    other: Headers
    admin: Headers


def person(api: Api) -> tuple[Headers, str]:
    headers = api.register()
    return headers, api.client.get("/auth/me", headers=headers).json()["id"]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------------------------------------ agents


URL_SHORTENER = {
    "question": "How would you design a URL shortening service?",
    "context": "Senior engineer with 5 years experience",
    "conversation_history": [],
}
ORDER = ["start", "routing", "processing", "content", "answer_complete", "follow_ups", "complete"]


def sse_events(response: httpx.Response) -> Iterator[tuple[float, dict[str, Any]]]:
    """Parse an SSE body as it arrives: yields (arrival time, JSON of the event's data) per event."""
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line == "" and data:
            yield time.monotonic(), json.loads("\n".join(data))
            data = []


def stream(api: Api, headers: Headers, body: dict[str, Any]) -> list[dict[str, Any]]:
    with api.client.stream("POST", "/api/agents/answer-stream", headers=headers, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [payload for _, payload in sse_events(response)]


def collapse(types: list[str]) -> list[str]:
    """The event types with runs of ``content`` folded into one."""
    return [t for i, t in enumerate(types) if t != "content" or i == 0 or types[i - 1] != "content"]


# ------------------------------------------------------------------------------ AI interviews (seed 001)


RESUME = (
    "Jane Doe. Senior Python developer, 6 years. Built REST APIs with FastAPI and Django, PostgreSQL, "
    "Redis caching, Docker and AWS. Led a team of four engineers."
)
JD = "We need a backend engineer: Python, FastAPI, PostgreSQL, Kubernetes, and Kafka for event streaming."
STRONG = (
    "In my last role I designed a REST API in Python with FastAPI and PostgreSQL. First I modelled the data, "
    "then I added indexes and Redis caching because read latency mattered; for example p95 dropped from "
    "400 ms to 80 ms. Finally I wrote integration tests and deployed it with Docker on AWS, and I mentored "
    "two juniors on the team through code reviews."
)


def create(api: Api, headers: dict[str, str], resume: bytes | None = None, name: str = "cv.pdf") -> str:
    response = api.client.post(
        "/interviews/create",
        headers=headers,
        data={"job_description": JD},
        files={"resume": (name, resume or make_pdf(RESUME), "application/pdf")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "created"
    interview_id: str = response.json()["interview_id"]
    return interview_id


def wait_report(api: Api, headers: dict[str, str], interview_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        report: dict[str, Any] = api.client.get(f"/interviews/{interview_id}/report", headers=headers).json()
        if report.get("status") != "processing" or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


# ------------------------------------------------------------------------------------ the candidate pool


def payload(**fields: Any) -> dict[str, Any]:
    return {
        "name": "John Doe",
        "email": f"john-{uuid.uuid4().hex[:8]}@example.com",
        "phone_number": "+91 9876543210",
        "place": "Kochi",
        "district": "Ernakulam",
        **fields,
    }


def add(api: Api, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = api.client.post("/api/candidates", headers=headers, json=payload(**fields))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def make_docx(*lines: str) -> bytes:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# ----------------------------------------------------------------------- interview management (seed 004)


BASE = "/api/interview-management"


def add_candidate(api: Api, hr: dict[str, Any], name: str = "John Doe", role_id: int | None = None) -> str:
    payload = {
        "name": name,
        "email": f"{uuid.uuid4().hex[:8]}@example.com",
        "phone_number": "+91 9876543210",
        "place": "Kochi",
        "district": "Ernakulam",
        "job_title": role_id,
    }
    response = api.client.post("/api/candidates", headers=hr["headers"], json=payload)
    assert response.status_code == 201, response.text
    candidate_id: str = response.json()["id"]
    return candidate_id


def start(api: Api, hr: dict[str, Any], candidate_id: str, **extra: Any) -> Any:
    body = {"candidate_id": candidate_id, "scheduled_at": "2025-11-15T10:00:00Z", **extra}
    return api.client.post(f"{BASE}/start-interview/", headers=hr["headers"], json=body)


def started(api: Api, hr: dict[str, Any], **kwargs: Any) -> tuple[str, str]:
    candidate_id = add_candidate(api, hr, **kwargs)
    response = start(api, hr, candidate_id, interviewer_id=hr["id"])
    assert response.status_code == 201, response.text
    return candidate_id, response.json()["data"]["id"]


def wav(seconds: float = 0.3) -> bytes:
    """A silent PCM16 16 kHz mono WAV file of ``seconds``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(bytes(int(16_000 * seconds) * 2))
    return buffer.getvalue()
