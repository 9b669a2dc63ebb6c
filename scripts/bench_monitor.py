"""Monitor fan-out: event published on the EventBus → received by every HR monitor on a server instance.

A real server (``python -m server serve``, PostgreSQL when reachable, else SQLite; Redis required) holds N
monitor sockets on one interview; this process publishes events into the interview's Redis stream with
Viva's own ``RedisEventBus`` (exactly what the instance running the interview does), each stamped with
its publish time, and every monitor records when it received it. Clients, publisher and server share
this machine's cores, so the figures include the clients' own scheduling.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("VIVA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_URL = os.environ.get("VIVA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
from bench_server import ADMIN  # type: ignore[import-not-found]  # noqa: E402


def _interview(base: str) -> tuple[str, str]:
    """(admin token, id of an interview scheduled for a new candidate)."""
    import httpx

    with httpx.Client(base_url=base, timeout=30) as http:
        login = http.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}).json()
        admin = {"Authorization": f"Bearer {login['access_token']}"}
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        joined = http.post(
            "/auth/register", json={"name": "Bench", "email": email, "password": "password-123"}
        )
        me = http.get("/auth/me", headers={"Authorization": f"Bearer {joined.json()['access_token']}"}).json()
        body = {
            "candidate_id": me["id"],
            "job_title": "Engineer",
            "questions": [{"text": "Tell me about you."}],
        }
        scheduled = http.post("/api/v1/interview/schedule", json=body, headers=admin)
        scheduled.raise_for_status()
        return str(login["access_token"]), str(scheduled.json()["id"])


async def _monitor(url: str, token: str, ready: asyncio.Event, count: int, latencies: list[float]) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token, "protocol": "1.0"}))
        assert json.loads(await ws.recv())["type"] == "monitor.welcome"
        ready.set()
        seen = 0
        while seen < count:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "bench.ping":
                latencies.append(time.time() - frame["t"])
                seen += 1


async def _fan_out(
    base: str, token: str, interview_id: str, prefix: str, monitors: int, events: int
) -> dict[str, Any]:
    from redis.asyncio import Redis

    from server.store.channels import events_channel
    from server.store.state import RedisEventBus

    url = base.replace("http://", "ws://") + f"/ws/monitor/{interview_id}"
    latencies: list[float] = []
    readies = [asyncio.Event() for _ in range(monitors)]
    tasks = [asyncio.create_task(_monitor(url, token, ready, events, latencies)) for ready in readies]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    bus = RedisEventBus(Redis.from_url(REDIS_URL, decode_responses=True), prefix=prefix)
    try:
        for i in range(events):
            await bus.publish(events_channel(interview_id), {"type": "bench.ping", "i": i, "t": time.time()})
            await asyncio.sleep(0.01)
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    finally:
        await bus.close()
    ms = sorted(x * 1000 for x in latencies)
    return {
        "monitors": monitors,
        "events": events,
        "samples": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "max_ms": round(ms[-1], 2),
    }


def _pg(sql: str) -> None:
    """Run one statement on the PostgreSQL server (as the admin database URL's user)."""
    import asyncpg

    async def execute() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=3)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(execute())


def _database(data: str) -> tuple[str, str | None]:
    """A fresh PostgreSQL database when the server is reachable (its name, to drop), else SQLite."""
    name = f"viva_bench_{uuid.uuid4().hex[:10]}"
    try:
        _pg(f'CREATE DATABASE "{name}"')
    except Exception:
        return f"sqlite:///{data}/viva.db", None
    return PG_URL.rsplit("/", 1)[0] + f"/{name}", name


def _drop(name: str) -> None:
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(sizes: tuple[int, ...] = (1, 10, 50), events: int = 200) -> dict[str, Any]:
    from bench_server import serving  # type: ignore[import-not-found]

    prefix = f"viva-bench-{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as data:
        database, pg_name = _database(data)
        try:
            with serving(DATABASE_URL=database, REDIS_URL=REDIS_URL, VIVA_REDIS_PREFIX=prefix) as server:
                results = []
                for n in sizes:  # a fresh interview each time: its monitors replay no earlier run's events
                    token, interview_id = _interview(server.base)
                    results.append(asyncio.run(_fan_out(server.base, token, interview_id, prefix, n, events)))
        finally:
            if pg_name:
                _drop(pg_name)
    return {"database": "postgresql" if pg_name else "sqlite", "publish_interval_ms": 10, "runs": results}
