"""Uploaded files: type sniffing, size limits, safe storage on disk, and resume text extraction.

Nothing the client says about a file is trusted: the filename extension and the declared content type
are ignored, and the type is read from the file's own magic bytes (:func:`sniff`). Stored files get a
generated name (``<uuid4 hex>.<ext>``) under a per-kind folder; the original name never reaches the path.

Every function here is synchronous and CPU- or disk-bound (zip inspection, PDF/DOCX parsing, fsync).
Async callers must not call them on the event loop; run them in a worker thread instead, e.g.::

    ext = await anyio.to_thread.run_sync(validate_upload, RESUME_KIND, upload.filename, content, "resume")
    text = await anyio.to_thread.run_sync(extract_resume_text, content, ext)

Errors meant for clients are :class:`~server.domain.errors.UploadRejected` (400) and
:class:`~server.domain.errors.PayloadTooLarge` (413) with a human message and ``details`` mapping the
form field to a list of messages; parser exception text is never put in a public message (it is chained
with ``raise ... from`` for the logs instead).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import re
import tempfile
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import docx
from docx.table import Table as DocxTable
from pypdf import PdfReader

from server.domain.errors import NotFound, PayloadTooLarge, UploadRejected

__all__ = [
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_RATIO",
    "MAX_ZIP_TOTAL_BYTES",
    "MEDIA_TYPES",
    "MIB",
    "RESUME_KIND",
    "UPLOAD_KINDS",
    "VOICE_NOTE_KIND",
    "UploadKind",
    "check_zip_safety",
    "extract_resume_text",
    "normalize_text",
    "resolve_stored",
    "sniff",
    "store_upload",
    "validate_upload",
]

logger = logging.getLogger(__name__)

MIB = 1024 * 1024

# Zip-bomb limits applied to a DOCX before python-docx opens it.
MAX_ZIP_MEMBERS = 2000
MAX_ZIP_TOTAL_BYTES = 50 * MIB
MAX_ZIP_RATIO = 100
# Members smaller than this (uncompressed) are not ratio-checked: tiny XML parts compress very well.
ZIP_RATIO_MIN_BYTES = 1 * MIB

STORED_FILE_MODE = 0o640

# Canonical media type per extension, for serving stored files.
MEDIA_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "mp3": "audio/mpeg",
        "wav": "audio/wav",
        "m4a": "audio/mp4",
        "webm": "video/webm",
        "mp4": "video/mp4",
    }
)

# Human names of the types, used in messages.
_TYPE_LABELS: Mapping[str, str] = MappingProxyType(
    {"pdf": "PDF", "docx": "DOCX", "mp3": "MP3", "wav": "WAV", "m4a": "M4A"}
)


@dataclass(frozen=True)
class UploadKind:
    """What one kind of upload may be: allowed types (extension -> accepted media types), size cap, folder.

    ``allowed`` lists the media types a well-behaved client would send for each extension; it is
    informational (e.g. for an ``accept`` attribute) since validation trusts only the sniffed bytes.
    """

    name: str
    label: str
    allowed: Mapping[str, frozenset[str]] = field(hash=False)
    max_bytes: int
    subdir: str

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if not self.allowed:
            raise ValueError("an upload kind must allow at least one type")
        unknown = set(self.allowed) - set(MEDIA_TYPES)
        if unknown:
            raise ValueError(f"no sniffer for {sorted(unknown)}")
        sub = PurePosixPath(self.subdir)
        if not self.subdir or sub.is_absolute() or any(part in ("", ".", "..") for part in sub.parts):
            raise ValueError("subdir must be a plain relative folder name")

    def with_limit(self, max_bytes: int) -> UploadKind:
        """This kind with another size cap (e.g. from settings)."""
        return dataclasses.replace(self, max_bytes=max_bytes)

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(self.allowed)

    @property
    def media_types(self) -> frozenset[str]:
        return frozenset().union(*self.allowed.values())

    def describe(self) -> str:
        """The rule as a sentence, e.g. "Resume must be a PDF or DOCX file of at most 10 MB"."""
        labels = [_TYPE_LABELS[ext] for ext in self.allowed]
        if len(labels) == 1:
            types = labels[0]
        elif len(labels) == 2:
            types = f"{labels[0]} or {labels[1]}"
        else:
            types = ", ".join(labels[:-1]) + f" or {labels[-1]}"
        article = "an" if types[0] in "AEFHILMNORSX" else "a"
        return f"{self.label} must be {article} {types} file of at most {_format_size(self.max_bytes)}"


RESUME_KIND = UploadKind(
    name="resume",
    label="Resume",
    allowed=MappingProxyType(
        {
            "pdf": frozenset({"application/pdf", "application/x-pdf"}),
            "docx": frozenset({MEDIA_TYPES["docx"]}),
        }
    ),
    max_bytes=10 * MIB,
    subdir="resumes",
)

VOICE_NOTE_KIND = UploadKind(
    name="voice_note",
    label="Voice note",
    allowed=MappingProxyType(
        {
            "mp3": frozenset({"audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3"}),
            "wav": frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}),
            "m4a": frozenset({"audio/mp4", "audio/x-m4a", "audio/m4a"}),
        }
    ),
    max_bytes=20 * MIB,
    subdir="voice_notes",
)

UPLOAD_KINDS: Mapping[str, UploadKind] = MappingProxyType(
    {kind.name: kind for kind in (RESUME_KIND, VOICE_NOTE_KIND)}
)


def _format_size(n: int) -> str:
    if n % MIB == 0:
        return f"{n // MIB} MB"
    if n >= MIB:
        return f"{n / MIB:.1f} MB"
    if n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} bytes"


# --------------------------------------------------------------------------------------------- sniffing

_M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"mp41", b"mp42", b"isom", b"iso2", b"dash"})


def sniff(content: bytes) -> str | None:
    """The real type of ``content`` from its magic bytes: "pdf", "docx", "mp3", "wav", "m4a", or None."""
    head = content[:64]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if _is_docx_zip(content) else None
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if _is_m4a(head):
        return "m4a"
    if _is_mp3(head):
        return "mp3"
    return None


def _is_docx_zip(content: bytes) -> bool:
    """A zip whose central directory names both ``[Content_Types].xml`` and ``word/document.xml``."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


