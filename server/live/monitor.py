"""The HR monitor socket ``/ws/monitor/{id}``: the interview's state on joining, then its event stream
(history replayed from the EventBus, then live, from whichever instance publishes), and HR's actions.

A monitor that stops reading only slows its own forwarding task: events stay in the EventBus (bounded
per channel), never in a per-socket queue, so a slow consumer cannot grow the server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from protocol.messages import (
    CloseCode,
    ErrorMessage,
    Hello,
    Ping,
    Pong,
    ProtocolError,
    RtcAnswer,
    RtcOffer,
    SessionMoved,
    encode,
)
from protocol.monitor import (
    MonitorAck,
    MonitorClientMessage,
    MonitorEnd,
    MonitorFollowUp,
    MonitorNote,
    MonitorState,
    MonitorWelcome,
    parse_monitor_message,
)
from server.domain.errors import VivaError
from server.live import hr
from server.live.handshake import CLOSE_FOR, admit
from server.live.limits import SocketQuota
from server.live.rtc import RtcViewer, ice_servers
from server.logs import log
from server.services import Services
from server.store.channels import events_channel, snapshot_key

router = APIRouter()
_watching: Counter[str] = Counter()


@router.websocket("/ws/monitor/{interview_id}")
async def monitor_socket(websocket: WebSocket, interview_id: str) -> None:
    services: Services = websocket.app.state.services

    async def join(hello: Hello) -> tuple[hr.Watcher, MonitorState]:
        watcher = await hr.watch(services, hello.token, interview_id)
        if _watching[interview_id] >= services.settings.monitor_max_per_session:
            raise ProtocolError(CloseCode.RATE_LIMITED, "too many monitors on this interview", fatal=True)
        return watcher, await hr.monitor_state(services, interview_id)

    admitted = await admit(websocket, services, join)
    if admitted is None:
        return
    hello, (watcher, state), quota = admitted
    after = hello.last_seq or 0
    welcome = MonitorWelcome(id=hello.id, interview_id=interview_id, from_seq=after, state=state)
    _watching[interview_id] += 1
    try:
        await websocket.send_text(encode(welcome))
        await _watch(services, websocket, watcher, after, quota)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        quota.release()
        _watching[interview_id] -= 1
        if _watching[interview_id] <= 0:
            del _watching[interview_id]


async def _watch(
    services: Services, websocket: WebSocket, watcher: hr.Watcher, after: int, quota: SocketQuota
) -> None:
    """Forward the stream and take HR's messages until either side stops (one sender at a time)."""
    lock, viewers = asyncio.Lock(), Viewers()
    forward = asyncio.create_task(_forward(services, websocket, watcher.interview_id, after, lock))
    try:
        await _receive(services, websocket, watcher, lock, viewers, quota)
    finally:
        forward.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await forward
        await viewers.close()


async def _forward(
    services: Services, websocket: WebSocket, interview_id: str, after: int, lock: asyncio.Lock
) -> None:
    """Every event of the interview with ``seq`` greater than ``after``: history, then live."""
    channel = events_channel(interview_id)
    async with contextlib.aclosing(services.fanout.follow(channel, after)) as events:
        async for seq, event in events:
            async with lock:
                await websocket.send_text(json.dumps({**event, "seq": seq}, separators=(",", ":")))


async def _receive(
    services: Services,
    websocket: WebSocket,
    watcher: hr.Watcher,
    lock: asyncio.Lock,
    viewers: Viewers,
    quota: SocketQuota,
) -> None:
    while websocket.application_state == WebSocketState.CONNECTED:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if not await quota.allow():
            refusal = quota.refusal()
            async with lock:
                await _send(websocket, refusal.to_message())
                await websocket.close(int(refusal.code), refusal.message[:120])
            return
        if message.get("text") is None:
            reply: Any = ErrorMessage(code=CloseCode.BAD_MESSAGE, message="binary frames are not accepted")
            async with lock:
                await _send(websocket, reply)
            continue
        try:
            parsed = parse_monitor_message(message["text"])
            if isinstance(parsed, RtcOffer):
                reply = await viewers.offer(services, watcher.interview_id, parsed)
            else:
                reply = await _handle(services, watcher, parsed)
        except ProtocolError as exc:
            reply = ErrorMessage(id=exc.request_id, code=int(exc.code), message=exc.message)
        async with lock:
            await _send(websocket, reply)


