"""PCM helpers for TTS: float → PCM16, WAV files written atomically, and MP3 → PCM16 with PyAV.

Everything here is synchronous and CPU- or disk-bound: async callers run it in a worker thread.
"""

from __future__ import annotations

import io
import os
import tempfile
import wave
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from server.speech.tts_base import PCM_SAMPLE_WIDTH, TTSError

FloatArray = npt.NDArray[np.float64]
PEAK = 0.89  # about -1 dBFS: room for the resampler's ringing without clipping


def float_to_pcm16(audio: npt.NDArray[np.floating], peak: float = PEAK) -> bytes:
    """Scale ``audio`` so its loudest sample sits at ``peak`` of full scale, then convert to PCM16 bytes."""
    samples = np.asarray(audio, dtype=np.float64)
    top = float(np.max(np.abs(samples))) if samples.size else 0.0
    if top > 1e-6:
        samples = samples * (peak / top)
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def pcm16_to_float(pcm: bytes) -> FloatArray:
    """PCM16 bytes as floats in [-1, 1]."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def write_wav(path: Path, pcm_parts: Iterable[bytes], sample_rate: int) -> None:
    """Write mono PCM16 ``pcm_parts`` to ``path`` atomically (a temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tts-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw:
            with wave.open(raw, "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(PCM_SAMPLE_WIDTH)
                wav.setframerate(sample_rate)
                for part in pcm_parts:
                    wav.writeframes(part)
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tts-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_wav(path: Path) -> tuple[bytes, int]:
    """The PCM16 mono samples and the sample rate of a WAV this module wrote."""
    with wave.open(str(path), "rb") as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != PCM_SAMPLE_WIDTH:
            raise TTSError(f"{path.name}: not a mono PCM16 WAV")
        return wav.readframes(wav.getnframes()), wav.getframerate()


def decode_mp3(data: bytes, sample_rate: int) -> bytes:
    """Decode MP3 bytes (e.g. from edge-tts) to PCM16 mono at ``sample_rate``; raises ``TTSError``."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r", format="mp3") as container:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
            out = bytearray()
            for frame in container.decode(audio=0):
                for converted in resampler.resample(frame):
                    out += bytes(converted.planes[0])[: converted.samples * PCM_SAMPLE_WIDTH]
            for converted in resampler.resample(None):
                out += bytes(converted.planes[0])[: converted.samples * PCM_SAMPLE_WIDTH]
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise TTSError("could not decode the MP3 audio") from exc
    if not out:
        raise TTSError("the MP3 audio has no samples")
    return bytes(out)
