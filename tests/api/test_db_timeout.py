"""A hung PostgreSQL: a statement waiting on a lock held elsewhere is cancelled after the statement timeout
and the request answered 503 (try again) instead of hanging; nothing stored is lost, and the same request
succeeds once the lock is gone."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api.support import add
from tests.support import Api, live_server, make_settings

pytestmark = pytest.mark.postgres


class TableLock:
    """Another client holding ``LOCK TABLE ... ACCESS EXCLUSIVE`` in an open transaction until released."""

    def __init__(self, database_url: str, table: str) -> None:
        self.url = database_url.replace("postgresql+asyncpg://", "postgresql://")
        self.table = table
        self.held, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)

    async def _hold(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url)
        try:
            async with conn.transaction():
                await conn.execute(f'LOCK TABLE "{self.table}" IN ACCESS EXCLUSIVE MODE')
                self.held.set()
                await asyncio.to_thread(self.release.wait, 60)
        finally:
            await conn.close()

    def __enter__(self) -> TableLock:
        self.thread.start()
        assert self.held.wait(10), "the lock was taken"
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.thread.join(10)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_statement_stuck_on_a_lock_is_a_503_then_works_again(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, db_statement_timeout_s=1.0)
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as http:
        api = Api(http, server)
        admin = api.admin()
        stored = add(api, admin, name="Lena Locked")
        with TableLock(database_url, "candidates"):
            started = time.monotonic()
            stuck = http.get("/api/candidates", headers=admin)
            waited = time.monotonic() - started
            assert stuck.status_code == 503, stuck.text
            assert "try again" in stuck.text.lower() and "lock" not in stuck.text.lower()
            assert waited < 10, "the request was cancelled by the statement timeout, not left hanging"
            refused = http.post(
                "/api/candidates", headers=admin, json={"name": "Nora New", "email": "nora@example.com"}
            )
            assert refused.status_code == 503, refused.text
        listed = http.get("/api/candidates", headers=admin)
        assert listed.status_code == 200, listed.text
        names = [c["name"] for c in listed.json()["data"]]
        assert "Lena Locked" in names and "Nora New" not in names
        assert http.get(f"/api/candidates/{stored['id']}", headers=admin).status_code == 200
