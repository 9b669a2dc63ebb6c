"""Bodies that come as JSON or as multipart forms with a file (resume, voice note), and the email field."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Request
from fastapi.responses import FileResponse
from pydantic import AfterValidator, BeforeValidator, EmailStr
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from server.domain.errors import InvalidInput, PayloadTooLarge
from server.store import emails, files


def _fold_email(value: object) -> object:
    return emails.normalize(value) if isinstance(value, str) else value


Email = Annotated[EmailStr, BeforeValidator(_fold_email), AfterValidator(emails.normalize)]
"""An email field: NFKC-case-folded before it is validated (a fullwidth ``＠`` is ``@``) and after."""


@dataclass
class ParsedBody:
    fields: dict[str, Any]
    upload: UploadFile | None


async def parse_body(request: Request, file_field: str) -> ParsedBody:
    """JSON object or multipart/urlencoded form; ``file_field`` names the one file part accepted.

    No body at all is no fields (as Django REST framework reads it), unless it claims to be JSON."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await read_form(request, max_files=1, max_fields=100)
        fields: dict[str, Any] = {}
        upload: UploadFile | None = None
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != file_field:
                    raise InvalidInput("Unexpected file field", details={key: ["Unexpected file"]})
                upload = value
            elif "\x00" in value or "\x00" in key:  # the middleware scans JSON, not multipart text parts
                raise InvalidInput(
                    "Text fields may not contain NUL characters", details={key: ["Contains NUL"]}
                )
            else:
                fields[key] = value
        return ParsedBody(fields, upload if upload is not None and upload.filename else None)
    if not (await request.body()).strip():
        if _declares_json(content_type):
            raise InvalidInput(
                "Request body must be a JSON object",
                details={"non_field_errors": ["The JSON body is empty"]},
            )
        return ParsedBody({}, None)
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidInput(
            "Request body must be JSON or a multipart form",
            details={"non_field_errors": ["Malformed JSON body"]},
        ) from exc
    if not isinstance(body, dict):
        raise InvalidInput(
            "Request body must be a JSON object", details={"non_field_errors": ["Expected a JSON object"]}
        )
    return ParsedBody(body, None)


