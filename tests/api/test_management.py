"""Seed 004: interview management at /api/interview-management/, walked end to end over real HTTP."""

from __future__ import annotations

import io
import uuid
import wave
from typing import Any

import pytest

from tests.api.support import BASE, add_candidate, start, started
from tests.support import Api

RATINGS = {"appearance": 8, "knowledge": 9, "confidence": 7, "attitude": 8, "communication": 9}


def envelope_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False and body["error"] == code and isinstance(body["message"], str)
    assert "details" in body
    return body


@pytest.fixture
def hr(api: Api) -> dict[str, Any]:
    return api.make_user("hr", name="Jane Smith")


def add_role(api: Api, hr: dict[str, Any], name: str = "Software Developer") -> int:
    response = api.client.post("/api/roles", headers=hr["headers"], json={"role_name": name})
    assert response.status_code == 201, response.text
    role_id: int = response.json()["role_id"]
    return role_id


def test_complete_workflow(api: Api, hr: dict[str, Any]) -> None:
    """The documented workflow: pick a CV, start, see it ongoing, evaluate, decide; statuses stay in sync."""
    role_id = add_role(api, hr)
    candidate_id = add_candidate(api, hr, role_id=role_id)
    h = hr["headers"]

    cvs = api.client.get(f"{BASE}/cvs-for-interview/", headers=h).json()
    assert (
        cvs["success"] is True and cvs["message"] == f"Found {len(cvs['data'])} CV(s) available for interview"
    )
    cv = next(item for item in cvs["data"] if item["id"] == candidate_id)
    assert cv == {
        "id": candidate_id,
        "name": "John Doe",
        "job_title": role_id,
        "job_title_name": "Software Developer",
        "place": "Kochi",
        "email": cv["email"],
        "phone_number": "+91 9876543210",
        "interview_status": "pending",
    }

    response = start(api, hr, candidate_id, interviewer_id=hr["id"])
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Interview started successfully for John Doe"
    data = body["data"]
    interview_id = data["id"]
    assert data["candidate"]["interview_status"] == "ongoing" and data["status"] == "pending"
    assert data["interviewer"] == {
        "id": hr["id"],
        "email": hr["email"],
        "first_name": "Jane",
        "last_name": "Smith",
        "job_role": "HR Manager",
    }
    assert data["scheduled_at"] == "2025-11-15T10:00:00Z" and data["evaluation"] is None

    pending_ids = [c["id"] for c in api.client.get(f"{BASE}/cvs-for-interview/", headers=h).json()["data"]]
    assert candidate_id not in pending_ids
    every = api.client.get(f"{BASE}/cvs-for-interview/", params={"all": "true"}, headers=h).json()["data"]
    assert candidate_id in [c["id"] for c in every]

    listing = api.client.get(f"{BASE}/", headers=h).json()
    row = next(item for item in listing["data"] if item["id"] == interview_id)
    assert row["candidate_name"] == "John Doe" and row["job_title"] == "Software Developer"
    assert row["district"] == "Ernakulam" and row["interviewer_name"] == "Jane Smith"
    assert row["cv_status"] == "ongoing" and row["status"] == "pending" and row["has_evaluation"] is True

    ongoing = api.client.get(f"{BASE}/ongoing-interviews/", headers=h).json()
    item = next(item for item in ongoing["data"] if item["id"] == interview_id)
    assert item["evaluation_completed"] is False and item["candidate"]["id"] == candidate_id

    evaluation = {
        **RATINGS,
        "languages": "English, Malayalam",
        "expected_salary": "50000.00",
        "experience": "5 years",
        "remark": "Excellent candidate",
    }
    response = api.client.post(f"{BASE}/{interview_id}/evaluation/", headers=h, json=evaluation)
    assert response.status_code == 201, response.text
    saved = response.json()["data"]
    assert saved["average_rating"] == 8.2 and saved["candidate_name"] == "John Doe"
    assert saved["expected_salary"] == "50000.00" and saved["interview_id"] == interview_id

    response = api.client.patch(f"{BASE}/{interview_id}/evaluation/", headers=h, json={"attitude": 3})
    assert response.status_code == 200
    assert (
        response.json()["data"]["average_rating"] == 7.2
        and response.json()["data"]["remark"] == "Excellent candidate"
    )
    ongoing = api.client.get(f"{BASE}/ongoing-interviews/", headers=h).json()
    assert next(i for i in ongoing["data"] if i["id"] == interview_id)["evaluation_completed"] is True

    response = api.client.patch(
        f"{BASE}/{interview_id}/update-status/",
        headers=h,
        json={"status": "selected", "remark": "Strong technical skills"},
    )
    assert response.status_code == 200
    assert response.json()["message"] == "Interview status updated to 'selected' successfully"
    detail = api.client.get(f"{BASE}/{interview_id}/", headers=h).json()["data"]
    assert detail["status"] == "selected" and detail["candidate"]["interview_status"] == "selected"
    assert detail["evaluation"]["attitude"] == 3
    assert interview_id not in [
        i["id"] for i in api.client.get(f"{BASE}/ongoing-interviews/", headers=h).json()["data"]
    ]


