"""The authorisation matrix: every REST route of the OpenAPI document, called on user A's real objects
with no token, a junk token, an expired token, the wrong role and user B's token, is refused with
401, 403 or 404 (never 2xx, never 500); so are the room and monitor sockets (4001, 4003, 4004).

Every route must be classified below: a route added without a policy fails the first test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api.hostile import LEAKS, Headers, World, build_world, expired, ok, sqlite_api
from tests.support import Api

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("GET", "/api/v1/interview/default-questions"),
    ("GET", "/uploads/{path}"),  # generated speech only (tests/api/test_tts_api.py)
}
"""Routes that answer without a token, on purpose (DESIGN.md: register, login, health, default questions,
the static pages and docs)."""

ADMIN = "admin"  # HR and candidates: 403
STAFF = "staff"  # candidates: 403; HR and admins see every interview and candidate by design
PARTICIPANT_404 = "participant-404"  # seed 001: another candidate's interview is a 404
PARTICIPANT_403 = "participant-403"  # seed 000: another candidate's interview is a 403
CANDIDATE_ONLY = "candidate-only"  # HR: 403; another candidate on A's interview: 403
OWNER = "owner"  # tracked interviews (seed 003): anyone but the owner gets 404
CREATOR = "creator"  # shared catalogs: everyone reads, only the creator (or an admin) changes: 403
USER = "user"  # any signed-in user, on their own data or shared catalogs: only 401 applies

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/auth/me"): USER,
    **{(m, "/api/users"): ADMIN for m in ("GET", "POST")},
    **{(m, "/api/users/{user_id}"): ADMIN for m in ("GET", "PATCH", "DELETE")},
    **{(m, "/api/candidates"): STAFF for m in ("GET", "POST")},
    **{(m, "/api/candidates/{candidate_id}"): STAFF for m in ("GET", "PATCH", "DELETE")},
    ("GET", "/api/candidates/{candidate_id}/resume"): STAFF,
    **{(m, "/api/roles"): USER for m in ("GET", "POST")},
    ("GET", "/api/roles/{role_id}"): USER,
    **{(m, "/api/roles/{role_id}"): CREATOR for m in ("PUT", "DELETE")},
    ("GET", "/api/interview-management/cvs-for-interview/"): STAFF,
    ("POST", "/api/interview-management/start-interview/"): STAFF,
    ("GET", "/api/interview-management/"): STAFF,
    ("GET", "/api/interview-management/ongoing-interviews/"): STAFF,
    **{(m, "/api/interview-management/{interview_id}/"): STAFF for m in ("GET", "DELETE")},
    ("PATCH", "/api/interview-management/{interview_id}/update-status/"): STAFF,
    **{(m, "/api/interview-management/{interview_id}/evaluation/"): STAFF for m in ("POST", "PUT", "PATCH")},
    ("GET", "/api/interview-management/{interview_id}/evaluation/voice-note/"): STAFF,
    ("POST", "/interviews/create"): USER,
    ("GET", "/interviews"): USER,
    **{
        (m, f"/interviews/{{interview_id}}{tail}"): PARTICIPANT_404
        for m, tail in (
            ("POST", "/setup-ai"),
            ("POST", "/start"),
            ("GET", "/next-question"),
            ("POST", "/answer-complete"),
            ("POST", "/end"),
            ("POST", "/questions/{question_id}/answer"),
            ("POST", "/questions/{question_id}/upload-video"),
            ("POST", "/questions/{question_id}/analyze"),
            ("POST", "/questions/{question_id}/score"),
            ("GET", "/report"),
            ("GET", "/answers/{answer_id}/recording"),
        )
    },
    ("POST", "/api/v1/interview/schedule"): STAFF,
    ("PUT", "/api/v1/interview/{interview_id}/questions"): STAFF,
    ("GET", "/api/v1/interview/all"): STAFF,
    ("GET", "/api/v1/interview/results/all"): STAFF,
    ("POST", "/api/v1/interview/submit-response"): CANDIDATE_ONLY,
    ("POST", "/api/v1/interview/submit-all"): CANDIDATE_ONLY,
    ("GET", "/api/v1/interview/candidate/me"): USER,
    ("GET", "/api/v1/interview/candidate/history"): USER,
    ("GET", "/api/v1/interview/results/{interview_id}"): PARTICIPANT_403,
    ("POST", "/api/v1/interview/{interview_id}/results"): STAFF,
    ("POST", "/api/v1/interview/responses/{response_id}/evaluate"): STAFF,
    ("GET", "/api/v1/interview/{interview_id}/responses"): PARTICIPANT_403,
    ("GET", "/api/v1/interview/{interview_id}"): PARTICIPANT_403,
    **{(m, f"/api/{kind}"): USER for m in ("GET", "POST") for kind in ("companies", "skills", "questions")},
    ("GET", "/api/companies/{company_id}"): USER,
    ("GET", "/api/skills/{skill_id}"): USER,
    ("GET", "/api/questions/{question_id}"): USER,
    ("GET", "/api/questions/category/{category}"): USER,
    **{(m, "/api/companies/{company_id}"): CREATOR for m in ("PUT", "DELETE")},
    **{(m, "/api/skills/{skill_id}"): CREATOR for m in ("PUT", "DELETE")},
    **{(m, "/api/questions/{question_id}"): CREATOR for m in ("PUT", "DELETE")},
    **{(m, "/api/interviews"): USER for m in ("GET", "POST")},
    **{(m, "/api/interviews/{interview_id}"): OWNER for m in ("GET", "PUT", "DELETE")},
    **{(m, "/api/interviews/{interview_id}/rounds"): OWNER for m in ("GET", "POST")},
    ("PUT", "/api/interviews/{interview_id}/rounds/{round_id}"): OWNER,
    **{(m, "/api/interviews/{interview_id}/questions"): OWNER for m in ("GET", "POST")},
    ("POST", "/api/interviews/{interview_id}/practice"): OWNER,
    ("GET", "/api/stats/overview"): USER,
    ("GET", "/api/agents/available"): USER,
    ("POST", "/api/agents/answer"): USER,
    ("POST", "/api/agents/answer-stream"): USER,
    ("POST", "/tts/generate"): USER,
}


def body_for(world: World, method: str, template: str) -> dict[str, Any] | None:
    """A body that passes validation, so that the refusal comes from the access check itself."""
    if method in ("GET", "DELETE"):
        return None
    if template.endswith("/submit-response"):
        ids = world.ids
        return {"interview_id": ids["interview"], "question_id": ids["question"], "answer_text": "x"}
    if template.endswith("/submit-all"):
        return {"interview_id": world.ids["interview"], "answers": []}
    if template.endswith("/questions") and template.startswith("/api/interviews"):
        return {"question_id": world.ids["bank_question"]}
    if template.endswith("/answer"):
        return {"answer_text": "An answer from someone else."}
    return {}


@pytest.fixture(scope="module")
def world_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, World]]:
    with sqlite_api(tmp_path_factory.mktemp("authz")) as api:
        yield api, build_world(api)


def operations(api: Api) -> list[tuple[str, str]]:
    document = ok(api.client.get("/openapi.json"))
    return [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]


def test_every_route_has_a_policy(world_api: tuple[Api, World]) -> None:
    """Every operation in the OpenAPI document is either public or classified here, and nothing else."""
    api, _ = world_api
    listed = set(operations(api))
    assert listed - PUBLIC - set(POLICY) == set(), "classify the new routes in POLICY"
    assert set(POLICY) - listed == set(), "POLICY names routes that no longer exist"


def refused(api: Api, method: str, path: str, headers: Headers, body: Any) -> tuple[int, str]:
    response = api.client.request(method, path, headers=headers, json=body)
    assert not LEAKS.search(response.text), (method, path, response.text)
    return response.status_code, response.text


def test_every_protected_route_refuses_strangers(world_api: tuple[Api, World]) -> None:
    """No token, a junk token, A's own token after expiry: 401. The wrong role: 403. User B on A's
    objects: 403 or 404 by the family's rule. Then every one of A's objects is unchanged."""
    api, world = world_api
    hr_b = api.make_user("hr")["headers"]
    candidate_b = api.register(name="Bob Other")
    strangers: dict[str, list[tuple[str, Headers, int]]] = {
        ADMIN: [("hr", world.hr, 403), ("candidate", world.candidate, 403)],
        STAFF: [("candidate", world.candidate, 403), ("candidate B", candidate_b, 403)],
        PARTICIPANT_404: [("candidate B", candidate_b, 404)],
        PARTICIPANT_403: [("candidate B", candidate_b, 403)],
        CANDIDATE_ONLY: [("hr B", hr_b, 403), ("candidate B", candidate_b, 403)],
        OWNER: [("hr B", hr_b, 404), ("candidate B", candidate_b, 404)],
        CREATOR: [("hr B", hr_b, 403), ("candidate B", candidate_b, 403)],
        USER: [],
    }
    failures: list[str] = []
    for (method, template), policy in sorted(POLICY.items()):
        path, body = world.path(template), body_for(world, method, template)
        owner = world.candidate if policy in (PARTICIPANT_404, PARTICIPANT_403) else world.hr
        cases = [
            ("no token", {}, 401),
            ("junk token", {"Authorization": "Bearer not.a.token"}, 401),
            ("expired token", expired(api, owner), 401),
            *strangers[policy],
        ]
        for who, headers, expected in cases:
            status, text = refused(api, method, path, headers, body)
            if status != expected:
                failures.append(f"{method} {template} as {who}: {status} (expected {expected}) {text[:120]}")
    assert failures == [], "\n".join(failures)
    assert_world_unchanged(api, world)


def assert_world_unchanged(api: Api, world: World) -> None:
    """A's objects still exist and the interview is still running after all those refusals."""
    ids = world.ids
    detail = ok(api.client.get(f"/api/v1/interview/{ids['interview']}", headers=world.candidate))
    assert detail["status"] == "in_progress"
    assert ok(api.client.get(f"/api/interviews/{ids['tracked_interview']}", headers=world.hr))
    for path in (f"/api/companies/{ids['company_id']}", f"/api/skills/{ids['skill_id']}"):
        ok(api.client.get(path, headers=world.hr))
    ok(api.client.get(f"/api/questions/{ids['bank_question']}", headers=world.hr))
    ok(api.client.get(f"/api/roles/{ids['role_id']}", headers=world.hr))
    ok(api.client.get("/auth/me", headers=world.hr))
    ok(api.client.get(f"/api/candidates/{ids['candidate_id']}", headers=world.hr))


