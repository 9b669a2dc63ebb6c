"""A browser stand-in for WebRTC: a real aiortc peer whose microphone plays queued speech (else silence)."""

from __future__ import annotations

import asyncio
import fractions
import json
import time
from typing import Any

import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from websockets.asyncio.client import ClientConnection, connect

RATE = 48_000
SAMPLES = 960  # 20 ms


class Microphone(AudioStreamTrack):
    """48 kHz mono PCM16 in real time: queued speech, silence otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = bytearray()
        self.drained = asyncio.Event()  # set once every queued sample has been sent
        self.drained.set()
        self._pts = 0
        self._start: float | None = None

    def say(self, pcm: np.ndarray, rate: int) -> None:
        resampled = np.interp(np.arange(0, len(pcm), rate / RATE), np.arange(len(pcm)), pcm).astype(np.int16)
        self.pending += resampled.tobytes()
        self.drained.clear()

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = bytes(self.pending[: SAMPLES * 2])
        del self.pending[: SAMPLES * 2]
        if not self.pending:
            self.drained.set()
        chunk += bytes(SAMPLES * 2 - len(chunk))
        frame = av.AudioFrame.from_ndarray(
            np.frombuffer(chunk, np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._pts, fractions.Fraction(1, RATE)
        self._pts += SAMPLES
        return frame


class Camera(VideoStreamTrack):
    """A small, slow test camera (320x240 at 10 fps, moving grey levels): cheap to encode on two cores."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        shade = (pts // 3000) % 200 + 30
        frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), shade, np.uint8), format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        await asyncio.sleep(0.066)  # with next_timestamp's own pacing: about 10 frames a second
        return frame


class RtcCandidate:
    def __init__(self, ws: ClientConnection, *, camera: bool = False) -> None:
        self.ws = ws
        self.mic = Microphone()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(self.mic)
        if camera:
            self.pc.addTrack(Camera())
        self.messages: list[dict[str, Any]] = []
        self.backlog: list[dict[str, Any]] = []  # read, passed over by an expect, not yet asked for

    @classmethod
    async def connect(cls, url: str, *, camera: bool = False) -> RtcCandidate:
        return cls(await connect(url, max_size=None), camera=camera)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def offer(self) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send({"type": "rtc.offer", "sdp": self.pc.localDescription.sdp, "id": "offer-1"})
        answer = await self.expect("rtc.answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

    async def expect(self, kind: str, within_s: float = 60) -> dict[str, Any]:
        """The first unread message of ``kind`` (fails on an ``error``). Messages passed over are kept for a
        later expect: with early advance the next question may start before this answer's transcript."""
        return await self.expect_any((kind,), within_s, errors=True)

    async def expect_any(
        self, kinds: tuple[str, ...], within_s: float = 90, *, errors: bool = False
    ) -> dict[str, Any]:
        for message in self.backlog:
            if message["type"] in kinds:
                self.backlog.remove(message)
                return message
        async with asyncio.timeout(within_s):
            while True:
                message = await self.expect_one()
                if message["type"] in kinds:
                    return message
                if errors and message["type"] == "error":
                    raise AssertionError(message)
                self.backlog.append(message)

    async def expect_one(self) -> dict[str, Any]:
        while True:
            frame = await self.ws.recv()
            if isinstance(frame, bytes):
                continue
            message: dict[str, Any] = json.loads(frame)
            self.messages.append(message)
            return message

    async def close(self) -> None:
        await self.pc.close()
        await self.ws.close()
