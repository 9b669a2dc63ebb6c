"""Handshake conformance on both sockets, as a client written from protocol/README.md sees it: every
refused ``hello`` gets the spec's ``error`` frame, then the close, with the code from the code table."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.live.support import monitor_url, room_url, schedule_with_hr
from tests.support import Api


def refusal(url: str, frame: str | bytes) -> tuple[list[dict[str, Any]], int | None]:
    """Send ``frame`` first; the text frames received until the server closed, and its close code."""
    received: list[dict[str, Any]] = []
    with connect(url, open_timeout=10) as ws:
        ws.send(frame)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                reply = ws.recv(timeout=10)
                if isinstance(reply, str):
                    received.append(json.loads(reply))
    return received, closed.value.rcvd.code if closed.value.rcvd else None


def hello(token: str | None = None, **extra: Any) -> str:
    message: dict[str, Any] = {"type": "hello", "protocol": "1.0", **extra}
    if token is not None:
        message["token"] = token
    return json.dumps(message)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("socket", ["room", "monitor"])
def test_refused_hellos_get_an_error_frame_then_the_documented_close(api: Api, socket: str) -> None:
    """Another major (4010, the request id echoed), a hello without a token (4001), audio before hello
    (4001), another message first (4001) and a junk token (4001): each an ``error`` frame, then the close."""
    hr, candidate, interview_id, token = schedule_with_hr(api)
    if socket == "monitor":
        url, token = monitor_url(api.server.base_url, interview_id), hr["headers"]["Authorization"][7:]
    else:
        url = room_url(api.server.base_url, interview_id)
    cases: list[tuple[str | bytes, int, str | None]] = [
        (hello(token, protocol="2.0", id="v2"), 4010, "v2"),
        (hello(id="h1"), 4001, "h1"),
        (bytes(640), 4001, None),
        (json.dumps({"type": "ping", "id": "p1"}), 4001, "p1"),
        (hello("junk", id="h2"), 4001, "h2"),
    ]
    for frame, code, request_id in cases:
        received, closed_with = refusal(url, frame)
        assert closed_with == code, (frame, received)
        assert [m["type"] for m in received] == ["error"], (frame, received)
        assert received[0]["code"] == code and received[0].get("id") == request_id, (frame, received)
        assert received[0]["message"], "the error frame says why"
