"""Types every TTS engine shares: the voices, one sentence of audio, and the engine interface.

Nothing here imports numpy, onnxruntime or the network stack, so the live room and the API can import these
types cheaply; the engines load their heavy dependencies lazily.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Voice = Literal["male", "female"]
VOICES: tuple[Voice, ...] = ("male", "female")
PCM_SAMPLE_WIDTH = 2  # bytes per sample: signed 16-bit little-endian


class TTSError(Exception):
    """An engine could not synthesise (model missing, network down, undecodable reply)."""


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """One sentence of speech: PCM16 little-endian mono samples at ``sample_rate``.

    ``index`` is the sentence's position in the text (0-based) and ``text`` the sentence itself, so a
    consumer can caption what it plays.
    """

    pcm: bytes
    sample_rate: int
    text: str = ""
    index: int = 0

    @property
    def samples(self) -> int:
        return len(self.pcm) // PCM_SAMPLE_WIDTH

    @property
    def duration_s(self) -> float:
        return self.samples / self.sample_rate

    def with_pause(self, seconds: float) -> AudioChunk:
        """This chunk followed by ``seconds`` of silence (the pause before the next sentence)."""
        pad = int(round(seconds * self.sample_rate)) * PCM_SAMPLE_WIDTH
        return AudioChunk(self.pcm + bytes(pad), self.sample_rate, self.text, self.index)


class TTSEngine(Protocol):
    """A speech synthesiser. ``synthesize`` yields exactly one chunk per sentence, in order.

    ``model_id`` names everything that changes the audio for a voice (engine version, model file, voice
    name, post-processing version); it is part of the cache key. Engines raise :class:`TTSError` (or any
    exception: callers treat every failure the same) and never block the event loop.
    """

    name: str

    def model_id(self, voice: Voice) -> str: ...

    def synthesize(self, sentences: Sequence[str], voice: Voice) -> AsyncIterator[AudioChunk]: ...

    async def warm_up(self) -> None: ...

    async def close(self) -> None: ...