def socket_close(api: Api, kind: str, interview_id: str, first: str) -> int:
    url = api.server.base_url.replace("http://", "ws://") + f"/ws/{kind}/{interview_id}"
    with connect(url, open_timeout=10) as ws:
        ws.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = json.loads(ws.recv(timeout=10))
                assert message["type"] == "error", message  # never a welcome
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def hello(headers: Headers | None) -> str:
    token = headers["Authorization"].removeprefix("Bearer ") if headers else "not.a.token"
    return json.dumps({"type": "hello", "token": token, "protocol": "1.0"})


def test_sockets_refuse_strangers(world_api: tuple[Api, World]) -> None:
    """Room and monitor sockets: no hello, a junk or expired token close 4001; an unknown interview 4004.
    Room: anyone but the interview's candidate and owner gets 4004 (as if it did not exist), its HR owner
    4003. Monitor: a candidate's token 4003. A frame nested too deep to parse: 4000 (regression)."""
    api, world = world_api
    interview, unknown = world.ids["interview"], str(uuid.uuid4())
    candidate_b = api.register(name="Eve Other")
    cases = [
        ("interviews", interview, json.dumps({"type": "ping"}), 4001),
        ("interviews", interview, hello(None), 4001),
        ("interviews", interview, hello(expired(api, world.candidate)), 4001),
        ("interviews", interview, hello(candidate_b), 4004),
        ("interviews", interview, hello(world.hr), 4004),
        ("interviews", world.ids["scheduled"], hello(world.hr), 4003),
        ("interviews", unknown, hello(world.candidate), 4004),
        ("interviews", interview, "[" * 50_000, 4000),
        ("monitor", interview, json.dumps({"type": "ping"}), 4001),
        ("monitor", interview, hello(None), 4001),
        ("monitor", interview, hello(expired(api, world.hr)), 4001),
        ("monitor", interview, hello(world.candidate), 4003),
        ("monitor", interview, hello(candidate_b), 4003),
        ("monitor", unknown, hello(world.hr), 4004),
        ("monitor", interview, "[" * 50_000, 4000),
    ]
    got = [(kind, first[:40], socket_close(api, kind, target, first)) for kind, target, first, _ in cases]
    assert [code for *_, code in got] == [code for *_, code in cases], got


def test_public_routes_answer_without_a_token(world_api: tuple[Api, World], tmp_path: Path) -> None:
    """The listed public routes really are public, and the docs are served (the exceptions above)."""
    api, _ = world_api
    for path in ("/healthz", "/readyz", "/api/v1/interview/default-questions", "/openapi.json", "/docs"):
        assert api.client.get(path).status_code == 200, path
    assert api.client.get("/uploads/tts/none.wav").status_code == 404
    assert api.client.get("/uploads/resumes/x.pdf").status_code == 404
