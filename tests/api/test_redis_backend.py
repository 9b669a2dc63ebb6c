"""The app on Redis: readiness reflects Redis, and login throttling is shared by every instance."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    REDIS_URL,
    live_server,
    make_settings,
    redis_reachable,
    unavailable,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_url() -> str:
    if not redis_reachable():
        unavailable("Redis", REDIS_URL)
    return REDIS_URL


def test_two_instances_share_login_throttling(tmp_path: Path, database_url: str, redis_url: str) -> None:
    """Failed logins counted on one instance block the account on the other (Redis-backed limits)."""
    prefix = f"viva-test-{uuid.uuid4().hex[:8]}:"
    common = {
        "redis_url": redis_url,
        "redis_prefix": prefix,
        "login_attempts_per_account": 3,
        "secret_key": "shared-secret-key-for-both-instances",
    }
    first = make_settings(tmp_path / "a", database_url, **common)
    second = make_settings(tmp_path / "b", database_url, **common)
    with live_server(first) as a, live_server(second) as b:
        wrong = {"email": ADMIN_EMAIL, "password": "wrong-password"}
        for base in (a.base_url, b.base_url, a.base_url):
            assert httpx.post(f"{base}/auth/login", json=wrong).status_code == 400
        blocked = httpx.post(
            f"{b.base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
        ready = httpx.get(f"{a.base_url}/readyz").json()
        assert ready == {"status": "ready", "checks": {"database": "ok", "state": "ok"}}


def test_readyz_reports_unreachable_redis(tmp_path: Path, database_url: str) -> None:
    """With Redis configured but down, /healthz stays up and /readyz answers 503 naming the state store."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(tmp_path, database_url, redis_url=f"redis://127.0.0.1:{port}/0")
    with live_server(settings) as server:
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
        response = httpx.get(f"{server.base_url}/readyz", timeout=10)
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "ok" and response.json()["checks"]["state"] != "ok"
