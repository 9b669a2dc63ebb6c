"""Upload attacks on every upload route (pool resume, /interviews/create resume, recorded answer, seed-004
voice note): oversized files, lying magic bytes, a DOCX zip bomb and hostile file names. Refusals store
nothing; accepted files land under a generated name in their own folder, whatever the client called them."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.hostile import JD, LEAKS, World, build_world, ok, sqlite_api
from tests.api.support import make_docx, make_png, wav
from tests.support import Api, make_pdf

LIMIT = 200_000  # max_resume_bytes and max_voice_note_bytes in the test settings; video set to match
STORED = re.compile(
    r"^(resumes/[0-9a-f]{32}\.(pdf|docx)|voice_notes/[0-9a-f]{32}\.(wav|mp3|m4a)|answers/[0-9a-f]{32}\.\w+)$"
)


def zip_bomb() -> bytes:
    """A DOCX-shaped zip whose one extra part unpacks 1000 times larger than it is stored."""
    buffer = io.BytesIO()
    real = zipfile.ZipFile(io.BytesIO(make_docx("A resume")))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in real.infolist():
            bomb.writestr(info.filename, real.read(info))
        bomb.writestr("word/media/filler.bin", bytes(20 * 1024 * 1024))
    return buffer.getvalue()


Send = Callable[[Api, World, str, bytes], httpx.Response]


def to_pool(api: Api, world: World, name: str, content: bytes) -> httpx.Response:
    fields = {"name": "Pat Pool", "email": f"pat-{uuid.uuid4().hex[:8]}@example.com"}
    files = {"resume": (name, content, "application/pdf")}
    return api.client.post("/api/candidates", headers=world.hr, data=fields, files=files)


def to_create(api: Api, world: World, name: str, content: bytes) -> httpx.Response:
    files = {"resume": (name, content, "application/pdf")}
    return api.client.post(
        "/interviews/create", headers=world.candidate, data={"job_description": JD}, files=files
    )


def to_answer(api: Api, world: World, name: str, content: bytes) -> httpx.Response:
    url = world.path("/interviews/{interview_id}/questions/{question_id}/upload-video")
    return api.client.post(url, headers=world.candidate, files={"video": (name, content, "video/webm")})


def to_voice_note(api: Api, world: World, name: str, content: bytes) -> httpx.Response:
    person = {"name": "Pat Pool", "email": f"pat-{uuid.uuid4().hex[:8]}@example.com"}
    pooled = ok(api.client.post("/api/candidates", headers=world.hr, json=person), 201)
    start = {"candidate_id": pooled["id"], "scheduled_at": "2030-01-01T10:00:00Z"}
    started = ok(
        api.client.post("/api/interview-management/start-interview/", headers=world.hr, json=start), 201
    )
    return api.client.post(
        f"/api/interview-management/{started['data']['id']}/evaluation/",
        headers=world.hr,
        data={"knowledge": "8"},
        files={"voice_note": (name, content, "audio/mpeg")},
    )


ROUTES: dict[str, tuple[Send, bytes, str]] = {
    "pool resume": (to_pool, make_pdf("Pat Pool resume"), "pdf"),
    "interview resume": (to_create, make_pdf("Ada resume"), "pdf"),
    "recorded answer": (to_answer, wav(), "wav"),
    "voice note": (to_voice_note, wav(), "wav"),
}
HOSTILE_NAMES = [
    "../../etc/passwd.pdf",
    "/etc/passwd.pdf",
    "..\\..\\..\\windows\\evil.pdf",
    "a\x00b.pdf",
    "r\u00e9sum\u00e9\u202egpj.pdf",
    "%2e%2e%2fescape.pdf",
    "x" * 1000 + ".pdf",
    "",
]


@pytest.fixture(scope="module")
def world_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, World]]:
    tmp = tmp_path_factory.mktemp("uploads")
    with sqlite_api(tmp, max_video_bytes=LIMIT, embedded_worker=False) as api:
        yield api, build_world(api)


def stored_files(api: Api) -> set[str]:
    root = api.server.settings.uploads_dir
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - tts_cache(api)


def tts_cache(api: Api) -> set[str]:
    root = api.server.settings.uploads_dir
    return {p.relative_to(root).as_posix() for p in (root / "tts").rglob("*") if p.is_file()}


def refused(api: Api, response: httpx.Response, statuses: tuple[int, ...]) -> None:
    assert response.status_code in statuses, response.text
    assert not LEAKS.search(response.text), response.text


BAD_CONTENT = {
    "pool resume": [("cv.pdf", make_png()), ("cv.docx", zip_bomb()), ("cv.pdf", b"%PDF-1.4 not really")],
    "interview resume": [("cv.pdf", make_png()), ("cv.docx", zip_bomb()), ("cv.pdf", b"just text, no PDF")],
    "recorded answer": [("answer.mp3", b"just some text\n" * 50), ("answer.webm", make_png())],
    "voice note": [("note.mp3", b"just some text\n" * 50), ("note.wav", make_png())],
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_oversized_and_disguised_files_store_nothing(world_api: tuple[Api, World], route: str) -> None:
    """A file one byte over the limit is a 413; a PNG or text under a document or audio name, a corrupt
    PDF and a DOCX zip bomb are 400; after all of them not one new file is in the uploads folder."""
    api, world = world_api
    send, good, _ = ROUTES[route]
    before = stored_files(api)
    oversized = send(api, world, f"big.{ROUTES[route][2]}", good + b"\0" * (LIMIT + 1 - len(good)))
    refused(api, oversized, (413,))
    for name, content in BAD_CONTENT[route]:
        refused(api, send(api, world, name, content), (400,))
    assert stored_files(api) == before


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_file_names_never_choose_the_path(world_api: tuple[Api, World], route: str, tmp_path: Path) -> None:
    """Traversal, absolute, backslash, NUL, right-to-left-override, encoded, overlong and empty names:
    each upload is either refused or stored under a generated name in its kind's folder, and nothing is
    written anywhere else under the server's data directory."""
    api, world = world_api
    send, good, ext = ROUTES[route]
    data_dir = api.server.settings.data_dir
    outside_before = {p for p in data_dir.parent.rglob("*") if p.is_file() and data_dir not in p.parents}
    before = stored_files(api)
    accepted = 0
    for name in HOSTILE_NAMES:
        response = send(api, world, name.replace(".pdf", f".{ext}"), good)
        assert response.status_code < 500 and not LEAKS.search(response.text), (name, response.text)
        accepted += response.status_code < 300
    new = stored_files(api) - before
    assert accepted >= len(HOSTILE_NAMES) - 2, "nearly every name should be accepted with good content"
    assert all(STORED.match(path) for path in new), new
    assert new or not accepted or route == "pool resume"  # "" as a name: no file, a candidate without one
    everything = [p for p in data_dir.parent.rglob("*") if p.is_file()]
    assert not [p for p in everything if "passwd" in p.name or "evil" in p.name or "escape" in p.name]
    outside_after = {p for p in everything if data_dir not in p.parents}
    assert outside_after == outside_before
