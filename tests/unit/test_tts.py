"""TTS: Piper voices (male, and the derived female), sentence streaming, the cache, fallback and prefetch.

The Piper models load once per session (``piper`` fixture); each test gets its own service and cache dir.
edge-tts is only ever pointed at local sockets (refusing, or accepting and never answering), so no test
reaches the internet.
"""

from __future__ import annotations

import asyncio
import io
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from server.domain.errors import InvalidInput
from server.speech.tts import AudioChunk, TTSService
from server.speech.tts_audio import decode_mp3
from server.speech.tts_base import TTSError
from server.speech.tts_edge import EdgeEngine
from server.speech.tts_gender import resample_by
from server.speech.tts_piper import PiperEngine
from server.speech.tts_text import MAX_SENTENCE_CHARS, split_sentences

QUESTION = "Tell me about a project you are proud of. What was your role in it? How did you measure success?"


@pytest.fixture(scope="session")
def piper() -> PiperEngine:
    engine = PiperEngine()
    engine.load_sync("male")
    return engine


@pytest.fixture
async def tts(piper: PiperEngine, tmp_path: Path) -> AsyncIterator[TTSService]:
    service = TTSService([piper], tmp_path / "uploads")
    yield service
    await service.close()


async def collect(service: TTSService, text: str, voice: str) -> list[AudioChunk]:
    return [chunk async for chunk in service.stream(text, voice)]


def samples(chunks: list[AudioChunk]) -> np.ndarray:
    return np.frombuffer(b"".join(chunk.pcm for chunk in chunks), dtype="<i2").astype(np.float64)


def median_f0(audio: np.ndarray, rate: int) -> float:
    """Median F0 of voiced 40 ms frames by plain autocorrelation (independent of the server's tracker)."""
    win, hop = int(0.04 * rate), int(0.01 * rate)
    lo, hi = int(rate / 400), int(rate / 60)
    frames = np.lib.stride_tricks.sliding_window_view(audio, win)[::hop]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames * frames).sum(axis=1)
    spectrum = np.fft.rfft(frames, 2 * win)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, 2 * win)[:, :win]
    f0s = []
    for row, e in zip(corr, energy, strict=True):
        if e < energy.max() * 0.01:
            continue
        norm = row[lo:hi] / row[0]
        if norm.max() < 0.5:
            continue
        lag = lo + int(np.argmax(norm >= 0.9 * norm.max()))  # the shortest lag near the best: no octave drop
        f0s.append(rate / lag)
    assert len(f0s) > 20, "too few voiced frames"
    return float(np.median(f0s))


# ------------------------------------------------------------------------------------------------ text


def test_split_sentences_keeps_abbreviations_and_decimals() -> None:
    """Sentences split at . ! ? but not after Dr., e.g. or inside 3.5, and newlines split too."""
    text = "Dr. Smith rated it 3.5 stars. Was it e.g. fast?  Yes!\nNext line"
    assert split_sentences(text) == [
        "Dr. Smith rated it 3.5 stars.",
        "Was it e.g. fast?",
        "Yes!",
        "Next line",
    ]


def test_long_sentence_is_cut_at_a_clause() -> None:
    """A sentence over the cap is cut at a comma so the first chunk stays quick."""
    text = ", ".join(["this clause has a handful of words"] * 12) + "."
    pieces = split_sentences(text)
    assert len(pieces) > 1
    assert all(len(piece) <= MAX_SENTENCE_CHARS for piece in pieces)
    assert " ".join(pieces) == text


# ----------------------------------------------------------------------------------------------- voices


@pytest.mark.parametrize("voice", ["male", "female"])
async def test_voice_produces_non_silent_pcm16(tts: TTSService, voice: str) -> None:
    """Both voices give 22.05 kHz PCM16 that is loud enough and not clipped."""
    chunks = await collect(tts, "Please introduce yourself.", voice)
    assert [chunk.sample_rate for chunk in chunks] == [22050]
    audio = samples(chunks)
    assert len(chunks[0].pcm) % 2 == 0 and audio.size > 22050 * 0.5
    assert np.sqrt(np.mean(audio**2)) > 1000
    assert np.abs(audio).max() < 32767


