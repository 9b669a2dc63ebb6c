"""The candidate pool at /api/candidates (HR and admin): seed 004's CV fields, resumes, search, access."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.support import add, make_docx, make_png, payload
from tests.support import Api, make_pdf

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def hr(api: Api) -> dict[str, Any]:
    return api.make_user("hr", name="Jane Smith")


def add_role(api: Api, headers: dict[str, str], name: str = "Software Developer") -> int:
    response = api.client.post("/api/roles", headers=headers, json={"role_name": name})
    assert response.status_code == 201, response.text
    role_id: int = response.json()["role_id"]
    return role_id


def total(api: Api, headers: dict[str, str]) -> int:
    count: int = api.client.get("/api/candidates", headers=headers).json()["total"]
    return count


def form(**fields: Any) -> dict[str, str]:
    return {key: str(value) for key, value in payload(**fields).items() if value is not None}


def test_create_json(api: Api, hr: dict[str, Any]) -> None:
    """A JSON create with seed 004's field names stores the candidate and names its job title."""
    role_id = add_role(api, hr["headers"])
    body = add(api, hr["headers"], job_title=role_id, email="John.Doe@Example.com", name="  John Doe ")
    assert body["name"] == "John Doe" and body["email"] == "john.doe@example.com"
    assert body["job_title"] == role_id and body["job_title_name"] == "Software Developer"
    assert body["phone_number"] == "+91 9876543210" and body["place"] == "Kochi"
    assert body["district"] == "Ernakulam" and body["interview_status"] == "pending"
    assert body["is_registered"] is False and body["resume"] is None
    assert body["created_at"].endswith("Z")
    detail = api.client.get(f"/api/candidates/{body['id']}", headers=hr["headers"])
    assert detail.status_code == 200
    assert {k: v for k, v in detail.json().items() if k != "updated_at"} == {
        k: v for k, v in body.items() if k != "updated_at"
    }