def _declares_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_form(request: Request, *, max_files: int = 1000, max_fields: int = 1000) -> FormData:
    """The request's form (multipart or urlencoded); closed with ``request.close()``.

    A multipart text part, field name or file name that is not valid UTF-8 (or the charset the form
    declares) is a 400: Starlette would decode it as Latin-1, and the mojibake would be stored."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return await request.form(max_files=max_files, max_fields=max_fields)
    try:
        async with aclosing(request.stream()) as stream:
            parser = _StrictMultiPartParser(
                request.headers, stream, max_files=max_files, max_fields=max_fields
            )
            form = await parser.parse()
    except _NotText as exc:
        raise InvalidInput(
            "Text fields must be valid UTF-8", details={exc.field or "non_field_errors": ["Not valid UTF-8"]}
        ) from exc
    except MultiPartException as exc:  # what Starlette's own request.form() answers
        raise HTTPException(status_code=400, detail=exc.message) from exc
    request._form = form  # as request.form() keeps it, so that request.close() closes its files
    return form


class _NotText(MultiPartException):
    def __init__(self, field: str) -> None:
        super().__init__("Text fields must be valid UTF-8")
        self.field = field


class _StrictMultiPartParser(MultiPartParser):
    """Starlette's multipart parser, refusing (with ``_NotText``) bytes its charset cannot decode.

    Starlette falls back to Latin-1 there; this checks the same bytes first (a part's name and file name
    when its headers end, a text part's value when it ends), then lets Starlette decode them."""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._current_part.content_disposition)
        name = self._check(options.get(b"name", b""), "non_field_errors")
        self._check(options.get(b"filename", b""), name or "non_field_errors")
        super().on_headers_finished()

    def on_part_end(self) -> None:
        if self._current_part.file is None:
            self._check(bytes(self._current_part.data), self._current_part.field_name)
        super().on_part_end()

    def _check(self, raw: bytes, field: str) -> str:
        try:
            return raw.decode(self._charset)
        except (UnicodeDecodeError, LookupError) as exc:
            raise _NotText(field) from exc


def body_with_file(file_field: str) -> Callable[[Request], AsyncIterator[ParsedBody]]:
    """A dependency: the parsed body; the request's spooled upload files are closed when the route ends."""

    async def dependency(request: Request) -> AsyncIterator[ParsedBody]:
        try:
            yield await parse_body(request, file_field)
        finally:
            await request.close()

    return dependency


async def read_upload(upload: UploadFile, kind: files.UploadKind, field: str) -> tuple[bytes, str]:
    """Read at most the kind's limit (+1 byte to detect overflow) and validate type; returns (bytes, ext)."""
    content = await upload.read(kind.max_bytes + 1)
    if len(content) > kind.max_bytes:
        raise PayloadTooLarge(
            f"File too large. {kind.describe()}",
            details={field: [f"File exceeds {kind.max_bytes} bytes"]},
        )
    ext = files.validate_upload(kind, upload.filename, content, field)
    return content, ext


async def store(root: Path, kind: files.UploadKind, content: bytes, ext: str) -> str:
    return await anyio.to_thread.run_sync(files.store_upload, root, kind, content, ext)


_CONTAINER_EXT = {
    "webm": "webm",
    "matroska": "mkv",
    "mp4": "mp4",
    "mov": "mp4",
    "ogg": "ogg",
    "wav": "wav",
    "mp3": "mp3",
}


async def save_media(services: Any, upload: UploadFile, field: str, subdir: str = "answers") -> str:
    """Stream an uploaded recording to disk under a generated name (size-limited), check it with PyAV.

    Returns the path relative to the uploads dir. A file over the limit is 413; one PyAV cannot decode, or
    with no audio track, is 400 — and nothing is kept.
    """
    from server.speech import media

    settings = services.settings
    folder = Path(settings.uploads_dir) / subdir
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    temp = folder / f".{uuid.uuid4().hex}.part"
    try:
        await _spool(upload, temp, settings.max_video_bytes, field)
        info = await anyio.to_thread.run_sync(media.probe, temp)
        if info.duration_s is not None and info.duration_s > settings.max_media_seconds:
            raise InvalidInput(
                f"Recordings are limited to {settings.max_media_seconds} seconds",
                details={field: ["Recording too long"]},
            )
        names = info.container.split(",")
        ext = next((_CONTAINER_EXT[n] for n in names if n in _CONTAINER_EXT), "bin")
        final = folder / f"{uuid.uuid4().hex}.{ext}"
        await anyio.Path(temp).rename(final)
        return f"{subdir}/{final.name}"
    finally:
        await anyio.Path(temp).unlink(missing_ok=True)


async def _spool(upload: UploadFile, target: Path, limit: int, field: str) -> None:
    written = 0
    async with await anyio.open_file(target, "wb") as out:
        while chunk := await upload.read(1024 * 1024):
            written += len(chunk)
            if written > limit:
                raise PayloadTooLarge(
                    f"File too large (limit {limit // (1024 * 1024)} MB)",
                    details={field: [f"File exceeds {limit} bytes"]},
                )
            await out.write(chunk)
    if written == 0:
        raise InvalidInput("The uploaded file is empty", details={field: ["Empty file"]})


def stored_file(uploads_dir: Path, relative: str) -> FileResponse:
    """A stored upload or recording as a download, typed by its extension (never sniffed by browsers)."""
    path = files.resolve_stored(uploads_dir, relative)
    return FileResponse(
        path,
        media_type=files.MEDIA_TYPES.get(path.suffix.lstrip("."), "application/octet-stream"),
        headers={"X-Content-Type-Options": "nosniff"},
    )
