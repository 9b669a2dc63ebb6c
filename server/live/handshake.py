"""The opening of every live socket (room and monitor): accept, read ``hello`` in time, let the caller
admit it, and turn each refusal into its close code (``protocol/README.md``, "Connection")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import WebSocket
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from protocol.messages import (
    CloseCode,
    ErrorMessage,
    Hello,
    ProtocolError,
    SessionMoved,
    encode,
    parse_hello,
)
from server.domain.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound, VivaError
from server.live.limits import SocketQuota
from server.logs import log
from server.services import Services

T = TypeVar("T")

CLOSE_FOR: dict[type[VivaError], CloseCode] = {
    NotAuthenticated: CloseCode.UNAUTHORIZED,
    NotFound: CloseCode.NOT_FOUND,
    Forbidden: CloseCode.FORBIDDEN,
    InvalidInput: CloseCode.INVALID_PHASE,
}


class SessionElsewhere(Exception):
    """Another instance holds the interview's live session (its lease in the SessionStore)."""

    def __init__(self, owner: str) -> None:
        super().__init__("the session is held by another instance")
        self.owner = owner


async def admit(
    websocket: WebSocket, services: Services, join: Callable[[Hello], Awaitable[T]]
) -> tuple[Hello, T, SocketQuota] | None:
    """Accept the socket (within the instance's socket limits), its ``hello``, then ``join(hello)``.

    Returns the hello, what ``join`` returned and the socket's quota, which the caller must ``release``
    when the socket closes. None when the socket was refused and closed: 4029 over the limits, 4008
    without hello in time, the ProtocolError's code, the domain error's, 4307 held elsewhere, 4500 when
    the database or the session store failed (the client may retry).
    """
    await websocket.accept()
    try:
        quota = services.sockets.admit(websocket.client.host if websocket.client else None)
    except ProtocolError as exc:
        await websocket.close(int(exc.code), exc.message[:120])
        return None
    joined = await _join(websocket, services, join)
    if joined is None:
        quota.release()
        return None
    return joined[0], joined[1], quota


async def _join(
    websocket: WebSocket, services: Services, join: Callable[[Hello], Awaitable[T]]
) -> tuple[Hello, T] | None:
    hello: Hello | None = None
    try:
        frame = await asyncio.wait_for(websocket.receive(), services.settings.live_hello_timeout_s)
        hello = parse_hello(_first_text(frame))
        return hello, await join(hello)
    except SessionElsewhere as exc:
        await _moved(websocket, exc.owner, hello.id if hello else None)
    except TimeoutError:
        await websocket.close(CloseCode.TIMEOUT, "no hello")
    except ProtocolError as exc:
        await _refuse(websocket, exc.code, exc.message, exc.request_id)
    except VivaError as exc:
        code = CLOSE_FOR.get(type(exc), CloseCode.FORBIDDEN)
        await _refuse(websocket, code, exc.public_message, hello.id if hello else None)
    except (WebSocketDisconnect, RuntimeError):
        pass
    except Exception as exc:  # the database or the session store is unreachable: the client may retry
        log.error("live_join_failed", error_type=type(exc).__name__)
        message = "the session could not be opened; try again shortly"
        await _refuse(websocket, CloseCode.INTERNAL, message, hello.id if hello else None)
    return None


def _first_text(frame: Message) -> str:
    """The text of the socket's first frame; a binary frame (audio before ``hello``) is refused with 4001,
    and a disconnect ends the handshake."""
    if frame["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(frame.get("code", 1000))
    text = frame.get("text")
    if text is None:
        raise ProtocolError(CloseCode.UNAUTHORIZED, "the first message must be hello", fatal=True)
    return str(text)


async def _refuse(websocket: WebSocket, code: int, message: str, request_id: str | None) -> None:
    """The spec's refusal: an ``error`` frame (with the hello's request id), then the close."""
    try:
        await websocket.send_text(encode(ErrorMessage(id=request_id, code=int(code), message=message)))
    except (WebSocketDisconnect, RuntimeError, OSError):
        return
    await websocket.close(int(code), message[:120])


async def _moved(websocket: WebSocket, owner: str, request_id: str | None) -> None:
    """Tell the client which instance holds the session (when it has a URL), then close with 4307."""
    url = None
    if owner.startswith(("http://", "https://")):
        url = "ws" + owner.removeprefix("http").rstrip("/") + websocket.url.path
    await websocket.send_text(encode(SessionMoved(id=request_id, url=url)))
    await websocket.close(int(CloseCode.MOVED), "the session is held by another instance")
