"""Upload sniffing, validation, storage and resume text extraction (fixtures are generated here)."""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import wave
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from pypdf import PdfWriter

from server.domain.errors import NotFound, PayloadTooLarge, UploadRejected
from server.store import files
from server.store.files import (
    RESUME_KIND,
    VOICE_NOTE_KIND,
    check_zip_safety,
    extract_resume_text,
    normalize_text,
    resolve_stored,
    sniff,
    store_upload,
    validate_upload,
)
from tests.support import make_docx, make_pdf

MIB = 1024 * 1024
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# ------------------------------------------------------------------------------------------ fixtures


def make_encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def make_wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\x00\x00" * 1600)
    return buf.getvalue()


def make_mp3_id3() -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 412


def make_mp3_frame() -> bytes:
    return b"\xff\xfb\x90\x64" + b"\x00" * 412


def make_m4a() -> bytes:
    ftyp = b"ftyp" + b"M4A " + struct.pack(">I", 0) + b"M4A " + b"mp42" + b"isom"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", 8) + b"free"


def make_png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + b"\x00" * 4


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_docx_bomb(zeros: int) -> bytes:
    """A real DOCX plus one member of ``zeros`` zero bytes, deflated in 1 MiB chunks (memory-light)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_docx())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
        chunk = bytes(MIB)
        bomb = zipfile.ZipInfo("word/media/bomb.bin")
        bomb.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(bomb, "w", force_zip64=True) as member:
            written = 0
            while written < zeros:
                n = min(MIB, zeros - written)
                member.write(chunk[:n])
                written += n
    return out.getvalue()


# ------------------------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("kind", "maker", "expected"),
    [
        (RESUME_KIND, make_pdf, "pdf"),
        (RESUME_KIND, make_docx, "docx"),
        (VOICE_NOTE_KIND, make_mp3_id3, "mp3"),
        (VOICE_NOTE_KIND, make_mp3_frame, "mp3"),
        (VOICE_NOTE_KIND, make_wav, "wav"),
        (VOICE_NOTE_KIND, make_m4a, "m4a"),
    ],
)
def test_allowed_types_are_sniffed_and_accepted(kind: files.UploadKind, maker: Any, expected: str) -> None:
    """Each allowed type is detected from its bytes and accepted by its kind, whatever the client name."""
    content = maker()
    assert sniff(content) == expected
    assert validate_upload(kind, "upload.bin", content, "file") == expected
    assert validate_upload(kind, None, content, "file") == expected


def test_m4a_with_mp4_major_brand_is_sniffed() -> None:
    """An ``ftyp`` box with an ``mp42`` major brand counts as M4A audio."""
    ftyp = b"ftypmp42" + bytes(4) + b"isom"
    assert sniff(struct.pack(">I", len(ftyp) + 4) + ftyp) == "m4a"


def test_types_of_the_other_kind_are_rejected() -> None:
    """A voice note is not a resume and a resume is not a voice note."""
    with pytest.raises(UploadRejected):
        validate_upload(RESUME_KIND, "cv.pdf", make_wav(), "resume")
    with pytest.raises(UploadRejected):
        validate_upload(VOICE_NOTE_KIND, "note.mp3", make_pdf(), "voice_note")


def test_png_renamed_pdf_is_rejected() -> None:
    """A PNG named ``cv.pdf`` is rejected with a message naming the allowed types and limit."""
    png = make_png()
    assert sniff(png) is None
    with pytest.raises(UploadRejected) as info:
        validate_upload(RESUME_KIND, "cv.pdf", png, "resume")
    assert not isinstance(info.value, PayloadTooLarge)
    assert info.value.public_message == "Resume must be a PDF or DOCX file of at most 10 MB"
    assert info.value.details == {"resume": ["Resume must be a PDF or DOCX file of at most 10 MB"]}
    assert info.value.status_code == 400


def test_voice_note_message_names_types_and_limit() -> None:
    """The voice note rule reads naturally and reflects an overridden limit."""
    assert VOICE_NOTE_KIND.describe() == "Voice note must be an MP3, WAV or M4A file of at most 20 MB"
    assert VOICE_NOTE_KIND.with_limit(5 * MIB).describe().endswith("at most 5 MB")


@pytest.mark.parametrize(
    "members",
    [
        {"hello.txt": b"hello"},
        {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"},
        {"word/document.xml": b"<document/>"},
    ],
)
def test_plain_zip_is_rejected_as_resume(members: dict[str, bytes]) -> None:
    """A zip without both DOCX marker parts is not a DOCX and is rejected."""
    content = make_zip(members)
    assert sniff(content) is None
    with pytest.raises(UploadRejected):
        validate_upload(RESUME_KIND, "cv.docx", content, "resume")


def test_truncated_zip_is_not_sniffed_as_docx() -> None:
    """A file that only starts like a zip is not a DOCX."""
    assert sniff(make_docx()[:100]) is None


def test_oversized_upload_is_payload_too_large() -> None:
    """Content over the (overridden) limit raises PayloadTooLarge (413) naming the limit."""
    kind = RESUME_KIND.with_limit(1024)
    content = make_pdf() + b"%" + b"x" * 2048
    with pytest.raises(PayloadTooLarge) as info:
        validate_upload(kind, "cv.pdf", content, "resume")
    assert info.value.status_code == 413
    assert "1 KB" in info.value.public_message
    assert list(info.value.details) == ["resume"]
    assert validate_upload(kind, "cv.pdf", make_pdf(), "resume") == "pdf"


def test_invalid_limit_is_refused() -> None:
    """A non-positive limit is a programming error."""
    with pytest.raises(ValueError):
        RESUME_KIND.with_limit(0)


def test_empty_upload_is_rejected() -> None:
    """An empty file is rejected as empty, not as too large."""
    with pytest.raises(UploadRejected) as info:
        validate_upload(VOICE_NOTE_KIND, "note.wav", b"", "voice_note")
    assert not isinstance(info.value, PayloadTooLarge)
    assert "empty" in info.value.public_message
    assert list(info.value.details) == ["voice_note"]


# ---------------------------------------------------------------------------------------- extraction


def test_pdf_text_is_extracted() -> None:
    """The hand-built PDF's text comes back through pypdf."""
    text = extract_resume_text(make_pdf(), "pdf")
    assert "Jane Doe Python Developer" in text
    assert not CONTROL_CHARS.search(text)


