"""Seed 001's TTS: ``POST /tts/generate`` and ``GET /uploads/...``, which serves the generated audio.

Only ``uploads/tts/<sha256>.wav`` is ever served: resumes and voice notes live elsewhere in the uploads dir
and are private, so every other path (and every path trick) is a plain 404. The audio files are named by
the hash of what they contain, so they are cached by clients for a year. They need no token: an ``<audio>``
element cannot send one, and a file only says aloud a text whose hash is its name.
"""

from __future__ import annotations

import re
from typing import Annotated

import anyio
from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from server.api.deps import CurrentUser, ServicesDep
from server.domain.errors import NotFound
from server.store import files

router = APIRouter(tags=["tts (seed 001)"])

_TTS_FILE = re.compile(r"tts/([0-9a-f]{64}\.wav)")
IMMUTABLE = "public, max-age=31536000, immutable"


class GenerateIn(BaseModel):
    text: Annotated[str, Field(max_length=100_000, description="1 to VIVA_TTS_MAX_CHARS characters")]
    voice: Annotated[str, Field(max_length=32, description='"male" or "female"')]


class GenerateOut(BaseModel):
    audio_path: str = Field(description="Relative path: play BASE_URL + '/' + audio_path")
    url: str
    duration_s: float
    engine: str


@router.post("/tts/generate", summary="Synthesise speech for a text (cached by content)")
async def generate(body: GenerateIn, services: ServicesDep, _user: CurrentUser) -> GenerateOut:
    cached = await services.tts.synthesize(body.text, body.voice)
    return GenerateOut(
        audio_path=cached.audio_path,
        url=f"/{cached.audio_path}",
        duration_s=round(cached.duration_s, 3),
        engine=cached.engine,
    )


@router.get(
    "/uploads/{path:path}",
    summary="Generated TTS audio (uploads/tts/<key>.wav); everything else in uploads is 404",
    response_class=FileResponse,
)
@router.head("/uploads/{path:path}", include_in_schema=False, response_class=FileResponse)
async def uploaded_audio(path: str, services: ServicesDep) -> FileResponse:
    match = _TTS_FILE.fullmatch(path)
    if match is None:
        raise NotFound("File not found")
    root = services.settings.uploads_dir / "tts"
    resolved = await anyio.to_thread.run_sync(files.resolve_stored, root, match.group(1))
    return FileResponse(
        resolved,
        media_type="audio/wav",
        headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
    )
