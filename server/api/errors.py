"""Translate domain errors and framework errors into each family's error shape.

Seed 004 (``/api/interview-management``) uses ``{success, message, error, details}``; every other family
uses ``{"detail": ...}``. Unexpected exceptions become a 500 with no internals in the body.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.domain.errors import VivaError
from server.logs import log
from server.store.db import unavailable

ENVELOPE_PREFIX = "/api/interview-management"
_HTTP_CODES = {
    400: ("VALIDATION_ERROR", "Invalid data provided"),
    401: ("UNAUTHORIZED", "Authentication credentials were not provided or are invalid"),
    403: ("FORBIDDEN", "You do not have permission to perform this action"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    409: ("CONFLICT", "Conflict"),
    413: ("PAYLOAD_TOO_LARGE", "Request body too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    429: ("RATE_LIMITED", "Too many requests, try again later"),
    500: ("INTERNAL_ERROR", "Error processing the request"),
}


def uses_envelope(path: str) -> bool:
    return path == ENVELOPE_PREFIX or path.startswith(ENVELOPE_PREFIX + "/")


def error_body(path: str, status: int, code: str, message: str, details: Any) -> tuple[bytes, int]:
    if uses_envelope(path):
        payload: dict[str, Any] = {"success": False, "message": message, "error": code, "details": details}
    else:
        payload = {"detail": message}
        if details is not None and status != 500:
            payload["errors"] = details
    return json.dumps(payload).encode(), status


def _response(request: Request, status: int, code: str, message: str, details: Any) -> JSONResponse:
    body, status = error_body(request.url.path, status, code, message, details)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429 and isinstance(details, dict) and "retry_after" in details:
        headers = {"Retry-After": str(details["retry_after"])}
    return JSONResponse(json.loads(body), status_code=status, headers=headers)


_WHERE = ("body", "query", "path", "form")


def _message(error: Any, nested: bool) -> str:
    """DRF's wording for the common cases (seed 004's original was Django REST framework)."""
    kind = error.get("type")
    if kind == "missing":
        return "This field is required."
    if error.get("input", "") is None:
        return "This field may not be null."
    if kind in ("enum", "literal_error"):
        return f'"{error.get("input")}" is not a valid choice.'
    if nested:  # one branch of a union (``interviewer_id.int``): say it once, for the field
        return "Enter a valid value."
    return str(error.get("msg", "Invalid value"))


def validation_details(exc: RequestValidationError | ValidationError) -> dict[str, list[str]]:
    """Field -> messages, the way seed 004's clients read them (``{"field": ["message"]}``).

    Keys are top-level field names (a union branch or list index is not a field of the form)."""
    details: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [part for part in error.get("loc", ()) if part not in _WHERE]
        field = str(loc[0]) if loc else "non_field_errors"
        message = _message(error, nested=len(loc) > 1 and isinstance(loc[1], str))
        messages = details.setdefault(field, [])
        if message not in messages:
            messages.append(message)
    return details


def install(app: FastAPI) -> None:
    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, VivaError)
        return _response(request, exc.status_code, exc.code, exc.public_message, exc.details)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        if uses_envelope(request.url.path):
            return _response(
                request, 400, "VALIDATION_ERROR", "Invalid data provided", validation_details(exc)
            )
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg")), "type": str(e.get("type"))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code, default = _HTTP_CODES.get(exc.status_code, ("ERROR", "Request failed"))
        message = exc.detail if isinstance(exc.detail, str) else default
        if exc.status_code == 404 and message == "Not Found":
            message = default
        return _response(request, exc.status_code, code, message, None)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__, exc_info=exc)
        return _response(
            request, 500, "INTERNAL_ERROR", "Error processing the request", "Please try again later"
        )

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        """Values the database refuses (NUL characters, out-of-range numbers) are the client's error (400);
        a database that cannot be reached is a 503 to retry. Never the driver's message."""
        if isinstance(exc, IntegrityError):
            return _response(request, 409, "CONFLICT", "This conflicts with data already stored", None)
        if isinstance(exc, DataError):
            details = {"non_field_errors": ["A value contains characters or numbers that cannot be stored"]}
            return _response(request, 400, "VALIDATION_ERROR", "Invalid data provided", details)
        if isinstance(exc, DBAPIError) and unavailable(exc):
            log.error("database_unavailable", path=request.url.path, error_type=type(exc).__name__)
            return _response(
                request,
                503,
                "SERVICE_UNAVAILABLE",
                "Database unavailable, try again shortly",
                "Please try again later",
            )
        return await on_unexpected(request, exc)

    app.add_exception_handler(DBAPIError, on_database)
    app.add_exception_handler(VivaError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
