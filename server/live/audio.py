"""The live audio path: PCM16 16 kHz mono frames → voice activity → the current answer's recording.

``VoiceActivity`` is a small energy detector with an adaptive noise floor and hysteresis: cheap enough to
run on every 20 ms frame of many sessions on two cores. It only says "speech started/stopped"; when an
answer ends is decided by the session machine (silence length, ``answer.done``, time limit).
"""

from __future__ import annotations

import io
import math
import wave
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
MAX_FRAME_BYTES = SAMPLE_RATE * 2  # one second of PCM16 per binary message at most


@dataclass
class VadEvent:
    kind: str  # "speech.started" | "speech.stopped"
    at_s: float  # stream time in seconds


@dataclass
class VoiceActivity:
    """Energy VAD with hysteresis: ``feed(pcm16 bytes)`` returns the start/stop events it found."""

    start_db: float = 12.0  # above the noise floor to count as speech
    stop_db: float = 7.0  # below this (above the floor) counts as silence
    start_frames: int = 3  # 60 ms of speech to start
    stop_frames: int = 15  # 300 ms of quiet to stop (the answer's end is decided elsewhere, ~2 s)
    min_level_db: float = -50.0  # absolute floor: quieter than this is never speech
    noise_db: float = -60.0
    calibration_frames: int = 10  # the first 200 ms set the noise floor and never count as speech
    speaking: bool = False
    _calibration: list[float] = field(default_factory=list, repr=False)
    _run: int = 0
    _samples: int = 0
    _rest: bytes = field(default=b"", repr=False)

    def feed(self, pcm: bytes) -> list[VadEvent]:
        data = self._rest + pcm
        usable = len(data) - len(data) % (FRAME_SAMPLES * 2)
        self._rest = data[usable:]
        events = []
        for start in range(0, usable, FRAME_SAMPLES * 2):
            frame = np.frombuffer(data[start : start + FRAME_SAMPLES * 2], dtype="<i2")
            event = self._frame(level_db(frame))
            self._samples += FRAME_SAMPLES
            if event:
                events.append(VadEvent(event, self._samples / SAMPLE_RATE))
        return events

    @property
    def stream_s(self) -> float:
        return self._samples / SAMPLE_RATE

    def _frame(self, db: float) -> str | None:
        if len(self._calibration) < self.calibration_frames:
            self._calibration.append(db)
            self.noise_db = float(np.median(self._calibration))
            return None
        above = db - self.noise_db
        if not self.speaking:
            # The floor follows quieter levels at once and louder ones slowly (2.5 dB/s), so steady noise
            # is absorbed but a speech onset is not.
            self.noise_db = db if db < self.noise_db else self.noise_db + 0.05
            loud = above >= self.start_db and db >= self.min_level_db
            self._run = self._run + 1 if loud else 0
            if self._run >= self.start_frames:
                self.speaking, self._run = True, 0
                return "speech.started"
            return None
        quiet = above < self.stop_db or db < self.min_level_db
        self._run = self._run + 1 if quiet else 0
        if self._run >= self.stop_frames:
            self.speaking, self._run = False, 0
            return "speech.stopped"
        return None


def level_db(frame: np.ndarray) -> float:
    """RMS level of a PCM16 frame in dBFS."""
    if frame.size == 0:
        return -120.0
    rms = math.sqrt(float(np.mean(frame.astype(np.float64) ** 2))) / 32768.0
    return 20 * math.log10(max(rms, 1e-6))


class AnswerRecording:
    """The audio of one answer, kept in memory (bounded) until it is stored as a WAV file."""

    def __init__(self, max_seconds: float) -> None:
        self._pcm = bytearray()
        self._limit = int(max_seconds * SAMPLE_RATE * 2)
        self.video: Path | None = None  # the answer's camera recording, when there is one

    def add(self, pcm: bytes) -> None:
        room = self._limit - len(self._pcm)
        if room > 0:
            self._pcm += pcm[:room]

    @property
    def seconds(self) -> float:
        return len(self._pcm) / 2 / SAMPLE_RATE

    @property
    def size(self) -> int:
        """Recorded bytes so far."""
        return len(self._pcm)

    def samples(self, start: int = 0, end: int | None = None) -> np.ndarray:
        """Float32 samples in [-1, 1] for the recogniser (``start``/``end`` in bytes of the recording)."""
        data = bytes(self._pcm[start:end])
        pcm = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2")
        return (pcm.astype(np.float32) / 32768.0).astype(np.float32)

    def wav_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(bytes(self._pcm))
        return buffer.getvalue()


class PreRoll:
    """The last ``seconds`` of candidate audio, kept so that an answer's recording starts a little before
    the moment listening began (the first syllable is often spoken as playback ends).

    I/O-free. Call :meth:`fence` when a question starts: audio from before it is dropped, so the pre-roll of
    an answer never reaches back into the previous answer.
    """

    def __init__(self, seconds: float, sample_rate: int = SAMPLE_RATE) -> None:
        self.limit = int(seconds * sample_rate) * 2  # PCM16 bytes
        self._chunks: deque[bytes] = deque()
        self._bytes = 0

    def add(self, pcm: bytes) -> None:
        self._chunks.append(pcm)
        self._bytes += len(pcm)
        while self._bytes > self.limit and len(self._chunks) > 1:
            self._bytes -= len(self._chunks.popleft())

    def fence(self) -> None:
        """A question started: nothing heard before now belongs to its answer."""
        self._chunks.clear()
        self._bytes = 0

    def chunks(self) -> list[bytes]:
        """What is kept, oldest first (at most ``seconds`` and one chunk)."""
        return list(self._chunks)
