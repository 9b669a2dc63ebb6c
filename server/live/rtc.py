"""WebRTC ingest with aiortc: the candidate's microphone (and camera) arrive here, signalled over the room.

Audio is resampled to 16 kHz mono PCM16 and handed to ``on_audio`` in 20 ms-ish chunks (the same path as
PCM frames sent over the socket). The camera is recorded per answer (``start_video`` / ``stop_video``).
ICE servers come from settings (none by default: a public STUN server stalls an offline machine).

The candidate's tracks go through one ``MediaRelay``, so HR viewers (:class:`RtcViewer`) watch them live:
each source is received and decoded once; aiortc encodes once per viewer (it cannot forward encoded
frames). Viewers subscribe unbuffered: a slow viewer skips frames rather than queueing them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRecorder, MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from server.live.audio import SAMPLE_RATE
from server.logs import log

OPUS_CLOCK_KHZ = 48.0  # RTP clock of Opus: jitter is reported in its units


def ice_servers(raw: str | None) -> list[dict[str, Any]]:
    """``VIVA_ICE_SERVERS``: a JSON list of ``{"urls": .., "username": .., "credential": ..}`` objects."""
    if not raw:
        return []
    servers = json.loads(raw)
    return [s for s in servers if isinstance(s, dict) and s.get("urls")]


class RtcIngest:
    """One candidate's peer connection. Call ``accept_offer`` with the browser's SDP; ``close`` at the end."""

    def __init__(self, on_audio: Callable[[bytes], None], *, ice: list[dict[str, Any]]) -> None:
        config = RTCConfiguration([RTCIceServer(**server) for server in ice])
        self.pc = RTCPeerConnection(configuration=config)
        self._on_audio = on_audio
        self._recorder: MediaRecorder | None = None
        self._recording: Path | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.relay = MediaRelay()
        self.tracks: dict[str, MediaStreamTrack] = {}  # the candidate's tracks by kind, for viewers
        self.connected = asyncio.Event()
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self.connected.set()
        log.info("rtc_state", state=state)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.tracks.setdefault(track.kind, track)
        if track.kind == "audio":
            task = asyncio.create_task(self._pump_audio(self.relay.subscribe(track)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump_audio(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):  # type: ignore[arg-type]
                self._on_audio(out.to_ndarray().tobytes())

    async def audio_stats(self) -> tuple[int, int, float] | None:
        """The audio receiver's (packets received, packets lost, jitter in ms), or None before media."""
        try:
            report = await self.pc.getStats()
        except Exception:  # closed meanwhile
            return None
        for stats in report.values():
            if getattr(stats, "type", "") == "inbound-rtp" and getattr(stats, "kind", "") == "audio":
                return int(stats.packetsReceived), int(stats.packetsLost), stats.jitter / OPUS_CLOCK_KHZ
        return None

    async def start_video(self, path: Path) -> bool:
        """Record the camera to ``path`` (WebM) until :meth:`stop_video`; False when there is no camera or
        a recording is already running."""
        track = self.tracks.get("video")
        if track is None or self._recorder is not None:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        recorder = MediaRecorder(str(path))
        recorder.addTrack(self.relay.subscribe(track))
        await recorder.start()
        self._recorder, self._recording = recorder, path
        return True

    async def stop_video(self) -> Path | None:
        """Finish the running recording; returns its file, or None when nothing usable was recorded."""
        recorder, path = self._recorder, self._recording
        self._recorder = self._recording = None
        if recorder is None or path is None:
            return None
        try:
            await recorder.stop()
        except Exception as exc:  # a recorder that never got a frame
            log.warning("rtc_recorder_stop_failed", error_type=type(exc).__name__)
        if path.exists() and path.stat().st_size > 0:
            return path
        path.unlink(missing_ok=True)
        return None

    async def accept_offer(self, sdp: str) -> str:
        """Set the browser's offer and return our answer SDP (ICE candidates gathered into it)."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return str(self.pc.localDescription.sdp)

    async def add_candidate(self, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None) -> None:
        if not candidate:
            return
        parsed = candidate_from_sdp(
            candidate.split(":", 1)[1] if candidate.startswith("candidate:") else candidate
        )
        parsed.sdpMid, parsed.sdpMLineIndex = sdp_mid, sdp_mline_index
        await self.pc.addIceCandidate(parsed)

    async def close(self) -> None:
        """Close the connection; a recording still running is finished (its file kept for the caller)."""
        await self.stop_video()
        await self.pc.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class RtcViewer:
    """HR's receive-only peer connection showing a candidate's live camera and microphone."""

    def __init__(self, source: RtcIngest, *, ice: list[dict[str, Any]]) -> None:
        config = RTCConfiguration([RTCIceServer(**server) for server in ice])
        self.pc = RTCPeerConnection(configuration=config)
        self.source = source

    async def accept_offer(self, sdp: str) -> str:
        """Answer HR's offer (recvonly audio/video) with the candidate's tracks; returns the answer SDP.

        Raises LookupError when the candidate sends no media yet.
        """
        if not self.source.tracks:
            raise LookupError("the candidate sends no media yet")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        wanted = {transceiver.kind for transceiver in self.pc.getTransceivers()}
        for kind, track in self.source.tracks.items():
            if kind in wanted:  # fills the offer's transceiver of that kind
                self.pc.addTrack(self.source.relay.subscribe(track, buffered=False))
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return str(self.pc.localDescription.sdp)

    async def close(self) -> None:
        await self.pc.close()
