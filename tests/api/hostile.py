"""Support for the hostile-input tests: one SQLite server per module, and a small world of objects that
belong to user A (an HR account and a candidate), so that routes can be called with real ids."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt

from server.security import TokenService
from tests.support import Api, bearer, live_server, make_pdf, make_settings

Headers = dict[str, str]
RESUME = "Jane Doe. Python developer: FastAPI, PostgreSQL, Redis, Docker, AWS. Led a team of four."
JD = "Senior Python engineer: APIs with FastAPI, PostgreSQL tuning, Redis caching, AWS deployments."
LEAKS = re.compile(
    r"Traceback|File \"/|line \d+, in |sqlalchemy|asyncpg|aiosqlite|pydantic_core|psycopg|"
    r"IntegrityError|OperationalError|DataError|KeyError|AttributeError|TypeError|ValueError|"
    r"NoneType|RecursionError|site-packages",
)
"""What must never appear in a response body: stack traces, module paths, driver or exception names."""


@contextmanager
def sqlite_api(tmp: Path, **overrides: Any) -> Iterator[Api]:
    """A real uvicorn on SQLite under ``tmp``, with an httpx client."""
    settings = make_settings(tmp, f"sqlite+aiosqlite:///{tmp / 'viva.db'}", **overrides)
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        yield Api(client, server)


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), (response.request.url, response.text)
    return response.json() if response.content else None


def expired(api: Api, headers: Headers) -> Headers:
    """A token for the same account, signed with the server's key, that expired a minute ago."""
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    tokens = TokenService(api.server.settings.signing_key(), timedelta(minutes=-1))
    return bearer(tokens.issue(claims["sub"], claims["role"], claims["ver"]))


@dataclass
class World:
    """User A's objects in every family, by the name of the path parameter that addresses them."""

    hr: Headers
    candidate: Headers
    ids: dict[str, Any] = field(default_factory=dict)

    def path(self, template: str) -> str:
        """``template`` with every ``{param}`` filled with user A's object of that family."""

        def value(match: re.Match[str]) -> str:
            return str(self.param(template, match.group(1)))

        return re.sub(r"\{(\w+)(?::path)?\}", value, template)

    def param(self, template: str, name: str) -> Any:
        tracking = template.startswith(("/api/interviews", "/api/questions"))
        if name == "interview_id":
            return self.ids["tracked_interview"] if tracking else self.ids["interview"]
        if name == "question_id":
            return self.ids["bank_question"] if tracking else self.ids["question"]
        if name == "response_id":
            return self.ids["answer_id"]
        if name == "path":
            return "tts/none.wav"
        return self.ids[name]


def build_world(api: Api) -> World:
    """Candidate A with a started /interviews interview and one answer; HR user A with an interview
    scheduled for candidate A (seed 000), a role, catalog entries and a tracked interview with a round."""
    hr_user = api.make_user("hr")
    hr = hr_user["headers"]
    candidate = api.register(name="Ada Candidate")
    me = ok(api.client.get("/auth/me", headers=candidate))
    world = World(hr=hr, candidate=candidate)
    world.ids.update(user_id=hr_user["id"], candidate_id=me["id"], category="technical")
    created = api.client.post(
        "/interviews/create",
        headers=candidate,
        data={"job_description": JD},
        files={"resume": ("cv.pdf", make_pdf(RESUME), "application/pdf")},
    )
    interview = ok(created)["interview_id"]
    ok(api.client.post(f"/interviews/{interview}/setup-ai", headers=candidate))
    ok(api.client.post(f"/interviews/{interview}/start", params={"voice": "male"}, headers=candidate))
    question = ok(api.client.get(f"/interviews/{interview}/next-question", headers=candidate))["question_id"]
    answer = api.client.post(
        f"/interviews/{interview}/questions/{question}/answer",
        headers=candidate,
        json={"answer_text": "I build APIs with FastAPI and tune PostgreSQL queries for latency."},
    )
    world.ids.update(interview=interview, question=question, answer_id=ok(answer)["answer_id"])
    scheduled = api.client.post(
        "/api/v1/interview/schedule",
        headers=hr,
        json={"candidate_id": me["id"], "job_title": "Backend Engineer", "job_description": JD},
    )
    world.ids["scheduled"] = ok(scheduled, 200, 201)["id"]
    world.ids["role_id"] = ok(
        api.client.post("/api/roles", headers=hr, json={"role_name": f"Engineer {uuid.uuid4().hex[:6]}"}), 201
    )["role_id"]
    world.ids["company_id"] = ok(
        api.client.post("/api/companies", headers=hr, json={"company_name": f"Acme {uuid.uuid4().hex[:6]}"}),
        201,
    )["company_id"]
    world.ids["skill_id"] = ok(
        api.client.post("/api/skills", headers=hr, json={"skill_name": f"Rust {uuid.uuid4().hex[:6]}"}), 201
    )["skill_id"]
    world.ids["bank_question"] = ok(
        api.client.post(
            "/api/questions",
            headers=hr,
            json={"question_text": f"How would you shard a database? {uuid.uuid4().hex[:6]}"},
        ),
        201,
    )["question_id"]
    tracked = ok(
        api.client.post(
            "/api/interviews", headers=hr, json={"job_title": "Backend Engineer", "interview_type": "mock"}
        ),
        201,
    )["interview_id"]
    world.ids["tracked_interview"] = tracked
    world.ids["round_id"] = ok(
        api.client.post(f"/api/interviews/{tracked}/rounds", headers=hr, json={"round_type": "technical"}),
        201,
    )["round_id"]
    return world
