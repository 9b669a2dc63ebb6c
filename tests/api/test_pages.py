"""The browser pages are served with a Content-Security-Policy that allows only this origin."""

from __future__ import annotations

import pytest

from tests.support import Api

PAGES = ["/room/8c1e9c1a-0000-4000-8000-000000000001", "/monitor/abc-123", "/manage/"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_and_their_files_carry_the_policy(api: Api) -> None:
    """Each page and static file is served with a CSP of self-only scripts and styles, WebSockets to the
    same host, no inline script, no framing; other routes are untouched."""
    host = api.server.base_url.removeprefix("http://")
    for path in [*PAGES, "/static/room/room.js", "/static/common/viva.css"]:
        response = api.client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "style-src 'self';" in policy
        assert f"connect-src 'self' ws://{host} wss://{host}" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    assert api.client.get(PAGES[0]).headers["content-type"].startswith("text/html")
    assert api.client.get("/static/room/room.js").headers["content-type"].startswith("text/javascript")
    assert "content-security-policy" not in api.client.get("/healthz").headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_manage_without_slash_redirects_and_unknown_files_are_404(api: Api) -> None:
    """/manage redirects to /manage/; a missing static file or a path outside static/ is a 404."""
    response = api.client.get("/manage", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "/manage/"
    assert api.client.get("/static/nope.js").status_code == 404
    assert api.client.get("/static/../server/config.py").status_code == 404
