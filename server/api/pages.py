"""The browser pages: ``/room/{id}``, ``/monitor/{id}``, ``/manage/`` and their files under ``/static``.

The pages are plain HTML + JavaScript modules in the repository's ``static/`` folder (no build step). Every
response from here carries a Content-Security-Policy that allows only what the pages use: scripts, styles
and fetches from this origin, WebSockets to this host, media from ``blob:``/``mediastream:``; no inline
script, no third parties, no framing. Tokens never appear in these URLs (the pages keep them in
``sessionStorage``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
PAGE_PREFIXES = ("/room", "/monitor", "/manage", "/static")

router = APIRouter(include_in_schema=False)


def content_security_policy(host: str) -> str:
    """The policy for ``host`` (the request's Host header): same origin only, WebSockets to the same host."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob: mediastream:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        )
    )


class PageSecurityHeaders:
    """Adds the CSP and related headers to every response under the page prefixes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PAGE_PREFIXES):
            await self.app(scope, receive, send)
            return
        host = _host(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", content_security_policy(host).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def _host(scope: Scope) -> str:
    """The Host header when it is a plain host[:port], else the server address (never echo junk)."""
    for key, value in scope.get("headers", []):
        if key == b"host":
            text = bytes(value).decode("latin-1")
            if text and all(c.isalnum() or c in ".-:[]" for c in text):
                return text
    server = scope.get("server") or ("localhost", None)
    return f"{server[0]}:{server[1]}" if server[1] else str(server[0])


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name / "index.html", media_type="text/html", headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/room/{interview_id}")
async def room(interview_id: str) -> FileResponse:
    return _page("room")


@router.get("/monitor/{interview_id}")
async def monitor(interview_id: str) -> FileResponse:
    return _page("monitor")


@router.get("/manage/")
async def manage() -> FileResponse:
    return _page("manage")


@router.get("/manage")
async def manage_bare(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url.replace(path="/manage/").path, status_code=308)


def install(app: FastAPI) -> None:
    """Mount the pages and ``/static`` (when the repository's ``static/`` folder is present)."""
    if not (STATIC_DIR / "room" / "index.html").is_file():
        return
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