def test_create_with_docx_resume(api: Api, hr: dict[str, Any]) -> None:
    """A multipart create with a DOCX resume extracts its text and serves the file back byte for byte."""
    resume = make_docx("Priya Nair", "Senior Kubernetes engineer with Terraform experience")
    response = api.client.post(
        "/api/candidates",
        headers=hr["headers"],
        data=form(name="Priya Nair"),
        files={"resume": ("Priya CV.docx", resume, DOCX_TYPE)},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Priya Nair" and body["phone_number"] == "+91 9876543210"
    assert body["resume"]["filename"] == "Priya CV.docx" and body["resume"]["text_chars"] > 20
    detail = api.client.get(f"/api/candidates/{body['id']}", headers=hr["headers"]).json()
    assert "Kubernetes engineer" in detail["resume_text"] and "Terraform" in detail["resume_text"]

    download = api.client.get(body["resume"]["url"], headers=hr["headers"])
    assert download.status_code == 200 and download.content == resume
    assert download.headers["content-type"] == DOCX_TYPE
    assert download.headers["x-content-type-options"] == "nosniff"
    assert api.client.get(body["resume"]["url"]).status_code == 401

    listed = api.client.get("/api/candidates", headers=hr["headers"]).json()["data"]
    row = next(item for item in listed if item["id"] == body["id"])
    assert row["resume"]["url"] == body["resume"]["url"] and row["resume_text"] is None


def test_create_with_pdf_resume(api: Api, hr: dict[str, Any]) -> None:
    """A text PDF resume is accepted, its text extracted, and it downloads as a PDF; no resume is a 404."""
    resume = make_pdf("Arjun Menon Golang Developer")
    response = api.client.post(
        "/api/candidates",
        headers=hr["headers"],
        data=form(name="Arjun Menon"),
        files={"resume": ("arjun.pdf", resume, "application/pdf")},
    )
    assert response.status_code == 201, response.text
    candidate_id = response.json()["id"]
    detail = api.client.get(f"/api/candidates/{candidate_id}", headers=hr["headers"]).json()
    assert "Golang Developer" in detail["resume_text"]
    download = api.client.get(detail["resume"]["url"], headers=hr["headers"])
    assert download.content == resume and download.headers["content-type"] == "application/pdf"

    without = add(api, hr["headers"])
    assert without["resume"] is None
    response = api.client.get(f"/api/candidates/{without['id']}/resume", headers=hr["headers"])
    assert response.status_code == 404 and "detail" in response.json()


def test_disguised_resume_is_refused(api: Api, hr: dict[str, Any]) -> None:
    """A PNG named resume.pdf is a 400 naming the resume field, and no candidate is stored."""
    before = total(api, hr["headers"])
    response = api.client.post(
        "/api/candidates",
        headers=hr["headers"],
        data=form(),
        files={"resume": ("resume.pdf", make_png(), "application/pdf")},
    )
    assert response.status_code == 400, response.text
    assert "resume" in response.json()["errors"]
    assert total(api, hr["headers"]) == before
    resumes = api.server.settings.uploads_dir / "resumes"
    assert not resumes.exists() or not any(resumes.iterdir())


def test_oversized_resume_is_413(api: Api, hr: dict[str, Any]) -> None:
    """A resume over max_resume_bytes is a 413 and nothing is stored."""
    limit = api.server.settings.max_resume_bytes
    big = make_pdf() + b"%" + b"x" * limit
    before = total(api, hr["headers"])
    response = api.client.post(
        "/api/candidates",
        headers=hr["headers"],
        data=form(),
        files={"resume": ("big.pdf", big, "application/pdf")},
    )
    assert response.status_code == 413, response.text
    assert "detail" in response.json()
    assert total(api, hr["headers"]) == before


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"email": "not-an-email"}, "email"),
    ({"email": None}, "email"),
    ({"phone_number": "call me"}, "phone_number"),
    ({"phone_number": "12"}, "phone_number"),
    ({"job_title": 999_999}, "job_title"),
    ({"job_title": 10**12}, "job_title"),
    ({"job_title": "developer"}, "job_title"),
    ({"name": ""}, "name"),
    ({"place": "x" * 121}, "place"),
]


def test_bad_fields_store_nothing(api: Api, hr: dict[str, Any]) -> None:
    """A malformed field (email, phone, unknown job title, ...) is a 400 naming it, as JSON or as a form;
    nothing is stored."""
    for change, field in BAD_FIELDS:
        as_json = api.client.post("/api/candidates", headers=hr["headers"], json=payload(**change))
        as_form = api.client.post(
            "/api/candidates",
            headers=hr["headers"],
            data={k: "" if v is None else str(v) for k, v in payload(**change).items()},
        )
        for response in (as_json, as_form):
            assert response.status_code == 400, (change, response.text)
            assert field in response.json()["errors"], (change, response.text)
    assert total(api, hr["headers"]) == 0


def test_duplicate_email(api: Api, hr: dict[str, Any]) -> None:
    """A second candidate with an email already in the pool (any case) is a 400 on email."""
    first = add(api, hr["headers"])
    response = api.client.post(
        "/api/candidates", headers=hr["headers"], json=payload(email=first["email"].upper())
    )
    assert response.status_code == 400 and "email" in response.json()["errors"]
    other = add(api, hr["headers"])
    response = api.client.patch(
        f"/api/candidates/{other['id']}", headers=hr["headers"], json={"email": first["email"]}
    )
    assert response.status_code == 400 and "email" in response.json()["errors"]
    assert total(api, hr["headers"]) == 2


