"""Socket limits on a real server: a flood of sockets beyond the instance's limit, a session beyond
``live_max_sessions`` and a flood of messages are refused with 4029 and a "try again" reason, while the
sockets already open keep working."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.live.client import Candidate, Monitor
from tests.live.support import monitor_url, room_url, schedule_with_hr
from tests.support import Api, live_server, make_settings

MAX_SOCKETS, MESSAGES_PER_S = 3, 10


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Api]:
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'viva.db'}",
        live_max_sockets=MAX_SOCKETS,
        live_max_sessions=1,
        socket_messages_per_s=MESSAGES_PER_S,
    )
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield Api(client, server)


def refusal(
    ws: ClientConnection, hello: dict[str, str] | None = None
) -> tuple[int, str, list[dict[str, Any]]]:
    """Send ``hello`` (when given) and read until the server closes: (code, reason, messages)."""
    if hello is not None:
        with contextlib.suppress(ConnectionClosed):  # it may be closed already
            ws.send(json.dumps(hello))
    messages = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            frame = ws.recv(timeout=15)
            if isinstance(frame, str):
                messages.append(json.loads(frame))
    assert closed.value.rcvd is not None, "the server closed with a code"
    return closed.value.rcvd.code, closed.value.rcvd.reason, messages


def hello(token: str) -> dict[str, str]:
    return {"type": "hello", "token": token, "protocol": "1.0"}


def test_sockets_beyond_the_limit_are_refused_and_the_others_keep_working(limited: Api) -> None:
    """With room for 3 sockets, a 4th (monitor or room) closes with 4029 "try again"; the 3 open ones
    still answer; once one closes a socket is admitted again, and a second live session beyond
    ``live_max_sessions`` is refused with 4029 "at capacity; try again"."""
    base = limited.server.base_url
    hr, _, interview_id, token = schedule_with_hr(limited)
    _, _, other_id, other_token = schedule_with_hr(limited)
    hr_token = hr["headers"]["Authorization"].split(" ", 1)[1]
    candidate = Candidate(room_url(base, interview_id), token)
    monitors = [Monitor(monitor_url(base, interview_id), hr_token) for _ in range(MAX_SOCKETS - 1)]
    try:
        candidate.hello()
        assert all(m.welcome["type"] == "monitor.welcome" for m in monitors)
        for url, who in (
            (monitor_url(base, interview_id), hr_token),
            (room_url(base, other_id), other_token),
        ):
            with connect(url, open_timeout=10) as extra:
                code, reason, _ = refusal(extra, hello(who))
            assert code == 4029 and "try again" in reason, (code, reason)
        monitors[0].send({"type": "ping", "id": "still-here"})
        assert monitors[0].wait("pong", timeout=10, id="still-here")
        candidate.send({"type": "ping", "id": "p1"})
        assert candidate.expect("pong", timeout=10)["id"] == "p1"

        monitors.pop().close()
        deadline = time.monotonic() + 10
        while True:  # the freed place is taken by a room socket, refused only by the session limit
            with connect(room_url(base, other_id), open_timeout=10) as extra:
                code, reason, _ = refusal(extra, hello(other_token))
            if "capacity" in reason or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert code == 4029 and "capacity" in reason and "try again" in reason, (code, reason)
    finally:
        candidate.close()
        for monitor in monitors:
            monitor.close()


def test_a_flood_of_messages_closes_the_socket_with_4029(limited: Api) -> None:
    """More text messages per second than the limit, on a monitor socket and on a room socket: an error
    4029 then close 4029."""
    base = limited.server.base_url
    hr, _, interview_id, token = schedule_with_hr(limited)
    hr_token = hr["headers"]["Authorization"].split(" ", 1)[1]
    for url, who in ((monitor_url(base, interview_id), hr_token), (room_url(base, interview_id), token)):
        with connect(url, open_timeout=10) as ws:
            ws.send(json.dumps(hello(who)))
            for n in range(5 * MESSAGES_PER_S):
                try:
                    ws.send(json.dumps({"type": "ping", "id": f"p{n}"}))
                except ConnectionClosed:
                    break
            code, reason, messages = refusal(ws)
        assert code == 4029 and reason, (url, code, reason)
        errors = [m for m in messages if m["type"] == "error"]
        assert errors and errors[-1]["code"] == 4029, messages
        pongs = [m for m in messages if m["type"] == "pong"]
        assert len(pongs) <= 2 * MESSAGES_PER_S, "the socket was closed near the limit, not after the flood"