async def _handle(services: Services, watcher: hr.Watcher, message: MonitorClientMessage) -> Any:
    """One client message → its reply (an ack, a pong or an error)."""
    try:
        if isinstance(message, Ping):
            return Pong(id=message.id)
        if isinstance(message, MonitorFollowUp):
            action_id, question_id = await hr.follow_up(services, watcher, message.text)
            return MonitorAck(id=message.id, action="follow_up", action_id=action_id, question_id=question_id)
        if isinstance(message, MonitorNote):
            action_id = await hr.note(services, watcher, message.text, message.question_id)
            return MonitorAck(id=message.id, action="note", action_id=action_id)
        if isinstance(message, MonitorEnd):
            action_id = await hr.end(services, watcher, message.reason)
            return MonitorAck(id=message.id, action="end", action_id=action_id)
    except VivaError as exc:
        code = CLOSE_FOR.get(type(exc), CloseCode.BAD_MESSAGE)
        return ErrorMessage(id=message.id, code=int(code), message=exc.public_message)
    except Exception as exc:
        log.error("monitor_action_failed", kind=message.type, error_type=type(exc).__name__)
        return ErrorMessage(
            id=message.id, code=int(CloseCode.INTERNAL), message="the action failed; try again"
        )
    what = "hello was already received" if isinstance(message, Hello) else f"{message.type} is not supported"
    return ErrorMessage(id=message.id, code=int(CloseCode.BAD_MESSAGE), message=what)


async def _send(websocket: WebSocket, message: Any) -> None:
    if websocket.application_state == WebSocketState.CONNECTED:
        await websocket.send_text(encode(message))


class Viewers:
    """The live video of one monitor socket: at most one receive-only peer connection at a time."""

    def __init__(self) -> None:
        self.viewer: RtcViewer | None = None

    async def offer(self, services: Services, interview_id: str, offer: RtcOffer) -> Any:
        """Answer HR's offer with the candidate's camera and microphone, when this instance receives them;
        else say where they are (``session.moved``) or that they are not there yet (4012)."""
        room = services.live.rooms.get(interview_id)
        connection = room.machine.connection if room else None
        source = room.rtc.get(connection) if room and connection is not None else None
        if source is None:
            owner = await services.store.owner(snapshot_key(interview_id))
            if room is None and owner and owner.startswith(("http://", "https://")):
                url = "ws" + owner.removeprefix("http").rstrip("/") + f"/ws/monitor/{interview_id}"
                return SessionMoved(id=offer.id, url=url)
            return ErrorMessage(id=offer.id, code=int(CloseCode.INVALID_PHASE), message=NO_VIDEO)
        viewer = RtcViewer(source, ice=ice_servers(services.settings.ice_servers))
        try:
            sdp = await viewer.accept_offer(offer.sdp)
        except Exception as exc:
            await viewer.close()
            log.warning("monitor_video_failed", error_type=type(exc).__name__)
            code, text = (
                (CloseCode.INVALID_PHASE, NO_VIDEO)
                if isinstance(exc, LookupError)
                else (CloseCode.BAD_MESSAGE, BAD_OFFER)
            )
            return ErrorMessage(id=offer.id, code=int(code), message=text)
        await self.close()
        self.viewer = viewer
        return RtcAnswer(id=offer.id, sdp=sdp)

    async def close(self) -> None:
        if self.viewer is not None:
            viewer, self.viewer = self.viewer, None
            await viewer.close()


NO_VIDEO = "the candidate's media is not connected yet; offer again once it is"
BAD_OFFER = "the offer could not be negotiated"