def test_list_search_status_pagination(api: Api, hr: dict[str, Any]) -> None:
    """The list is {total, skip, limit, data}; search, status filter and paging narrow it."""
    h = hr["headers"]
    role_id = add_role(api, h, "Data Analyst")
    alice = add(api, h, name="Alice Kurian", place="Thrissur", job_title=role_id)
    add(api, h, name="Bob Mathew", phone_number="+91 1111122222")
    carol = add(api, h, name="Carol Thomas")
    started = api.client.post(
        "/api/interview-management/start-interview/",
        headers=h,
        json={"candidate_id": carol["id"], "scheduled_at": "2025-11-15T10:00:00Z"},
    )
    assert started.status_code == 201, started.text

    everyone = api.client.get("/api/candidates", headers=h).json()
    assert set(everyone) == {"total", "skip", "limit", "data"}
    assert everyone["total"] == 3 and everyone["skip"] == 0 and everyone["limit"] == 50

    def names(**params: Any) -> set[str]:
        response = api.client.get("/api/candidates", headers=h, params=params)
        assert response.status_code == 200, response.text
        return {item["name"] for item in response.json()["data"]}

    assert names(search="KURIAN") == {"Alice Kurian"}
    assert names(search="thrissur") == {"Alice Kurian"}
    assert names(search="11111") == {"Bob Mathew"}
    assert names(search=alice["email"]) == {"Alice Kurian"}
    assert names(search="%") == names(search="_") == names(search="Alice_Kurian") == set(), "no wildcards"
    assert names(status="ongoing") == {"Carol Thomas"}
    assert names(status="pending") == {"Alice Kurian", "Bob Mathew"}
    assert names(status=["ongoing", "pending"]) == {"Alice Kurian", "Bob Mathew", "Carol Thomas"}
    assert names(status="selected") == set()
    assert names(job_title=role_id) == {"Alice Kurian"}
    assert api.client.get("/api/candidates", headers=h, params={"status": "hired"}).status_code == 422

    seen: list[str] = []
    for skip in (0, 2):
        page = api.client.get("/api/candidates", headers=h, params={"skip": skip, "limit": 2}).json()
        assert page["total"] == 3 and page["skip"] == skip and page["limit"] == 2
        seen += [item["id"] for item in page["data"]]
    assert len(seen) == 3 and len(set(seen)) == 3
    assert api.client.get("/api/candidates/", headers=h).json()["total"] == 3
    for bad in ({"limit": 0}, {"limit": 101}, {"skip": -1}):
        assert api.client.get("/api/candidates", headers=h, params=bad).status_code == 422


