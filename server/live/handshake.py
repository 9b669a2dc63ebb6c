"""The opening of every live socket (room and monitor): accept, read ``hello`` in time, let the caller
admit it, and turn each refusal into its close code (``protocol/README.md``, "Connection")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from protocol.messages import CloseCode, Hello, ProtocolError, SessionMoved, encode, parse_hello
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
        text = await asyncio.wait_for(websocket.receive_text(), services.settings.live_hello_timeout_s)
        hello = parse_hello(text)
        return hello, await join(hello)
    except SessionElsewhere as exc:
        await _moved(websocket, exc.owner, hello.id if hello else None)
    except TimeoutError:
        await websocket.close(CloseCode.TIMEOUT, "no hello")
    except ProtocolError as exc:
        await websocket.close(int(exc.code), exc.message[:120])
    except VivaError as exc:
        await websocket.close(int(CLOSE_FOR.get(type(exc), CloseCode.FORBIDDEN)), exc.public_message[:120])
    except (WebSocketDisconnect, RuntimeError):
        pass
    except Exception as exc:  # the database or the session store is unreachable: the client may retry
        log.error("live_join_failed", error_type=type(exc).__name__)
        await websocket.close(int(CloseCode.INTERNAL), "the session could not be opened; try again shortly")
    return None


async def _moved(websocket: WebSocket, owner: str, request_id: str | None) -> None:
    """Tell the client which instance holds the session (when it has a URL), then close with 4307."""
    url = None
    if owner.startswith(("http://", "https://")):
        url = "ws" + owner.removeprefix("http").rstrip("/") + websocket.url.path
    await websocket.send_text(encode(SessionMoved(id=request_id, url=url)))
    await websocket.close(int(CloseCode.MOVED), "the session is held by another instance")