EMPTY_EVALUATION = {
    **dict.fromkeys(RATINGS),
    **dict.fromkeys(("languages", "expected_salary", "experience", "remark", "voice_note")),
    **dict.fromkeys(("voice_note_transcript", "voice_note_status", "average_rating")),
}


def test_start_creates_the_empty_evaluation(api: Api, hr: dict[str, Any]) -> None:
    """Starting an interview creates its empty evaluation record (seed 004's workflow): the detail
    carries it with every field null, the list's has_evaluation agrees with the detail for every
    interview (one scheduled by seed 000, with no evaluation, included), and the first save is 'created'."""
    candidate_id, interview_id = started(api, hr, name="Emma Empty")
    h = hr["headers"]
    evaluation = api.client.get(f"{BASE}/{interview_id}/", headers=h).json()["data"]["evaluation"]
    assert {k: evaluation[k] for k in EMPTY_EVALUATION} == EMPTY_EVALUATION
    assert evaluation["interview_id"] == interview_id and evaluation["candidate_name"] == "Emma Empty"
    assert evaluation["created_at"].endswith("Z") and evaluation["updated_at"].endswith("Z")
    other = add_candidate(api, hr, name="Sam Scheduled")
    scheduled = api.client.post(
        "/api/v1/interview/schedule", headers=h, json={"candidate_id": other, "job_title": "Engineer"}
    )
    assert scheduled.status_code in (200, 201), scheduled.text
    rows = api.client.get(f"{BASE}/", headers=h).json()["data"]
    assert {row["has_evaluation"] for row in rows} == {True, False}
    for row in rows:
        detail = api.client.get(f"{BASE}/{row['id']}/", headers=h).json()["data"]
        assert row["has_evaluation"] is (detail["evaluation"] is not None), (row, detail)
    response = api.client.post(f"{BASE}/{interview_id}/evaluation/", headers=h, json={"knowledge": 7})
    assert response.status_code == 201 and response.json()["message"].endswith("created successfully")
    assert response.json()["data"]["created_at"] == evaluation["created_at"]


def test_start_refusals(api: Api, hr: dict[str, Any]) -> None:
    """Already ongoing, decided CVs, unknown interviewers and unknown candidates are refused as documented."""
    candidate_id, interview_id = started(api, hr)
    body = envelope_error(start(api, hr, candidate_id), 400, "VALIDATION_ERROR")
    assert body["details"] == {"candidate_id": ["Interview for John Doe is already in progress"]}

    api.client.patch(
        f"{BASE}/{interview_id}/update-status/", headers=hr["headers"], json={"status": "rejected"}
    )
    body = envelope_error(start(api, hr, candidate_id), 400, "VALIDATION_ERROR")
    assert body["details"] == {
        "candidate_id": ["Candidate status is 'rejected'. Cannot start new interview."]
    }

    fresh = add_candidate(api, hr, name="Ann Lee")
    body = envelope_error(start(api, hr, fresh, interviewer_id=1), 400, "VALIDATION_ERROR")
    assert body["details"] == {"interviewer_id": ["Interviewer with this ID does not exist"]}
    candidate_user = api.register()
    me = api.client.get("/auth/me", headers=candidate_user).json()
    envelope_error(start(api, hr, fresh, interviewer_id=me["id"]), 400, "VALIDATION_ERROR")

    body = envelope_error(start(api, hr, str(uuid.uuid4())), 404, "NOT_FOUND")
    assert body["message"] == "Candidate not found"
    cvs = api.client.get(f"{BASE}/cvs-for-interview/", headers=hr["headers"]).json()["data"]
    assert fresh in [c["id"] for c in cvs], "a refused start must leave the CV pending"
    assert len(api.client.get(f"{BASE}/", headers=hr["headers"]).json()["data"]) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "candidate_id"),
        ({"candidate_id": "not-a-uuid", "scheduled_at": "2025-11-15T10:00:00Z"}, "candidate_id"),
        ({"candidate_id": str(uuid.uuid4())}, "scheduled_at"),
        ({"candidate_id": str(uuid.uuid4()), "scheduled_at": "tomorrow"}, "scheduled_at"),
        (
            {
                "candidate_id": str(uuid.uuid4()),
                "scheduled_at": "2025-11-15T10:00:00Z",
                "interviewer_id": [1],
            },
            "interviewer_id",
        ),
    ],
)
def test_start_bad_input(api: Api, hr: dict[str, Any], body: dict[str, Any], field: str) -> None:
    """Missing or malformed start fields are 400 VALIDATION_ERROR naming the field (and only the field)."""
    response = api.client.post(f"{BASE}/start-interview/", headers=hr["headers"], json=body)
    details = envelope_error(response, 400, "VALIDATION_ERROR")["details"]
    assert field in details
    assert all(key in ("candidate_id", "scheduled_at", "interviewer_id") for key in details), details