def _is_m4a(head: bytes) -> bool:
    """ISO base media file (``....ftyp``) whose major or a compatible brand is an MPEG-4 audio brand."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[:4], "big")
    if box_size < 16:
        return False
    if head[8:12] in _M4A_BRANDS:
        return True
    compatible = head[16 : min(box_size, len(head))]
    return any(compatible[i : i + 4] in _M4A_BRANDS for i in range(0, len(compatible) - 3, 4))


def _is_mp3(head: bytes) -> bool:
    """An ID3v2 tag, or an MPEG-1/2/2.5 Layer I-III audio frame header."""
    if len(head) >= 10 and head[:3] == b"ID3" and head[3] < 0xFF and head[4] < 0xFF:
        return True
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11  # 0b01 is reserved
    layer = (head[1] >> 1) & 0b11  # 0b00 is reserved (and is what AAC ADTS uses)
    bitrate = head[2] >> 4  # 0b1111 is invalid
    sample_rate = (head[2] >> 2) & 0b11  # 0b11 is reserved
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and sample_rate != 0b11


# ------------------------------------------------------------------------------------------- validation


def validate_upload(kind: UploadKind, filename: str | None, content: bytes, field: str) -> str:
    """Check size and real type of an upload; return the detected extension (e.g. "pdf").

    ``filename`` is the client's name for the file; it is not trusted and does not decide the type
    (a PNG named ``cv.pdf`` is rejected). ``field`` names the form field in the error ``details``.
    """
    rule = kind.describe()
    if not content:
        message = "The uploaded file is empty"
        raise UploadRejected(message, details={field: [f"{message}. {rule}"]})
    if len(content) > kind.max_bytes:
        message = f"File too large. {rule}"
        raise PayloadTooLarge(message, details={field: [message]})
    detected = sniff(content)
    if detected is None or detected not in kind.allowed:
        logger.info(
            "upload rejected: kind=%s detected=%s client_ext=%s",
            kind.name,
            detected,
            _client_extension(filename),
        )
        raise UploadRejected(rule, details={field: [rule]})
    return detected


def _client_extension(filename: str | None) -> str | None:
    """The extension the client claimed, for logs only (short, lowercase, printable)."""
    if not filename or "." not in filename:
        return None
    ext = filename.rsplit(".", 1)[1][:10].lower()
    return ext if ext.isalnum() else None


# ---------------------------------------------------------------------------------------------- storage


def store_upload(root: Path, kind: UploadKind, content: bytes, ext: str) -> str:
    """Write ``content`` atomically to ``root/<kind.subdir>/<uuid4 hex>.<ext>`` (mode 0o640).

    Returns the path relative to ``root`` as a POSIX string, e.g. ``resumes/3f2a....pdf``. ``ext`` must
    be one the kind allows (normally the value :func:`validate_upload` returned).
    """
    if ext not in kind.allowed:
        raise ValueError(f"{ext!r} is not a {kind.name} type")
    directory = root / kind.subdir
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.{ext}"
    final = directory / name
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, STORED_FILE_MODE)
        os.replace(tmp_name, final)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return f"{kind.subdir}/{name}"


def resolve_stored(root: Path, relative: str) -> Path:
    """The absolute path of a stored file, for serving it; raises ``NotFound`` unless it is inside root.

    Rejects NUL bytes, backslashes, absolute paths, ``..`` components, symlinks that resolve outside
    ``root``, missing files and anything that is not a regular file. Every rejection is a plain
    ``NotFound`` so callers cannot probe the file system.
    """
    if not relative or "\x00" in relative or "\\" in relative:
        raise NotFound("File not found")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or any(part == ".." for part in pure.parts):
        raise NotFound("File not found")
    try:
        base = root.resolve(strict=True)
        resolved = (base / pure).resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as exc:
        raise NotFound("File not found") from exc
    if resolved == base or not resolved.is_relative_to(base) or not resolved.is_file():
        raise NotFound("File not found")
    return resolved


# ------------------------------------------------------------------------------------------- extraction

_NEWLINE_LIKE = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# C0 controls except \t and \n, DEL, C1 controls, lone surrogates, BOM / zero-width no-break space.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
_HSPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """Strip control characters (keeping newline and tab) and collapse runs of spaces and blank lines."""
    text = _NEWLINE_LIKE.sub("\n", text)
    text = _CONTROL.sub("", text)
    text = _HSPACE.sub(lambda m: "\t" if "\t" in m.group() else " ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def extract_resume_text(content: bytes, ext: str, max_chars: int = 50_000) -> str:
    """Plain text of a resume (``ext`` "pdf" or "docx"), normalised and cut at ``max_chars``.

    Returns "" when the file has no text layer (e.g. a scanned PDF); the caller decides what that means.
    Raises ``UploadRejected`` for unreadable, encrypted or suspicious (zip-bomb) files.
    """
    if max_chars <= 0:
        raise ValueError("max_chars must be positive")
    if ext == "pdf":
        chunks = _pdf_chunks(content)
    elif ext == "docx":
        chunks = _docx_chunks(content)
    else:
        raise UploadRejected("Resume must be a PDF or DOCX file")
    parts: list[str] = []
    total = 0
    for chunk in chunks:
        cleaned = normalize_text(chunk)
        if not cleaned:
            continue
        parts.append(cleaned)
        total += len(cleaned) + 2
        if total >= max_chars:
            break
    return normalize_text("\n\n".join(parts))[:max_chars].rstrip()


def _pdf_chunks(content: bytes) -> list[str]:
    """Text of each page (pages whose extraction fails are skipped). Collected eagerly to keep errors here."""
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many types on malformed input, not only PyPdfError
        raise UploadRejected("Could not read the PDF file") from exc
    if encrypted:
        raise UploadRejected("Password-protected PDF files are not supported")
    try:
        pages = reader.pages
        count = len(pages)
    except Exception as exc:
        raise UploadRejected("Could not read the PDF file") from exc
    return list(_iter_pdf_pages(pages, count))


def _iter_pdf_pages(pages: Any, count: int) -> Iterator[str]:
    for index in range(count):
        try:
            text = pages[index].extract_text()
        except Exception:
            logger.info("pdf page %d: text extraction failed", index, exc_info=True)
            continue
        if isinstance(text, str) and text:
            yield text


def check_zip_safety(
    content: bytes,
    *,
    max_members: int = MAX_ZIP_MEMBERS,
    max_total_bytes: int = MAX_ZIP_TOTAL_BYTES,
    max_ratio: float = MAX_ZIP_RATIO,
    ratio_min_bytes: int = ZIP_RATIO_MIN_BYTES,
) -> None:
    """Refuse a zip (a DOCX) that could blow up when unpacked: too many members, too large, too compressed.

    Reads only the central directory. The declared sizes are what ``zipfile`` will stop at when the
    parts are later read, so a member cannot unpack to more than it declares.
    """
    message = "Could not read the DOCX file"
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise UploadRejected(message) from exc
    if len(infos) > max_members:
        logger.warning("docx rejected: %d zip members", len(infos))
        raise UploadRejected(message)
    total = 0
    for info in infos:
        total += info.file_size
        if total > max_total_bytes:
            logger.warning("docx rejected: more than %d bytes uncompressed", max_total_bytes)
            raise UploadRejected(message)
        if info.file_size >= ratio_min_bytes and info.file_size > max_ratio * max(info.compress_size, 1):
            logger.warning(
                "docx rejected: member compresses %d -> %d bytes", info.file_size, info.compress_size
            )
            raise UploadRejected(message)


def _docx_chunks(content: bytes) -> list[str]:
    """Paragraphs and table cells in document order (nested tables included)."""
    check_zip_safety(content)
    try:
        document = docx.Document(io.BytesIO(content))
        return list(_iter_block_text(document))
    except Exception as exc:  # python-docx / lxml raise many types on malformed input
        raise UploadRejected("Could not read the DOCX file") from exc


def _iter_block_text(container: Any, depth: int = 0) -> Iterator[str]:
    if depth > 10:  # absurdly nested tables
        return
    for block in container.iter_inner_content():
        if not isinstance(block, DocxTable):
            yield block.text
            continue
        for row in block.rows:
            seen: list[Any] = []
            cells: list[str] = []
            for cell in row.cells:
                # A merged cell is repeated once per grid column it spans; keep the first.
                if any(cell._tc is tc for tc in seen):
                    continue
                seen.append(cell._tc)
                cells.append(" ".join(_iter_block_text(cell, depth + 1)))
            yield "\t".join(cells)
