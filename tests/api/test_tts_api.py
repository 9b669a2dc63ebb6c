"""``POST /tts/generate`` and ``GET /uploads/...`` on a live server: playable WAVs, validation, no leaks."""

from __future__ import annotations

import http.client
import io
import os
import wave
from pathlib import Path

import httpx

from tests.support import Api

QUESTION = "Tell me about a time you learned a new technology quickly. What helped you most?"
KEY = "ab" * 32


def uploads(api: Api) -> Path:
    return api.server.settings.uploads_dir


def write_wav(path: Path, seconds: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(22050)
        wav.writeframes(bytes(2 * int(22050 * seconds)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def raw_get(api: Api, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (httpx would normalise dot segments before sending)."""
    url = httpx.URL(api.server.base_url)
    connection = http.client.HTTPConnection(url.host, url.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_generate_returns_playable_wav_for_both_voices(api: Api) -> None:
    """Each voice yields a WAV under uploads/tts/ that the static route serves and ``wave`` can read."""
    headers = api.register()
    paths = set()
    for voice in ("male", "female"):
        response = api.client.post("/tts/generate", headers=headers, json={"text": QUESTION, "voice": voice})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["audio_path"].startswith("uploads/tts/") and body["audio_path"].endswith(".wav")
        assert body["url"] == "/" + body["audio_path"]
        assert body["engine"] == "piper" and body["duration_s"] > 2
        audio = api.client.get("/" + body["audio_path"])
        assert audio.status_code == 200
        assert audio.headers["content-type"] == "audio/wav"
        assert "immutable" in audio.headers["cache-control"]
        with wave.open(io.BytesIO(audio.content)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
            assert abs(wav.getnframes() / 22050 - body["duration_s"]) < 0.01
        paths.add(body["audio_path"])
    assert len(paths) == 2
    again = api.client.post("/tts/generate", headers=headers, json={"text": QUESTION, "voice": "male"})
    assert again.json()["audio_path"] in paths


def test_generate_requires_a_token(api: Api) -> None:
    """Without a bearer token the route answers 401."""
    response = api.client.post("/tts/generate", json={"text": "Hello.", "voice": "male"})
    assert response.status_code == 401


def test_generate_rejects_an_unknown_voice(api: Api) -> None:
    """A voice other than male or female is a 400 naming the voice field."""
    response = api.client.post(
        "/tts/generate", headers=api.register(), json={"text": "Hello.", "voice": "robot"}
    )
    assert response.status_code == 400
    assert "voice" in response.json()["errors"]


def test_generate_rejects_empty_and_too_long_text(api: Api) -> None:
    """Blank text and text over VIVA_TTS_MAX_CHARS are 400s; a missing field is a 422."""
    headers = api.register()
    too_long = "a" * (api.server.settings.tts_max_chars + 1)
    for text in ("", "   \n ", too_long):
        response = api.client.post("/tts/generate", headers=headers, json={"text": text, "voice": "female"})
        assert response.status_code == 400, text[:10]
        assert "detail" in response.json()
    response = api.client.post("/tts/generate", headers=headers, json={"voice": "female"})
    assert response.status_code == 422


def test_uploads_serves_tts_audio_with_ranges(api: Api) -> None:
    """A file under uploads/tts/ is served as audio/wav, with HEAD and byte ranges."""
    content = write_wav(uploads(api) / "tts" / f"{KEY}.wav")
    response = api.client.get(f"/uploads/tts/{KEY}.wav")
    assert response.status_code == 200 and response.content == content
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    head = api.client.head(f"/uploads/tts/{KEY}.wav")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(content))
    partial = api.client.get(f"/uploads/tts/{KEY}.wav", headers={"Range": "bytes=0-43"})
    assert partial.status_code == 206 and partial.content == content[:44]


def test_uploads_hides_everything_but_tts_audio(api: Api) -> None:
    """Private uploads, directories, path tricks and symlinks out of uploads/tts are all 404."""
    root = uploads(api)
    (root / "resumes").mkdir(parents=True, exist_ok=True)
    (root / "resumes" / "cv.pdf").write_bytes(b"%PDF-1.4 private")
    write_wav(root / "tts" / f"{KEY}.wav")
    (root / "tts" / f"{KEY}.json").write_text("{}")
    os.symlink(root / "resumes" / "cv.pdf", root / "tts" / f"{'cd' * 32}.wav")
    for path in (
        "/uploads/resumes/cv.pdf",
        "/uploads/",
        "/uploads/tts",
        "/uploads/tts/",
        f"/uploads/tts/{KEY}.json",
        f"/uploads/tts/{'cd' * 32}.wav",
        f"/uploads/tts/{'ef' * 32}.wav",
        "/uploads/tts/../resumes/cv.pdf",
        "/uploads/tts/%2e%2e/resumes/cv.pdf",
        "/uploads/tts/%2E%2E%2Fresumes%2Fcv.pdf",
        "/uploads/tts/..%2fresumes%2fcv.pdf",
        "/uploads//etc/passwd",
        "/uploads/%2Fetc%2Fpasswd",
        f"/uploads/tts/{KEY}.wav%00.pdf",
        f"/uploads/tts/./{KEY}.wav",
        f"/uploads/TTS/{KEY}.wav",
    ):
        status, body = raw_get(api, path)
        assert status == (400 if "%00" in path else 404), path  # NUL is refused at the edge
        assert b"PDF" not in body
