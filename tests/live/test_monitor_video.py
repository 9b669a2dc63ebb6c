"""HR watches the candidate's camera live: a receive-only WebRTC connection signalled over the monitor."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from websockets.asyncio.client import ClientConnection, connect

from tests.live.rtc_client import RtcCandidate
from tests.live.support import monitor_url, room_url, schedule_with_hr, token_of
from tests.support import Api


async def reply(ws: ClientConnection, request_id: str) -> dict[str, Any]:
    """The reply to ``request_id`` (stream frames in between are skipped)."""
    async with asyncio.timeout(30):
        while True:
            message: dict[str, Any] = json.loads(await ws.recv())
            if message.get("id") == request_id:
                return message


async def watch(ws: ClientConnection, request_id: str) -> tuple[RTCPeerConnection, dict[str, Any]]:
    """Offer to receive audio and video; returns the peer and the server's reply."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    await ws.send(json.dumps({"type": "rtc.offer", "id": request_id, "sdp": pc.localDescription.sdp}))
    answer = await reply(ws, request_id)
    if answer["type"] == "rtc.answer":
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    return pc, answer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_hr_sees_the_candidates_camera(api: Api) -> None:
    """Before the candidate's media is up an offer is refused (4012); once it is, HR's viewer receives the
    candidate's video frames and audio through the relay."""
    hr, _, interview_id, token = await asyncio.to_thread(schedule_with_hr, api)
    base = api.server.base_url
    monitor = await connect(monitor_url(base, interview_id))
    candidate = await RtcCandidate.connect(room_url(base, interview_id), camera=True)
    viewers: list[RTCPeerConnection] = []
    try:
        await monitor.send(json.dumps({"type": "hello", "token": token_of(hr["headers"]), "protocol": "1.0"}))
        assert json.loads(await monitor.recv())["type"] == "monitor.welcome"
        early, refused = await watch(monitor, "v0")
        viewers.append(early)
        assert refused["type"] == "error" and refused["code"] == 4012

        await candidate.send({"type": "hello", "token": token, "protocol": "1.0"})
        await candidate.expect("welcome")
        await candidate.offer()
        await candidate.expect("question.started")

        tracks: dict[str, MediaStreamTrack] = {}
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        viewers.append(pc)
        pc.on("track", lambda track: tracks.setdefault(track.kind, track))
        pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        await monitor.send(json.dumps({"type": "rtc.offer", "id": "v1", "sdp": pc.localDescription.sdp}))
        answer = await reply(monitor, "v1")
        assert answer["type"] == "rtc.answer", answer
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        assert {"video", "audio"} <= set(tracks)
        async with asyncio.timeout(30):
            frame = await tracks["video"].recv()
            sound = await tracks["audio"].recv()
        assert (frame.width, frame.height) == (320, 240)
        assert sound.sample_rate > 0
        async with asyncio.timeout(30):  # the receiver's counters reach the monitors too
            while True:
                event = json.loads(await monitor.recv())
                if event["type"] == "connection.quality" and "packet_loss" in event:
                    break
        assert event["transport"] == "webrtc" and 0 <= event["packet_loss"] <= 1 and event["jitter_ms"] >= 0
    finally:
        for pc in viewers:
            await pc.close()
        await candidate.close()
        await monitor.close()
