"""Structured logging (structlog) and an access-log middleware that never records secrets."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import MutableMapping
from itertools import accumulate
from typing import Any

import anyio
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECRET_KEYS = {"password", "token", "access_token", "authorization", "secret", "api_key", "cookie"}


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(secret in key.lower() for secret in SECRET_KEYS):
            event[key] = "[redacted]"
    return event


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


log = structlog.get_logger("viva")


class AccessLogMiddleware:
    """Logs one line per HTTP request: method, path (never the query string), status, duration, client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = uuid.uuid4().hex[:16]

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            client = scope.get("client")
            _safe_log(
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                client=client[0] if client else None,
                request_id=request_id,
            )


def _safe_log(**fields: Any) -> None:
    """An access-log line must never fail the request it describes."""
    try:
        log.info("request", **fields)
    except Exception:  # noqa: BLE001 - a broken log sink is not the client's problem
        pass


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, by Content-Length and while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _too_large(scope, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(scope, send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, send: Send) -> None:
    await send_error(scope, send, 413, "PAYLOAD_TOO_LARGE", "Request body too large", None)


async def send_error(scope: Scope, send: Send, status: int, code: str, message: str, details: object) -> None:
    """Answer from a middleware with the family's error shape (see ``server.api.errors``)."""
    from server.api.errors import error_body  # local: avoids an import cycle at module load

    body, status = error_body(scope["path"], status, code, message, details)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


MAX_JSON_DEPTH = 64
"""How deep arrays and objects may nest in a JSON body (Python's parser recurses once per level)."""
_JSON_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``body``, read as JSON, nests arrays and objects more than ``limit`` deep.

    Strings are cut out (escapes respected), then the running count of the brackets left is taken: no
    recursion, so no depth can break the check. Where the count goes below zero the document is malformed
    and a parser stops, so the highest count bounds how deep a parser would recurse. A body in no JSON
    encoding is left to the parser, which refuses it anyway."""
    try:
        text = body.decode(json.detect_encoding(body), "surrogatepass")
    except (UnicodeDecodeError, LookupError):
        return False
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKETS.sub("", _JSON_STRINGS.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


class InputGuardMiddleware:
    """Refuses with 400 NUL characters in the path, the query string and the body, and JSON bodies nested
    deeper than ``MAX_JSON_DEPTH``.

    No text field of Viva may contain NUL: PostgreSQL cannot store it and SQLite would store it silently,
    so it is refused at the edge, the same way on every backend. Deep nesting would be a RecursionError
    wherever the body is parsed. Every body but a multipart form's is scanned: the routes read a body
    with no content type, or of a type other than a form, as JSON. Multipart forms (file uploads) are
    not scanned here; ``server.api.forms`` checks their text parts.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or b""
        if (
            b"\x00" in raw
            or b"%00" in raw
            or b"%00" in scope.get("query_string", b"")
            or "\x00" in scope["path"]
        ):
            await _reject_nul(scope, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        if content_type.startswith(b"multipart/form-data"):
            await self.app(scope, receive, send)
            return
        body, more, messages = b"", True, []
        while more:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False) and message["type"] == "http.request"
        if b"\x00" in body or b"\\u0000" in body or b"%00" in body:
            await _reject_nul(scope, send)
            return
        if not content_type.startswith(b"application/x-www-form-urlencoded") and await _too_deep(body):
            details = {
                "non_field_errors": [f"JSON may nest arrays and objects at most {MAX_JSON_DEPTH} deep"]
            }
            await send_error(scope, send, 400, "VALIDATION_ERROR", "JSON nested too deeply", details)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _too_deep(body: bytes) -> bool:
    """``json_too_deep``, off the event loop for a large body (a 32 MB one takes a second or two)."""
    if len(body) < 1024 * 1024:
        return json_too_deep(body)
    return await anyio.to_thread.run_sync(json_too_deep, body)


async def _reject_nul(scope: Scope, send: Send) -> None:
    details = {"non_field_errors": ["Text may not contain NUL characters"]}
    await send_error(scope, send, 400, "VALIDATION_ERROR", "Invalid data provided", details)
