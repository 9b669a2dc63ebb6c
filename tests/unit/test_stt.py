"""Speech recognition pool, media decoding and delivery analysis on real audio made by the bundled voice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from server.domain.errors import ServiceUnavailable, UploadRejected
from server.speech import delivery, media
from server.speech.stt import SAMPLE_RATE, STTPool, Transcriber, Word
from tests.media import ANSWER_TEXT, speech, word_error_rate, write_recording


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    model = Transcriber(cpu_threads=2)
    model.load()
    return model


@pytest.fixture(scope="module")
def answer_audio(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    pcm, rate = speech()
    path = write_recording(tmp_path_factory.mktemp("media") / "answer.webm", pcm, rate)
    return media.decode_audio(path)


def test_decode_gives_16k_mono_float(answer_audio: np.ndarray) -> None:
    """Decoded audio is 16 kHz mono float32 in [-1, 1], as long as the recording (speech + 1 s padding)."""
    pcm, rate = speech()
    assert answer_audio.dtype == np.float32 and answer_audio.ndim == 1
    assert abs(len(answer_audio) / SAMPLE_RATE - (len(pcm) / rate + 1.0)) < 0.1
    assert 0.1 < float(np.abs(answer_audio).max()) <= 1.0


def test_transcript_words_and_confidence(transcriber: Transcriber, answer_audio: np.ndarray) -> None:
    """The bundled tiny.en model transcribes with a low WER, ordered word times and a confidence."""
    result = transcriber.transcribe(answer_audio)
    assert word_error_rate(ANSWER_TEXT, result.text) < 0.3, result.text
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and len(result.words) >= 20
    assert result.confidence is not None and 0.5 < result.confidence <= 1.0
    assert result.model == "tiny.en (bundled)"


def test_silence_gives_empty_transcript(transcriber: Transcriber) -> None:
    """Three seconds of silence transcribe to nothing (VAD drops it), not to hallucinated words."""
    result = transcriber.transcribe(np.zeros(3 * SAMPLE_RATE, np.float32))
    assert result.text == "" and result.confidence is None


async def test_pool_serves_concurrent_requests_and_refuses_overflow(transcriber: Transcriber) -> None:
    """Queued requests all complete in order of arrival; past the queue bound a request is refused."""
    pool = STTPool(transcriber, workers=1, queue_size=2)
    audio = np.zeros(SAMPLE_RATE, np.float32)
    try:
        first = asyncio.create_task(pool.transcribe(audio))
        await asyncio.sleep(0.05)  # the worker has taken the first one
        queued = [asyncio.create_task(pool.transcribe(audio)) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(ServiceUnavailable):
            await pool.transcribe(audio)
        results = await asyncio.wait_for(asyncio.gather(first, *queued), 30)
        assert [r.text for r in results] == ["", "", ""]
    finally:
        await pool.close()


async def test_pool_serves_urgent_requests_before_background_ones(
    transcriber: Transcriber, answer_audio: np.ndarray
) -> None:
    """A request somebody waits for overtakes queued speculative ones; a queued job can be withdrawn, a
    running one cannot; ``idle`` is true only with no work queued or running."""
    pool = STTPool(transcriber, workers=1, queue_size=8)
    audio = np.zeros(SAMPLE_RATE, np.float32)
    finished: list[str] = []
    try:
        assert pool.idle
        running = pool.submit(answer_audio, urgent=False)
        await asyncio.sleep(0.05)  # the worker has taken it
        assert running.started and not pool.idle and not running.cancel()
        background = [pool.submit(audio, urgent=False) for _ in range(2)]
        withdrawn = pool.submit(audio, urgent=False)
        urgent = pool.submit(audio, urgent=True)
        assert withdrawn.cancel() and not withdrawn.started
        for name, job in [
            ("running", running),
            ("bg1", background[0]),
            ("bg2", background[1]),
            ("urgent", urgent),
        ]:
            job.future.add_done_callback(lambda _, name=name: finished.append(name))
        await asyncio.wait_for(asyncio.gather(*(j.future for j in [running, *background, urgent])), 30)
        assert finished == ["running", "urgent", "bg1", "bg2"]
        assert withdrawn.future.cancelled() and pool.idle
    finally:
        await pool.close()


async def test_pool_offers_no_spare_time_after_a_busy_spell(
    transcriber: Transcriber, answer_audio: np.ndarray
) -> None:
    """``idle`` (room for speculative work) is false while the recent past was mostly busy, true again
    once that busy spell has left the load window."""
    pool = STTPool(transcriber, workers=1, load_window_s=1.0, spare_below=0.2)
    try:
        assert pool.idle and pool.busy_share() == 0
        await asyncio.wait_for(pool.transcribe(answer_audio), 30)
        assert pool.busy_share() >= 0.2 and not pool.idle  # the last second was mostly transcription
        await asyncio.sleep(1.1)
        assert pool.busy_share() == 0 and pool.idle
    finally:
        await pool.close()


def test_probe_refuses_video_without_audio(tmp_path: Path) -> None:
    """A recording with no audio track is refused with a clear message."""
    pcm, rate = speech()
    path = write_recording(tmp_path / "v.webm", pcm, rate)
    assert media.probe(path).audio_codec == "opus"
    garbage = tmp_path / "g.webm"
    garbage.write_bytes(b"not a media file at all" * 10)
    with pytest.raises(UploadRejected):
        media.probe(garbage)


def _words(text: str, gap: float = 0.1, every: float = 0.4) -> list[Word]:
    out, t = [], 0.0
    for token in text.split():
        out.append(Word(t, t + every - gap, token, 0.9))
        t += every
    return out


def test_delivery_counts_fillers_pauses_and_pace() -> None:
    """Fillers, long pauses and pace are measured from word timings and drive the confidence label."""
    fluent = "I built the service in Python and I tested it carefully before we shipped it to users"
    steady = delivery.analyse(fluent, _words(fluent), 0.9)
    assert steady.fillers == 0 and steady.confidence == "high" and 130 < (steady.words_per_minute or 0) < 170
    halting = "um I uh built like the um service you know in uh Python"
    words = _words(halting)
    words[5] = Word(words[4].end + 2.5, words[4].end + 2.8, words[5].word, 0.9)
    words[8] = Word(words[7].end + 3.0, words[7].end + 3.3, words[8].word, 0.9)
    hesitant = delivery.analyse(halting, words, 0.6)
    assert hesitant.fillers >= 5 and hesitant.long_pauses >= 1 and hesitant.confidence in ("medium", "low")
    assert hesitant.longest_pause_s >= 2.5


def test_sentiment_is_lexical_and_negation_aware() -> None:
    """Word sentiment: positive words count up, negated ones flip, neutral text stays neutral."""
    assert delivery.sentiment("i really enjoyed it and was proud of the great result".split()) == "positive"
    assert delivery.sentiment("i was not happy and it was a terrible failure".split()) == "negative"
    assert delivery.sentiment("the service reads from a queue".split()) == "neutral"


def test_joined_pieces_keep_times_and_text(transcriber: Transcriber, answer_audio: np.ndarray) -> None:
    """Pieces transcribed separately join into one transcript with times shifted by each piece's offset."""
    from server.speech.stt import join_transcripts

    half = len(answer_audio) // 2
    first = transcriber.transcribe(answer_audio[:half])
    second = transcriber.transcribe(answer_audio[half:])
    joined = join_transcripts([(0.0, first), (half / SAMPLE_RATE, second)])
    assert joined.text == f"{first.text} {second.text}".strip()
    assert joined.words[-1].end > half / SAMPLE_RATE
    starts = [w.start for w in joined.words]
    assert starts == sorted(starts)