@pytest.mark.parametrize(
    "change, field",
    [
        ({"appearance": 11}, "appearance"),
        ({"knowledge": -1}, "knowledge"),
        ({"confidence": "high"}, "confidence"),
        ({"attitude": 7.5}, "attitude"),
        ({"expected_salary": "lots"}, "expected_salary"),
        ({"expected_salary": "-5"}, "expected_salary"),
    ],
)
def test_bad_evaluation_changes_nothing(
    api: Api, hr: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    """An out-of-range or mistyped evaluation field is a 400 and the stored evaluation is unchanged."""
    _, interview_id = started(api, hr)
    url = f"{BASE}/{interview_id}/evaluation/"
    assert api.client.post(url, headers=hr["headers"], json=RATINGS).status_code == 201
    response = api.client.put(url, headers=hr["headers"], json={**change, "remark": "should not be saved"})
    body = envelope_error(response, 400, "VALIDATION_ERROR")
    assert field in body["details"]
    if field == "appearance":
        assert body["details"]["appearance"] == ["Rating must be between 0 and 10"]
    evaluation = api.client.get(f"{BASE}/{interview_id}/", headers=hr["headers"]).json()["data"]["evaluation"]
    assert {k: evaluation[k] for k in RATINGS} == RATINGS and evaluation["remark"] is None


def test_update_status_validation(api: Api, hr: dict[str, Any]) -> None:
    """An unknown status or an over-long remark is refused and the decision is unchanged."""
    _, interview_id = started(api, hr)
    url = f"{BASE}/{interview_id}/update-status/"
    body = envelope_error(
        api.client.patch(url, headers=hr["headers"], json={"status": "invalid_status"}),
        400,
        "VALIDATION_ERROR",
    )
    assert body["details"] == {"status": ['"invalid_status" is not a valid choice.']}
    body = envelope_error(
        api.client.patch(url, headers=hr["headers"], json={"status": None}), 400, "VALIDATION_ERROR"
    )
    assert body["details"] == {"status": ["This field may not be null."]}
    envelope_error(
        api.client.patch(url, headers=hr["headers"], json={"status": "selected", "remark": "x" * 501}),
        400,
        "VALIDATION_ERROR",
    )
    envelope_error(api.client.patch(url, headers=hr["headers"], json={}), 400, "VALIDATION_ERROR")
    detail = api.client.get(f"{BASE}/{interview_id}/", headers=hr["headers"]).json()["data"]
    assert detail["status"] == "pending" and detail["candidate"]["interview_status"] == "ongoing"


def wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x01" * 1600)
    return buffer.getvalue()


def test_voice_note_upload(api: Api, hr: dict[str, Any]) -> None:
    """A multipart evaluation stores a WAV voice note that HR can download; other files are refused."""
    _, interview_id = started(api, hr)
    url = f"{BASE}/{interview_id}/evaluation/"
    form = {k: str(v) for k, v in RATINGS.items()} | {"languages": "English"}
    audio = wav_bytes()
    response = api.client.post(
        url, headers=hr["headers"], data=form, files={"voice_note": ("note.wav", audio, "audio/wav")}
    )
    assert response.status_code == 201, response.text
    note_url = response.json()["data"]["voice_note"]
    assert note_url and response.json()["data"]["average_rating"] == 8.2
    download = api.client.get(note_url, headers=hr["headers"])
    assert download.status_code == 200 and download.content == audio
    assert api.client.get(note_url).status_code == 401

    bad = api.client.patch(
        url,
        headers=hr["headers"],
        data={"remark": "x"},
        files={"voice_note": ("note.mp3", b"<html>not audio</html>", "audio/mpeg")},
    )
    assert "voice_note" in envelope_error(bad, 400, "VALIDATION_ERROR")["details"]
    big = api.client.patch(
        url, headers=hr["headers"], files={"voice_note": ("n.wav", audio + b"\0" * 300_000, "audio/wav")}
    )
    envelope_error(big, 413, "PAYLOAD_TOO_LARGE")
    evaluation = api.client.get(f"{BASE}/{interview_id}/", headers=hr["headers"]).json()["data"]["evaluation"]
    assert evaluation["voice_note"] == note_url and evaluation["remark"] is None


def test_delete_resets_cv(api: Api, hr: dict[str, Any]) -> None:
    """Deleting an interview resets its ongoing CV to pending; a second delete is a 404."""
    candidate_id, interview_id = started(api, hr)
    response = api.client.delete(f"{BASE}/{interview_id}/", headers=hr["headers"])
    assert response.status_code == 200 and response.json() == {
        "success": True,
        "message": "Interview deleted successfully",
    }
    cvs = api.client.get(f"{BASE}/cvs-for-interview/", headers=hr["headers"]).json()["data"]
    assert candidate_id in [c["id"] for c in cvs]
    envelope_error(api.client.delete(f"{BASE}/{interview_id}/", headers=hr["headers"]), 404, "NOT_FOUND")
    assert start(api, hr, candidate_id).status_code == 201


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/{id}/"),
        ("PATCH", "/{id}/update-status/"),
        ("POST", "/{id}/evaluation/"),
        ("DELETE", "/{id}/"),
    ],
)
def test_unknown_interview_is_404(api: Api, hr: dict[str, Any], method: str, path: str) -> None:
    """An unknown interview id is a 404 in the envelope (never a 500)."""
    for interview_id in (str(uuid.uuid4()), "nonsense"):
        response = api.client.request(
            method,
            BASE + path.format(id=interview_id),
            headers=hr["headers"],
            json={"status": "selected"} if "status" in path else RATINGS,
        )
        body = envelope_error(response, 404, "NOT_FOUND")
        assert body["message"] == "Interview not found"