async def test_female_voice_is_measurably_higher(tts: TTSService) -> None:
    """The female voice's median F0 is far above the male's (about 90 Hz against about 190 Hz)."""
    text = "Could you walk me through how you would design a reliable message queue for our team?"
    male = median_f0(samples(await collect(tts, text, "male")), 22050)
    female = median_f0(samples(await collect(tts, text, "female")), 22050)
    assert male < 140 < 160 < female
    assert female > 1.6 * male


async def test_female_voice_keeps_the_duration(tts: TTSService) -> None:
    """The formant shift does not speed the female voice up or slow it down noticeably."""
    male = await tts.synthesize(QUESTION, "male")
    female = await tts.synthesize(QUESTION, "female")
    assert 0.85 < female.duration_s / male.duration_s < 1.15


def test_resample_by_keeps_a_tone_in_tune() -> None:
    """Reading a 200 Hz tone 1.2 times faster gives 240 Hz and 1/1.2 of the samples."""
    rate = 22050
    tone = np.sin(2 * np.pi * 200 * np.arange(rate) / rate)
    out = resample_by(tone, 1.2)
    assert abs(out.size - rate / 1.2) <= 1
    peak = np.argmax(np.abs(np.fft.rfft(out * np.hanning(out.size)))) * rate / out.size
    assert abs(peak - 240) < 3


# -------------------------------------------------------------------------------------------- streaming


async def test_stream_yields_one_chunk_per_sentence_first_before_the_end(tts: TTSService) -> None:
    """Streaming gives one chunk per sentence, and the first arrives before the whole text is done."""
    cache_dir = tts.cache.dir
    chunks = []
    async for chunk in tts.stream(QUESTION, "male"):
        if not chunks:
            assert not list(cache_dir.glob("*.wav")), "the first chunk came only after the file was written"
        chunks.append(chunk)
    assert [chunk.text for chunk in chunks] == split_sentences(QUESTION)
    assert [chunk.index for chunk in chunks] == [0, 1, 2]
    assert list(cache_dir.glob("*.wav"))


async def test_cache_hit_returns_the_same_file_at_once(tts: TTSService) -> None:
    """A second request for the same text reuses the file without synthesising, in milliseconds."""
    first = await tts.synthesize(QUESTION, "female")
    path = tts.cache.root / first.path
    mtime = path.stat().st_mtime_ns
    started = time.perf_counter()
    second = await tts.synthesize("  " + QUESTION + "\n", "female")
    elapsed = time.perf_counter() - started
    assert second == first and path.stat().st_mtime_ns == mtime
    assert tts.stats.synthesized == 1 and tts.stats.cache_hits == 1
    assert elapsed < 0.1


async def test_cached_text_streams_chunk_by_chunk_at_once(tts: TTSService) -> None:
    """A cached text streams its sentences from disk, the first within a few milliseconds."""
    cached = await tts.synthesize(QUESTION, "male")
    started = time.perf_counter()
    stream = tts.stream(QUESTION, "male")
    first = await anext(stream)
    latency = time.perf_counter() - started
    rest = [chunk async for chunk in stream]
    assert latency < 0.1
    assert [first.text] + [chunk.text for chunk in rest] == [text for text, _, _ in cached.sentences]
    assert sum(chunk.samples for chunk in [first, *rest]) == round(cached.duration_s * cached.sample_rate)
    assert tts.stats.synthesized == 1


async def test_concurrent_requests_for_one_text_synthesise_once(tts: TTSService) -> None:
    """Requests racing for the same text share one synthesis and one file."""
    text = "What does good code review look like to you?"
    streams = asyncio.gather(collect(tts, text, "male"), collect(tts, text, "male"))
    results = await asyncio.gather(*(tts.synthesize(text, "male") for _ in range(4)))
    streamed = [b"".join(chunk.pcm for chunk in chunks) for chunks in await streams]
    assert len({result.path for result in results}) == 1
    assert tts.stats.synthesized == 1
    assert streamed[0] == streamed[1]


