"""REST throughput and latency of the hot list and detail routes of each family, on SQLite and PostgreSQL.

The server runs as its own process (``python -m server serve``, one uvicorn worker); this process seeds
data through the API, then generates the load: for each route, ``CONCURRENCY`` keep-alive clients send
requests back to back for ``SECONDS`` seconds. Latency is per request as the client saw it. Client and
server share this machine's two cores.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
from bench_server import ADMIN  # type: ignore[import-not-found]  # noqa: E402

CONCURRENCY, SECONDS = 8, float(os.environ.get("VIVA_BENCH_SECONDS", "5"))
SEED_INTERVIEWS = 50


def _seed(base: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Accounts and rows to read: returns (admin headers, candidate headers, path parameters)."""
    import httpx

    with httpx.Client(base_url=base, timeout=60) as http:
        token = http.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}).json()[
            "access_token"
        ]
        admin = {"Authorization": f"Bearer {token}"}
        email = f"rest-{uuid.uuid4().hex[:8]}@example.com"
        body = {"name": "Rest Candidate", "email": email, "password": "password-123"}
        candidate = {
            "Authorization": f"Bearer {http.post('/auth/register', json=body).json()['access_token']}"
        }
        me = http.get("/auth/me", headers=candidate).json()
        interview_id = ""
        for n in range(SEED_INTERVIEWS):
            plan = {"candidate_id": me["id"], "job_title": f"Engineer {n}", "num_questions": 5}
            interview_id = http.post("/api/v1/interview/schedule", json=plan, headers=admin).json()["id"]
            question = {"question_text": f"How would you design system number {n}?", "tags": ["design"]}
            http.post("/api/questions", json=question, headers=candidate)
            tracked = {"custom_role_title": f"Role {n}", "main_skills_required": ["Python"]}
            http.post("/api/interviews", json=tracked, headers=candidate)
        return admin, candidate, {"interview_id": interview_id}


ROUTES: list[tuple[str, str, str]] = [
    ("004", "admin", "/api/interview-management/"),
    ("004", "admin", "/api/interview-management/{interview_id}/"),
    ("pool", "admin", "/api/candidates"),
    ("000", "admin", "/api/v1/interview/all"),
    ("000", "admin", "/api/v1/interview/{interview_id}"),
    ("001", "candidate", "/interviews"),
    ("001", "candidate", "/auth/me"),
    ("003", "candidate", "/api/questions?limit=20"),
    ("003", "candidate", "/api/interviews?limit=20"),
    ("003", "candidate", "/api/stats/overview"),
]


async def _load(base: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + SECONDS

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                response = await http.get(path)
                latencies.append(time.perf_counter() - t0)
                errors += response.status_code != 200

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    wall = time.monotonic() - started
    ms = sorted(x * 1000 for x in latencies)
    return {
        "requests": len(ms),
        "errors": errors,
        "rps": round(len(ms) / wall, 1),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
    }


def _bench_database(database: str | None) -> dict[str, Any]:
    from bench_server import serving  # type: ignore[import-not-found]

    with serving(DATABASE_URL=database, VIVA_TTS_PREFETCH="false") as server:
        admin, candidate, params = _seed(server.base)
        results = {}
        for family, who, template in ROUTES:
            path = template.format(**params)
            headers = admin if who == "admin" else candidate
            results[f"{family} GET {template}"] = asyncio.run(_load(server.base, path, headers))
    return results


def run() -> dict[str, Any]:
    from bench_monitor import _database, _drop  # type: ignore[import-not-found]

    out: dict[str, Any] = {
        "settings": f"{CONCURRENCY} keep-alive clients per route for {SECONDS:.0f} s, one uvicorn worker, "
        f"{SEED_INTERVIEWS} interviews seeded",
        "sqlite": _bench_database(None),
    }
    with tempfile.TemporaryDirectory() as data:
        database, pg_name = _database(data)
        if pg_name:
            try:
                out["postgresql"] = _bench_database(database)
            finally:
                _drop(pg_name)
        else:
            out["postgresql"] = {"skipped": "PostgreSQL not reachable"}
    return out
