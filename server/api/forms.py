"""Bodies that come as JSON or as multipart forms with a file (resume, voice note)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from fastapi import Request
from starlette.datastructures import UploadFile

from server.domain.errors import InvalidInput, PayloadTooLarge
from server.store import files


@dataclass
class ParsedBody:
    fields: dict[str, Any]
    upload: UploadFile | None


async def parse_body(request: Request, file_field: str) -> ParsedBody:
    """JSON object or multipart/urlencoded form; ``file_field`` names the one file part accepted."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form(max_files=1, max_fields=100)
        fields: dict[str, Any] = {}
        upload: UploadFile | None = None
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != file_field:
                    raise InvalidInput("Unexpected file field", details={key: ["Unexpected file"]})
                upload = value
            else:
                fields[key] = value
        return ParsedBody(fields, upload if upload is not None and upload.filename else None)
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
            f"File too large (limit {kind.max_bytes // (1024 * 1024)} MB)",
            details={field: [f"File exceeds {kind.max_bytes} bytes"]},
        )
    ext = files.validate_upload(kind, upload.filename, content, field)
    return content, ext


async def store(root: Path, kind: files.UploadKind, content: bytes, ext: str) -> str:
    return await anyio.to_thread.run_sync(files.store_upload, root, kind, content, ext)