async def test_invalid_requests_are_rejected(tts: TTSService) -> None:
    """Empty or too long text and unknown voices raise InvalidInput naming the field."""
    tts.max_chars = 50
    for text, voice, field in (
        ("   ", "male", "text"),
        ("x" * 51, "male", "text"),
        ("Hi.", "robot", "voice"),
    ):
        with pytest.raises(InvalidInput) as caught:
            await tts.synthesize(text, voice)
        assert field in caught.value.details
    with pytest.raises(InvalidInput):
        tts.stream("", "male")


# --------------------------------------------------------------------------------------------- prefetch


async def test_prefetch_fills_the_cache(tts: TTSService) -> None:
    """Prefetched questions are synthesised in the background and then served from the cache."""
    questions = ["How do you prioritise work?", "Describe a bug you are proud of fixing."]
    tts.prefetch(questions, "female")
    deadline = time.monotonic() + 60
    while len(list(tts.cache.dir.glob("*.json"))) < 2:
        assert time.monotonic() < deadline, "prefetch did not finish"
        await asyncio.sleep(0.05)
    for question in questions:
        await tts.synthesize(question, "female")
    assert tts.stats.synthesized == 2 and tts.stats.cache_hits == 2


async def test_prefetch_never_raises_and_close_cancels_it(tts: TTSService) -> None:
    """Bad texts and voices are skipped quietly, and close() cancels what is still queued."""
    tts.prefetch(["", "x" * 5000, "A fine question?"], "robot")
    tts.prefetch(["", "x" * 5000], "male")
    assert tts.stats.synthesized == 0
    tts.prefetch([f"Question number {n}?" for n in range(5)], "male")
    await asyncio.sleep(0)
    await tts.close()
    assert not tts._tasks
    assert tts.stats.synthesized <= 1


# ------------------------------------------------------------------------------------------ edge-tts


@pytest.fixture
def refusing_port() -> int:
    """A loopback port with nothing listening (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_proxy() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


async def test_edge_fails_fast_when_refused(refusing_port: int) -> None:
    """edge-tts raises TTSError at once when the connection is refused."""
    edge = EdgeEngine(connect_timeout_s=2.0, proxy=f"http://127.0.0.1:{refusing_port}")
    started = time.perf_counter()
    with pytest.raises(TTSError):
        await edge.fetch_mp3("Hello there.", "female")
    assert time.perf_counter() - started < 2.0


async def test_edge_gives_up_within_the_connect_timeout(silent_proxy: int) -> None:
    """A peer that accepts and never answers costs no more than the connect timeout."""
    edge = EdgeEngine(connect_timeout_s=0.5, proxy=f"http://127.0.0.1:{silent_proxy}")
    started = time.perf_counter()
    with pytest.raises(TTSError):
        await edge.fetch_mp3("Hello there.", "male")
    assert time.perf_counter() - started < 1.5


async def test_edge_falls_back_to_piper_offline(
    piper: PiperEngine, tmp_path: Path, silent_proxy: int
) -> None:
    """With edge unreachable, Piper answers within the timeout, and edge is skipped while it cools down."""
    edge = EdgeEngine(connect_timeout_s=0.5, proxy=f"http://127.0.0.1:{silent_proxy}")
    service = TTSService([edge, piper], tmp_path / "uploads")
    try:
        started = time.perf_counter()
        first = await anext(service.stream("Welcome to your interview. Let us begin.", "female"))
        assert time.perf_counter() - started < 0.5 + 5.0
        assert first.sample_rate == 22050 and service.stats.fallbacks == 1
        cached = await service.synthesize("Welcome to your interview. Let us begin.", "female")
        assert cached.engine == "piper"
        await service.synthesize("Thank you.", "male")
        assert service.stats.fallbacks == 1  # edge was not tried again
    finally:
        await service.close()


def test_decode_mp3_gives_pcm16_at_the_requested_rate() -> None:
    """An MP3 (made here with PyAV's LAME encoder) decodes to mono PCM16 of the right length."""
    rate = 24000
    tone = (np.sin(2 * np.pi * 220 * np.arange(rate) / rate) * 12000).astype("<i2")
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    pcm = decode_mp3(buffer.getvalue(), 16000)
    assert abs(len(pcm) // 2 - 16000) < 2000
    assert np.abs(np.frombuffer(pcm, "<i2")).max() > 5000
    with pytest.raises(TTSError):
        decode_mp3(b"not an mp3 at all", 16000)