def test_pdf_control_chars_are_stripped() -> None:
    """Control characters in a PDF string are removed and spaces collapsed."""
    text = extract_resume_text(make_pdf(r"Jane\001 \002Doe     Python"), "pdf")
    assert text == "Jane Doe Python"


def test_docx_text_includes_paragraphs_and_tables() -> None:
    """Paragraph and table cell text is extracted, normalised, without control characters."""
    text = extract_resume_text(make_docx(), "docx")
    for word in ("Jane Doe", "Senior Python Developer", "Skill", "Years", "FastAPI", "5"):
        assert word in text
    assert "  " not in text
    assert not CONTROL_CHARS.search(text)


def test_extraction_stops_at_max_chars() -> None:
    """The result is never longer than ``max_chars``."""
    assert extract_resume_text(make_pdf(), "pdf", max_chars=8) == "Jane Doe"


def test_docx_zip_bomb_is_rejected_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DOCX with a 60 MiB member of zeros is refused before python-docx opens it."""
    bomb = make_docx_bomb(60 * MIB)
    assert len(bomb) < MIB
    assert sniff(bomb) == "docx"

    opened: list[object] = []
    monkeypatch.setattr(docx, "Document", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(UploadRejected) as info:
        extract_resume_text(bomb, "docx")
    assert info.value.public_message == "Could not read the DOCX file"
    assert opened == []


def test_zip_ratio_and_member_limits() -> None:
    """A highly compressed member and too many members are each refused; a normal DOCX passes."""
    check_zip_safety(make_docx())
    with pytest.raises(UploadRejected):
        check_zip_safety(make_docx_bomb(2 * MIB))
    with pytest.raises(UploadRejected):
        check_zip_safety(make_docx(), max_members=3)
    with pytest.raises(UploadRejected):
        check_zip_safety(make_docx(), max_total_bytes=100)


def test_corrupt_docx_is_rejected() -> None:
    """A zip that claims to be a DOCX but holds no valid XML gives UploadRejected."""
    content = make_zip({"[Content_Types].xml": b"not xml", "word/document.xml": b"\x00\x01"})
    assert sniff(content) == "docx"
    with pytest.raises(UploadRejected) as info:
        extract_resume_text(content, "docx")
    assert info.value.public_message == "Could not read the DOCX file"
    with pytest.raises(UploadRejected):
        extract_resume_text(b"PK\x03\x04 broken", "docx")


def test_corrupt_pdf_is_rejected() -> None:
    """Garbage after a PDF header gives UploadRejected chained from the parser error."""
    with pytest.raises(UploadRejected) as info:
        extract_resume_text(b"%PDF-1.4 garbage", "pdf")
    assert info.value.public_message == "Could not read the PDF file"
    assert info.value.__cause__ is not None


def test_encrypted_pdf_is_rejected() -> None:
    """A password-protected PDF is refused."""
    content = make_encrypted_pdf()
    assert sniff(content) == "pdf"
    with pytest.raises(UploadRejected) as info:
        extract_resume_text(content, "pdf")
    assert "Password" in info.value.public_message


def test_pdf_without_text_returns_empty() -> None:
    """A PDF with no text layer yields an empty string."""
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buf = io.BytesIO()
    writer.write(buf)
    assert extract_resume_text(buf.getvalue(), "pdf") == ""


def test_unknown_resume_extension_is_rejected() -> None:
    """Extraction is only for PDF and DOCX."""
    with pytest.raises(UploadRejected):
        extract_resume_text(make_wav(), "wav")


def test_normalize_text() -> None:
    """Control characters go, tabs and newlines stay, runs of blanks collapse."""
    raw = "\ufeffJane\x00 \x07Doe\r\n\r\n\r\n\r\n  Python \t  Dev\x0cEnd\x7f\x85next  "
    assert normalize_text(raw) == "Jane Doe\n\nPython\tDev\nEnd\nnext"


# ------------------------------------------------------------------------------------------- storage


def test_store_upload_generates_name_and_round_trips(tmp_path: Path) -> None:
    """The stored file has a generated name under the kind's folder, mode 0o640, and resolves back."""
    content = make_pdf()
    relative = store_upload(tmp_path, RESUME_KIND, content, "pdf")
    assert re.fullmatch(r"resumes/[0-9a-f]{32}\.pdf", relative)
    path = resolve_stored(tmp_path, relative)
    assert path.is_relative_to(tmp_path.resolve())
    assert path.read_bytes() == content
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in (tmp_path / "resumes").iterdir()] == [path.name]  # no temp file left
    other = store_upload(tmp_path, RESUME_KIND, content, "pdf")
    assert other != relative


