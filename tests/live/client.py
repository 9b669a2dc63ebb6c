"""A scripted candidate for the room socket: a real ``websockets`` client that streams PCM16 16 kHz audio.

A sender thread keeps audio flowing in real time (silence by default) and plays queued speech; the test's
thread reads the server's messages.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import numpy as np
from websockets.sync.client import ClientConnection, connect

FRAME = 640  # 20 ms of PCM16 at 16 kHz


def open_socket(url: str, **options: Any) -> ClientConnection:
    """A client connection that outlives one ``with`` block (close it with ``.close()``). websockets 17
    warns about a ``connect()`` not entered as a context manager; entering it here says it is meant."""
    return connect(url, **options).__enter__()


def to_16k(pcm: np.ndarray, rate: int) -> bytes:
    resampled = np.interp(np.arange(0, len(pcm), rate / 16_000), np.arange(len(pcm)), pcm).astype(np.int16)
    return resampled.tobytes()


class Candidate:
    def __init__(self, url: str, token: str, *, speed: float = 4.0) -> None:
        self.ws: ClientConnection = open_socket(url, max_size=None, open_timeout=10)
        self.token, self.speed = token, speed
        self.backlog: list[dict[str, Any]] = []  # messages an expect passed over, for a later expect
        self.speech: queue.Queue[bytes] = queue.Queue()
        self.spoken = threading.Event()
        self.spoken.set()
        self.stop = threading.Event()
        self.audio_bytes = 0
        self.messages: list[dict[str, Any]] = []
        self._sender: threading.Thread | None = None

    def hello(self, **extra: Any) -> dict[str, Any]:
        self.send({"type": "hello", "token": self.token, "protocol": "1.0", **extra})
        return self.expect("welcome")

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def start_audio(self) -> None:
        self._sender = threading.Thread(target=self._send_audio, daemon=True)
        self._sender.start()

    def say(self, pcm16k: bytes) -> None:
        self.spoken.clear()
        self.speech.put(pcm16k)

    def wait_spoken(self, timeout: float = 60) -> None:
        """Block until every frame queued by ``say`` has been written to the socket."""
        if not self.spoken.wait(timeout):
            raise TimeoutError("the queued speech was not sent in time")

    def _send_audio(self) -> None:
        silence, last_ping = bytes(FRAME), time.monotonic()
        try:
            while not self.stop.is_set():
                try:
                    chunk = self.speech.get_nowait()
                    for start in range(0, len(chunk), FRAME):
                        self.ws.send(chunk[start : start + FRAME])
                        time.sleep(0.02 / self.speed)
                    if self.speech.empty():
                        self.spoken.set()
                except queue.Empty:
                    self.ws.send(silence)
                    time.sleep(0.02)
                if time.monotonic() - last_ping > 5:
                    self.send({"type": "ping"})
                    last_ping = time.monotonic()
        except Exception:  # the socket closed under us: the test decides what that means
            return

    def next_message(self, timeout: float = 30) -> dict[str, Any]:
        """The next text message (binary question audio is counted and skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(frame, bytes):
                self.audio_bytes += len(frame)
                continue
            message: dict[str, Any] = json.loads(frame)
            self.messages.append(message)
            return message

    def expect(self, kind: str, timeout: float = 60) -> dict[str, Any]:
        """Read until a message of ``kind`` (fails on an ``error`` that closes, or on timeout)."""
        return self.expect_any((kind,), timeout)

    def expect_any(self, kinds: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
        """The next message of one of ``kinds``; the others are kept for a later expect (with early advance
        the next question may start before this answer's transcript)."""
        for message in self.backlog:
            if message["type"] in kinds:
                self.backlog.remove(message)
                return message
        deadline = time.monotonic() + timeout
        while True:
            message = self.next_message(max(0.01, deadline - time.monotonic()))
            if message["type"] in kinds:
                return message
            self.backlog.append(message)

    def close(self) -> None:
        self.stop.set()
        if self._sender is not None:
            self._sender.join(5)
        self.ws.close()


class Monitor:
    """HR's monitor socket: a reader thread collects every frame; the test waits on what it needs."""

    def __init__(self, url: str, token: str, *, last_seq: int | None = None) -> None:
        self.ws: ClientConnection = open_socket(url, max_size=None, open_timeout=10)
        hello: dict[str, Any] = {"type": "hello", "token": token, "protocol": "1.0", "id": "m-hello"}
        if last_seq is not None:
            hello.update(resume=True, last_seq=last_seq)
        self.ws.send(json.dumps(hello))
        self.welcome: dict[str, Any] = json.loads(self.ws.recv(timeout=15))
        self.frames: list[dict[str, Any]] = []  # the stream (frames with seq), in arrival order
        self.replies: list[dict[str, Any]] = []  # acks, pongs, errors
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for text in self.ws:
                message = json.loads(text)
                with self._changed:
                    (self.frames if "seq" in message else self.replies).append(message)
                    self._changed.notify_all()
        except Exception:  # closed: the test decides what that means
            return

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def wait(self, kind: str, timeout: float = 60, **fields: Any) -> dict[str, Any]:
        """The first frame or reply of ``kind`` whose fields match ``fields`` (waiting for it)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for message in (*self.frames, *self.replies):
                    if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                        return message
                if not self._changed.wait(max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"no {kind} {fields} within {timeout} s; got {self.types()}")

    def types(self) -> list[str]:
        return [frame["type"] for frame in self.frames]

    def close(self) -> None:
        self.ws.close()
        self._reader.join(5)
