"""Text to speech for Viva: engines with fallback, a content-addressed disk cache, streaming and prefetch.

:class:`TTSService` is the one object the rest of the server uses::

    tts = build_tts(settings)
    cached = await tts.synthesize("Tell me about yourself.", "female")   # -> uploads/tts/<key>.wav
    async for chunk in tts.stream(question, "male"):                    # one AudioChunk per sentence
        send(chunk.pcm, chunk.sample_rate)
    tts.prefetch(questions, "female")                                   # background, never raises
    await tts.close()

Engines are tried in order (``edge`` then ``piper`` when ``settings.tts_engine == "edge"``, else ``piper``
alone). When the first engine fails, the next one takes over (from the sentence the listener has not heard
yet; the cached file is then entirely the fallback's), and the failed engine is skipped for
``fallback_cooldown_s`` so that an offline server does not wait for the connect timeout on every request.

Concurrent requests for the same text and voice synthesise once: the first starts a *flight* (a background
task that publishes chunks as they are made and writes the cache entry at the end); later requests follow the
same flight. This is a per-key single-flight lock that also lets a streaming reader start on the first
sentence instead of waiting for the whole text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from server.domain.errors import InvalidInput, ServiceUnavailable
from server.logs import log
from server.speech.tts_base import VOICES, AudioChunk, TTSEngine, TTSError, Voice
from server.speech.tts_cache import CachedAudio, TTSCache, cache_key
from server.speech.tts_text import normalize_text, split_sentences

if TYPE_CHECKING:
    from server.config import Settings

__all__ = ["VOICES", "AudioChunk", "CachedAudio", "TTSEngine", "TTSError", "TTSService", "Voice", "build_tts"]

SENTENCE_PAUSE_S = 0.2


@dataclass
class TTSStats:
    """Counters for tests, benchmarks and metrics."""

    synthesized: int = 0  # flights started (texts actually synthesised)
    cache_hits: int = 0
    fallbacks: int = 0
    failures: int = 0


class _Flight:
    """One synthesis in progress. Readers follow its chunks as they arrive or wait for the cache entry."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.chunks: list[AudioChunk] = []
        self.result: CachedAudio | None = None
        self.error: BaseException | None = None
        self.done = False
        self._changed = asyncio.Event()

    def publish(self, chunk: AudioChunk) -> None:
        self.chunks.append(chunk)
        self._notify()

    def finish(self, result: CachedAudio | None = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True
        self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def follow(self) -> AsyncIterator[AudioChunk]:
        sent = 0
        while True:
            changed = self._changed  # taken before reading, so no notification is missed
            while sent < len(self.chunks):
                yield self.chunks[sent]
                sent += 1
            if self.done:
                self._raise_error()
                return
            await changed.wait()

    async def wait(self) -> CachedAudio:
        while not self.done:
            await self._changed.wait()
        self._raise_error()
        assert self.result is not None
        return self.result

    def _raise_error(self) -> None:
        if self.error is not None:
            raise ServiceUnavailable("Speech synthesis is unavailable, try again later") from self.error


class TTSService:
    """Synthesis with fallback, caching, streaming and background prefetch (see the module doc).

    Call its coroutines from one event loop; :meth:`close` cancels every background task it started.
    """

    def __init__(
        self,
        engines: Sequence[TTSEngine],
        uploads_dir: Path,
        *,
        max_chars: int = 1000,
        prefetch_enabled: bool = True,
        prefetch_concurrency: int = 1,
        fallback_cooldown_s: float = 60.0,
        sentence_pause_s: float = SENTENCE_PAUSE_S,
    ) -> None:
        if not engines:
            raise ValueError("TTSService needs at least one engine")
        self.engines = list(engines)
        self.cache = TTSCache(uploads_dir)
        self.max_chars = max_chars
        self.prefetch_enabled = prefetch_enabled
        self.fallback_cooldown_s = fallback_cooldown_s
        self.sentence_pause_s = sentence_pause_s
        self.stats = TTSStats()
        self._prefetch_concurrency = prefetch_concurrency
        self._prefetch_slots: asyncio.Semaphore | None = None
        self._flights: dict[str, _Flight] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._skip_until: dict[str, float] = {}
        self._closed = False

    # ---------------------------------------------------------------------------------- public API

    async def synthesize(self, text: str, voice: str) -> CachedAudio:
        """The cache entry for ``text`` in ``voice``, synthesising it first when needed.

        Raises ``InvalidInput`` (400) for empty or too long text or an unknown voice, and
        ``ServiceUnavailable`` (503) when every engine failed.
        """
        clean, checked = self.validate(text, voice)
        started = await self._start(clean, checked)
        return started if isinstance(started, CachedAudio) else await started.wait()

    def stream(self, text: str, voice: str) -> AsyncIterator[AudioChunk]:
        """One :class:`AudioChunk` per sentence, the first as soon as it exists (at once when cached).

        Validates eagerly (raises ``InvalidInput`` here, not on iteration). Chunks after the first carry
        their own ``sample_rate``: after a mid-text fallback it may differ from the first chunk's.
        """
        clean, checked = self.validate(text, voice)
        return self._stream(clean, checked)

    def prefetch(self, texts: Sequence[str], voice: str) -> None:
        """Synthesise ``texts`` into the cache in the background, at most ``prefetch_concurrency`` at once.

        Never raises: invalid texts are skipped and failures logged. Must be called from the event loop.
        """
        if not self.prefetch_enabled or self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            log.warning("tts_prefetch_without_loop")
            return
        for text in [texts] if isinstance(texts, str) else texts:
            try:
                clean, checked = self.validate(text, voice)
            except InvalidInput:
                log.info("tts_prefetch_skipped", reason="invalid text or voice")
                continue
            self._spawn(self._prefetch_one(clean, checked))

    async def warm_up(self) -> None:
        """Load every engine's models now (optional; otherwise the first request does it)."""
        for engine in self.engines:
            try:
                await engine.warm_up()
            except Exception as exc:
                log.warning("tts_warm_up_failed", engine=engine.name, error=type(exc).__name__)

    async def close(self) -> None:
        """Cancel prefetches and flights in progress, then close the engines."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for engine in self.engines:
            await engine.close()

    def validate(self, text: str, voice: str) -> tuple[str, Voice]:
        """The normalised text and the voice, or ``InvalidInput`` naming the bad field."""
        stripped = text.strip() if isinstance(text, str) else ""
        if not stripped or not normalize_text(stripped):
            raise InvalidInput("Text must not be empty", details={"text": ["Text must not be empty."]})
        if len(stripped) > self.max_chars:
            message = f"Text must be at most {self.max_chars} characters"
            raise InvalidInput(message, details={"text": [message + "."]})
        name = voice.strip().lower() if isinstance(voice, str) else ""
        if name not in VOICES:
            message = "Voice must be 'male' or 'female'"
            raise InvalidInput(message, details={"voice": [message + "."]})
        return normalize_text(stripped), name

    # ----------------------------------------------------------------------------------- internals

    async def _stream(self, text: str, voice: Voice) -> AsyncIterator[AudioChunk]:
        started = await self._start(text, voice)
        if isinstance(started, CachedAudio):
            try:
                chunks = await anyio.to_thread.run_sync(self.cache.chunks, started)
            except (OSError, TTSError):  # deleted or damaged since the lookup: synthesise again
                started = await self._start(text, voice, use_cache=False)
            else:
                for chunk in chunks:
                    yield chunk
                return
        assert isinstance(started, _Flight)
        async for chunk in started.follow():
            yield chunk

    async def _start(self, text: str, voice: Voice, *, use_cache: bool = True) -> CachedAudio | _Flight:
        """The cache entry when there is one, else the flight that synthesises it (joined or started)."""
        if self._closed:
            raise ServiceUnavailable("Speech synthesis is shutting down")
        chain = self._chain()
        key = cache_key(text, voice, chain[0].name, chain[0].model_id(voice))
        if use_cache and key not in self._flights:
            entry = await anyio.to_thread.run_sync(self.cache.lookup, key)
            if entry is not None:
                self.stats.cache_hits += 1
                return entry
        flight = self._flights.get(key)
        if flight is None:
            flight = self._flights[key] = _Flight(key)
            self.stats.synthesized += 1
            self._spawn(self._produce(flight, text, voice, chain))
        return flight

    def _chain(self) -> list[TTSEngine]:
        """The engines to try now: all of them, less those in their cooldown (never the last one)."""
        now = asyncio.get_running_loop().time()
        ready = [engine for engine in self.engines[:-1] if self._skip_until.get(engine.name, 0.0) <= now]
        return [*ready, self.engines[-1]]

    async def _produce(self, flight: _Flight, text: str, voice: Voice, chain: list[TTSEngine]) -> None:
        try:
            flight.finish(result=await self._run_chain(flight, text, voice, chain))
        except asyncio.CancelledError:
            flight.finish(error=TTSError("cancelled"))
            raise
        except Exception as exc:
            self.stats.failures += 1
            log.error("tts_failed", voice=voice, error=type(exc).__name__, exc_info=exc)
            flight.finish(error=exc)
        finally:
            self._flights.pop(flight.key, None)

    async def _run_chain(
        self, flight: _Flight, text: str, voice: Voice, chain: list[TTSEngine]
    ) -> CachedAudio:
        sentences = split_sentences(text)
        for position, engine in enumerate(chain):
            try:
                chunks = await self._run_engine(flight, engine, sentences, voice)
            except Exception as exc:
                if position == len(chain) - 1:
                    raise
                self._engine_failed(engine, exc)
                continue
            model = engine.model_id(voice)
            key = cache_key(text, voice, engine.name, model)
            return await anyio.to_thread.run_sync(self.cache.store, key, engine.name, model, voice, chunks)
        raise TTSError("no engine")  # unreachable: the last engine's failure is raised above

    async def _run_engine(
        self, flight: _Flight, engine: TTSEngine, sentences: list[str], voice: Voice
    ) -> list[AudioChunk]:
        """All of ``engine``'s chunks; publishes those the flight's readers have not had yet."""
        produced: list[AudioChunk] = []
        async for chunk in engine.synthesize(sentences, voice):
            if chunk.index < len(sentences) - 1:
                chunk = chunk.with_pause(self.sentence_pause_s)
            produced.append(chunk)
            if len(produced) > len(flight.chunks):
                flight.publish(chunk)
        if len(produced) != len(sentences):
            raise TTSError(f"{engine.name} returned {len(produced)} chunks for {len(sentences)} sentences")
        return produced

    def _engine_failed(self, engine: TTSEngine, exc: Exception) -> None:
        self.stats.fallbacks += 1
        self._skip_until[engine.name] = asyncio.get_running_loop().time() + self.fallback_cooldown_s
        log.warning("tts_fallback", engine=engine.name, error=type(exc).__name__, detail=str(exc)[:200])

    async def _prefetch_one(self, text: str, voice: Voice) -> None:
        if self._prefetch_slots is None:
            self._prefetch_slots = asyncio.Semaphore(self._prefetch_concurrency)
        try:
            async with self._prefetch_slots:
                started = await self._start(text, voice)
                if isinstance(started, _Flight):
                    await started.wait()
        except Exception as exc:  # a prefetch never raises: the live request will try again
            log.warning("tts_prefetch_failed", voice=voice, error=type(exc).__name__)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def build_tts(settings: Settings) -> TTSService:
    """The service ``settings`` describe: Piper (offline) always, edge-tts first when configured."""
    from server.speech.tts_edge import EdgeEngine
    from server.speech.tts_piper import PiperEngine

    engines: list[TTSEngine] = [PiperEngine(settings.piper_male_model, settings.piper_female_model)]
    if settings.tts_engine == "edge":
        engines.insert(0, EdgeEngine(settings.edge_connect_timeout_s))
    return TTSService(
        engines,
        settings.uploads_dir,
        max_chars=settings.tts_max_chars,
        prefetch_enabled=settings.tts_prefetch,
    )