def test_patch_updates_only_given_fields(api: Api, hr: dict[str, Any]) -> None:
    """PATCH changes the fields it names and leaves the others as they were."""
    h = hr["headers"]
    role_id = add_role(api, h)
    created = add(api, h, job_title=role_id)
    response = api.client.patch(
        f"/api/candidates/{created['id']}",
        headers=h,
        json={"place": "Kozhikode", "phone_number": "+1 5551234"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["place"] == "Kozhikode" and body["phone_number"] == "+1 5551234"
    for unchanged in ("name", "email", "district", "job_title", "job_title_name", "interview_status"):
        assert body[unchanged] == created[unchanged], unchanged

    response = api.client.patch(f"/api/candidates/{created['id']}", headers=h, json={"job_title": None})
    assert response.status_code == 200 and response.json()["job_title"] is None
    assert response.json()["place"] == "Kozhikode"
    response = api.client.patch(f"/api/candidates/{created['id']}", headers=h, json={"name": None})
    assert response.status_code == 400 and "name" in response.json()["errors"]
    response = api.client.patch(f"/api/candidates/{created['id']}", headers=h, json={"phone_number": "bad"})
    assert response.status_code == 400
    detail = api.client.get(f"/api/candidates/{created['id']}", headers=h).json()
    assert detail["name"] == "John Doe" and detail["phone_number"] == "+1 5551234"
    missing = api.client.patch(f"/api/candidates/{uuid.uuid4()}", headers=h, json={"place": "X"})
    assert missing.status_code == 404


def test_patch_replaces_resume(api: Api, hr: dict[str, Any]) -> None:
    """A multipart PATCH with a new resume replaces the stored text and file."""
    h = hr["headers"]
    created = add(api, h)
    resume = make_docx("Rust and WebAssembly specialist")
    response = api.client.patch(
        f"/api/candidates/{created['id']}",
        headers=h,
        data={"district": "Kannur"},
        files={"resume": ("cv.docx", resume, DOCX_TYPE)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["district"] == "Kannur" and response.json()["place"] == "Kochi"
    assert "WebAssembly" in response.json()["resume_text"]
    assert api.client.get(response.json()["resume"]["url"], headers=h).content == resume


def test_delete(api: Api, hr: dict[str, Any]) -> None:
    """DELETE removes a candidate (204, for HR or an admin); afterwards it is a 404 everywhere."""
    h = hr["headers"]
    created = add(api, h)
    response = api.client.delete(f"/api/candidates/{created['id']}", headers=h)
    assert response.status_code == 204 and response.content == b""
    for method in ("GET", "DELETE"):
        assert api.client.request(method, f"/api/candidates/{created['id']}", headers=h).status_code == 404
    assert total(api, h) == 0

    admin = api.admin()
    by_admin = add(api, admin)
    assert api.client.get(f"/api/candidates/{by_admin['id']}", headers=admin).status_code == 200
    assert api.client.delete(f"/api/candidates/{by_admin['id']}", headers=admin).status_code == 204


def test_delete_with_interview_is_409(api: Api, hr: dict[str, Any]) -> None:
    """A candidate with an interview cannot be deleted (409) and is still there afterwards."""
    h = hr["headers"]
    created = add(api, h)
    started = api.client.post(
        "/api/interview-management/start-interview/",
        headers=h,
        json={"candidate_id": created["id"], "scheduled_at": "2025-11-15T10:00:00Z"},
    )
    assert started.status_code == 201, started.text
    response = api.client.delete(f"/api/candidates/{created['id']}", headers=h)
    assert response.status_code == 409 and "detail" in response.json()
    detail = api.client.get(f"/api/candidates/{created['id']}", headers=h)
    assert detail.status_code == 200 and detail.json()["interview_status"] == "ongoing"


def test_delete_registered_candidate_is_409(api: Api, hr: dict[str, Any]) -> None:
    """A candidate who has an account cannot be deleted from the pool (409); the account keeps working."""
    headers = api.register(name="Reg Istered")
    me = api.client.get("/auth/me", headers=headers).json()
    response = api.client.delete(f"/api/candidates/{me['id']}", headers=hr["headers"])
    assert response.status_code == 409
    assert api.client.get("/auth/me", headers=headers).status_code == 200


def test_access_control(api: Api, hr: dict[str, Any]) -> None:
    """Every candidates route is 401 without a token and 403 for a candidate's token."""
    created = add(api, hr["headers"])
    url = f"/api/candidates/{created['id']}"
    candidate = api.register()
    routes = [
        ("GET", "/api/candidates"),
        ("GET", "/api/candidates/"),
        ("POST", "/api/candidates"),
        ("POST", "/api/candidates/"),
        ("GET", url),
        ("PATCH", url),
        ("PUT", url),
        ("DELETE", url),
        ("GET", url + "/resume"),
    ]
    for method, path in routes:
        body = payload() if method in ("POST", "PATCH", "PUT") else None
        for headers, status in (({}, 401), ({"Authorization": "Bearer junk"}, 401), (candidate, 403)):
            response: httpx.Response = api.client.request(method, path, headers=headers, json=body)
            assert response.status_code == status, (method, path, status, response.text)
            assert "detail" in response.json()
    assert total(api, hr["headers"]) == 2, "only the pool row of the registered candidate was added"
    detail = api.client.get(url, headers=hr["headers"]).json()
    assert detail["name"] == created["name"] and detail["email"] == created["email"]
