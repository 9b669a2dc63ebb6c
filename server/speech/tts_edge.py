"""Online TTS with ``edge-tts`` (the seed's engine): Microsoft Edge's read-aloud voices.

``male`` is ``en-US-ChristopherNeural`` and ``female`` ``en-US-AriaNeural``. Each sentence is one request;
the MP3 reply is decoded to PCM16 with PyAV in a worker thread. The first audio bytes of a sentence must
arrive within ``connect_timeout_s`` (connection, TLS, WebSocket upgrade and the first reply together), later
ones within ``receive_timeout_s`` of the previous; anything else raises :class:`TTSError`, and
:class:`~server.speech.tts.TTSService` falls back to Piper.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from importlib import metadata

import anyio

from server.speech.tts_audio import decode_mp3
from server.speech.tts_base import AudioChunk, TTSError, Voice

EDGE_VOICES: dict[Voice, str] = {"male": "en-US-ChristopherNeural", "female": "en-US-AriaNeural"}
SAMPLE_RATE = 24_000  # edge-tts replies with 24 kHz mono MP3


class EdgeEngine:
    """edge-tts with short timeouts. ``proxy`` (an ``http://`` URL) is passed to aiohttp as it is."""

    name = "edge"

    def __init__(
        self, connect_timeout_s: float = 3.0, receive_timeout_s: float = 10.0, proxy: str | None = None
    ) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.receive_timeout_s = receive_timeout_s
        self.proxy = proxy

    def model_id(self, voice: Voice) -> str:
        try:
            version = metadata.version("edge-tts")
        except metadata.PackageNotFoundError:
            version = "unknown"
        return f"edge-tts {version}:{EDGE_VOICES[voice]}"

    async def synthesize(self, sentences: Sequence[str], voice: Voice) -> AsyncIterator[AudioChunk]:
        for index, sentence in enumerate(sentences):
            mp3 = await self.fetch_mp3(sentence, voice)
            pcm = await anyio.to_thread.run_sync(decode_mp3, mp3, SAMPLE_RATE)
            yield AudioChunk(pcm, SAMPLE_RATE, sentence, index)

    async def fetch_mp3(self, text: str, voice: Voice) -> bytes:
        """The MP3 bytes edge-tts returns for ``text``; raises :class:`TTSError` on any failure."""
        try:
            return await self._fetch(text, voice)
        except TTSError:
            raise
        except Exception as exc:  # aiohttp, edge_tts, ssl and timeout errors alike
            raise TTSError(f"edge-tts failed ({type(exc).__name__})") from exc

    async def _fetch(self, text: str, voice: Voice) -> bytes:
        import edge_tts

        communicate = edge_tts.Communicate(
            text,
            EDGE_VOICES[voice],
            proxy=self.proxy,
            connect_timeout=max(1, math.ceil(self.connect_timeout_s)),
            receive_timeout=max(1, math.ceil(self.receive_timeout_s)),
        )
        loop = asyncio.get_running_loop()
        audio = bytearray()
        stream = communicate.stream()
        try:
            async with asyncio.timeout_at(loop.time() + self.connect_timeout_s) as deadline:
                async for message in stream:
                    if message["type"] == "audio" and "data" in message:
                        audio += message["data"]
                        deadline.reschedule(loop.time() + self.receive_timeout_s)
        finally:
            await stream.aclose()
        if not audio:
            raise TTSError("edge-tts returned no audio")
        return bytes(audio)

    async def warm_up(self) -> None:
        """Nothing to load; a network probe here would slow start-up for nothing."""

    async def close(self) -> None:
        """Every request opens and closes its own connection."""
