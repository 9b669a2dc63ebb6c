"""Media files with PyAV: probe a container and decode its audio to 16 kHz mono float32.

CPU-bound and blocking: call from a thread. Errors are ``UploadRejected`` with a message for users.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from server.domain.errors import UploadRejected
from server.speech.stt import SAMPLE_RATE, Audio

VIDEO_FORMATS = {"webm", "matroska", "mov", "mp4", "m4a", "3gp", "3g2", "mj2", "ogg", "wav", "mp3"}


@dataclass(frozen=True)
class MediaInfo:
    container: str
    duration_s: float | None
    audio_codec: str | None
    video_codec: str | None
    width: int | None = None
    height: int | None = None


def probe(path: Path) -> MediaInfo:
    """Open the container and describe it; a file PyAV cannot open or with no audio is refused."""
    try:
        with av.open(str(path)) as container:
            formats = set(container.format.name.split(","))
            if not formats & VIDEO_FORMATS:
                raise UploadRejected(
                    "Unsupported media container", details={"video": [container.format.name]}
                )
            audio = next(iter(container.streams.audio), None)
            video = next(iter(container.streams.video), None)
            duration = container.duration / 1_000_000 if container.duration else None
            info = MediaInfo(
                container=container.format.name,
                duration_s=duration,
                audio_codec=audio.codec_context.name if audio else None,
                video_codec=video.codec_context.name if video else None,
                width=video.codec_context.width if video else None,
                height=video.codec_context.height if video else None,
            )
    except UploadRejected:
        raise
    except (av.error.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise UploadRejected(
            "The file is not a readable video or audio file",
            details={"video": ["Could not decode the media file"]},
        ) from exc
    if info.audio_codec is None:
        raise UploadRejected("The recording has no audio track", details={"video": ["No audio track"]})
    return info


def decode_audio(path: Path, max_seconds: float = 600.0) -> Audio:
    """The first audio track as 16 kHz mono float32 in [-1, 1], at most ``max_seconds`` long."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    limit = int(max_seconds * SAMPLE_RATE)
    total = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += chunk.size
                if total >= limit:
                    break
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        raise UploadRejected(
            "The recording's audio could not be decoded", details={"video": ["Undecodable audio"]}
        ) from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    pcm = np.concatenate(chunks)[:limit]
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)