def test_access_control(api: Api, hr: dict[str, Any]) -> None:
    """No token is 401 and a candidate's token is 403, both in the envelope, on every endpoint."""
    _, interview_id = started(api, hr)
    candidate = api.register()
    routes = [
        ("GET", "/cvs-for-interview/"),
        ("POST", "/start-interview/"),
        ("GET", "/"),
        ("GET", "/ongoing-interviews/"),
        ("GET", f"/{interview_id}/"),
        ("PATCH", f"/{interview_id}/update-status/"),
        ("POST", f"/{interview_id}/evaluation/"),
        ("PUT", f"/{interview_id}/evaluation/"),
        ("DELETE", f"/{interview_id}/"),
    ]
    for method, path in routes:
        envelope_error(api.client.request(method, BASE + path, json={}), 401, "UNAUTHORIZED")
        envelope_error(
            api.client.request(method, BASE + path, json={}, headers={"Authorization": "Bearer junk"}),
            401,
            "UNAUTHORIZED",
        )
        envelope_error(api.client.request(method, BASE + path, json={}, headers=candidate), 403, "FORBIDDEN")
    assert api.client.get(f"{BASE}/{interview_id}/", headers=hr["headers"]).status_code == 200


def test_paths_without_trailing_slash(api: Api, hr: dict[str, Any]) -> None:
    """Every path also answers without its trailing slash (no redirect)."""
    _, interview_id = started(api, hr)
    for path in ("/cvs-for-interview", "", "/ongoing-interviews", f"/{interview_id}"):
        response = api.client.get(BASE + path, headers=hr["headers"])
        assert response.status_code == 200 and response.json()["success"] is True


def test_malformed_json_and_wrong_method(api: Api, hr: dict[str, Any]) -> None:
    """Malformed JSON is a 400 and an unsupported method a 405, both in the envelope."""
    response = api.client.post(
        f"{BASE}/start-interview/",
        headers={**hr["headers"], "Content-Type": "application/json"},
        content=b"{not json",
    )
    envelope_error(response, 400, "VALIDATION_ERROR")
    envelope_error(
        api.client.put(f"{BASE}/start-interview/", headers=hr["headers"], json={}), 405, "METHOD_NOT_ALLOWED"
    )


def test_evaluation_without_a_body(api: Api, hr: dict[str, Any]) -> None:
    """A POST with no body and no content type saves nothing new (every field is optional), not a
    malformed-JSON 400; an empty body that claims to be JSON is a 400 (issue 15; see test_hostile_bodies)."""
    _, interview_id = started(api, hr)
    url = f"{BASE}/{interview_id}/evaluation/"
    assert api.client.post(url, headers=hr["headers"], json=RATINGS).status_code == 201
    response = api.client.post(url, headers=hr["headers"], content=b"")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and {k: body["data"][k] for k in RATINGS} == RATINGS
    response = api.client.post(
        url, headers={**hr["headers"], "Content-Type": "application/json"}, content=b""
    )
    envelope_error(response, 400, "VALIDATION_ERROR")
    response = api.client.post(
        url, headers={**hr["headers"], "Content-Type": "application/json"}, content=b" {"
    )
    envelope_error(response, 400, "VALIDATION_ERROR")