def test_store_upload_refuses_foreign_extension(tmp_path: Path) -> None:
    """An extension the kind does not allow cannot be stored."""
    with pytest.raises(ValueError):
        store_upload(tmp_path, RESUME_KIND, b"x", "exe")


@pytest.mark.parametrize(
    "relative",
    ["../x", "/etc/passwd", "a/../../x", "resumes/../../x", "", "resumes\x00.pdf", "..\\x", "resumes", "."],
)
def test_resolve_stored_rejects_unsafe_paths(tmp_path: Path, relative: str) -> None:
    """Traversal, absolute, NUL and non-file paths are all NotFound."""
    root = tmp_path / "root"
    (root / "resumes").mkdir(parents=True)
    (tmp_path / "x").write_text("secret")
    with pytest.raises(NotFound):
        resolve_stored(root, relative)


def test_resolve_stored_rejects_symlink_outside_root(tmp_path: Path) -> None:
    """A symlink inside root that points outside it is NotFound; one pointing inside is fine."""
    root = tmp_path / "root"
    (root / "resumes").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, root / "resumes" / "escape.pdf")
    with pytest.raises(NotFound):
        resolve_stored(root, "resumes/escape.pdf")
    inside = root / "resumes" / "real.pdf"
    inside.write_bytes(b"%PDF-")
    os.symlink(inside, root / "resumes" / "alias.pdf")
    assert resolve_stored(root, "resumes/alias.pdf") == inside.resolve()


def test_resolve_stored_missing_file(tmp_path: Path) -> None:
    """A file that does not exist is NotFound."""
    with pytest.raises(NotFound):
        resolve_stored(tmp_path, "resumes/0123456789abcdef0123456789abcdef.pdf")
