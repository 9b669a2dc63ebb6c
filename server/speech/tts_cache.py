"""The TTS disk cache: ``<uploads>/tts/<key>.wav`` plus ``<key>.json``, its per-sentence index.

The key is the sha256 of (normalised text, voice, engine, model id), so a file's name says what it holds and
it never changes: it can be served with a long-lived ``Cache-Control``. The WAV is written first and the
index last, both atomically; an entry exists once its index does. The index lists each sentence's sample
range, so a cached text is streamed chunk by chunk at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.speech.tts_audio import read_wav, write_atomic, write_wav
from server.speech.tts_base import PCM_SAMPLE_WIDTH, AudioChunk, TTSError

SUBDIR = "tts"
INDEX_VERSION = 1


def cache_key(text: str, voice: str, engine: str, model_id: str) -> str:
    """sha256 hex of everything that decides the audio."""
    payload = json.dumps([INDEX_VERSION, text, voice, engine, model_id], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CachedAudio:
    """A synthesised text on disk. ``path`` is relative to the uploads dir (``tts/<key>.wav``)."""

    key: str
    path: str
    duration_s: float
    sample_rate: int
    engine: str
    sentences: tuple[tuple[str, int, int], ...]  # (text, first sample, end sample) per sentence

    @property
    def audio_path(self) -> str:
        """The path clients put after the base URL (seed 001): ``uploads/tts/<key>.wav``."""
        return f"uploads/{self.path}"


class TTSCache:
    """Reads and writes cache entries under ``root`` (the uploads dir). Every method is synchronous disk
    I/O: async callers run it in a worker thread."""

    def __init__(self, uploads_dir: Path) -> None:
        self.root = uploads_dir
        self.dir = uploads_dir / SUBDIR

    def wav_path(self, key: str) -> Path:
        return self.dir / f"{key}.wav"

    def lookup(self, key: str) -> CachedAudio | None:
        """The entry for ``key``, or None when it is missing, incomplete or unreadable."""
        try:
            index = json.loads((self.dir / f"{key}.json").read_text())
            if index.get("version") != INDEX_VERSION or not self.wav_path(key).is_file():
                return None
            return _entry(key, index)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(
        self, key: str, engine: str, model_id: str, voice: str, chunks: list[AudioChunk]
    ) -> CachedAudio:
        """Write ``chunks`` (one per sentence, one sample rate) as the entry for ``key``."""
        if not chunks:
            raise TTSError("nothing to store")
        rate = chunks[0].sample_rate
        if any(chunk.sample_rate != rate for chunk in chunks):
            raise TTSError("chunks of one entry must share a sample rate")
        sentences: list[list[Any]] = []
        start = 0
        for chunk in chunks:
            sentences.append([chunk.text, start, start + chunk.samples])
            start += chunk.samples
        self.dir.mkdir(parents=True, exist_ok=True)
        write_wav(self.wav_path(key), (chunk.pcm for chunk in chunks), rate)
        index = {
            "version": INDEX_VERSION,
            "engine": engine,
            "model": model_id,
            "voice": voice,
            "sample_rate": rate,
            "samples": start,
            "sentences": sentences,
        }
        write_atomic(self.dir / f"{key}.json", json.dumps(index, ensure_ascii=False).encode())
        return _entry(key, index)

    def chunks(self, entry: CachedAudio) -> list[AudioChunk]:
        """The entry's audio split back into its sentences."""
        pcm, rate = read_wav(self.wav_path(entry.key))
        return [
            AudioChunk(pcm[start * PCM_SAMPLE_WIDTH : end * PCM_SAMPLE_WIDTH], rate, text, index)
            for index, (text, start, end) in enumerate(entry.sentences)
        ]


def _entry(key: str, index: dict[str, Any]) -> CachedAudio:
    rate = int(index["sample_rate"])
    sentences = tuple((str(text), int(start), int(end)) for text, start, end in index["sentences"])
    return CachedAudio(
        key=key,
        path=f"{SUBDIR}/{key}.wav",
        duration_s=int(index["samples"]) / rate,
        sample_rate=rate,
        engine=str(index["engine"]),
        sentences=sentences,
    )
