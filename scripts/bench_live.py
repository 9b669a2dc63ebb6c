"""Live sessions: N simulated candidates (real aiortc peers speaking a Piper-made answer) against one server.

Each candidate joins its own interview (3 questions) over WebRTC, plays along with every question and
answers it by voice, then says ``answer.done``. Measured per answer, from the server's end-of-answer
decision (the ``thinking`` message): ``transcript.final`` latency, and the first audio byte of the next
question (of every next question, and of the planned ones alone: an AI follow-up can only be asked once
the answer is transcribed). The server runs as its own process (SQLite, offline AI, Piper, tiny.en); its
CPU time and peak memory are read from /proc. The candidates share the machine with the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
from bench_server import ADMIN  # type: ignore[import-not-found]  # noqa: E402

QUESTIONS = [
    {"text": "Tell me about a REST API you designed.", "expected_duration_minutes": 2},
    {"text": "How do you test a web service?", "expected_duration_minutes": 2},
    {"text": "How do you deploy a Python service?", "expected_duration_minutes": 2},
]


@dataclass
class Samples:
    final_s: list[float] = field(default_factory=list)
    next_audio_s: list[float] = field(default_factory=list)
    next_audio_planned_s: list[float] = field(default_factory=list)  # the next question was a planned one
    errors: list[str] = field(default_factory=list)


def _schedule(base: str, count: int) -> list[tuple[str, str]]:
    """``count`` interviews, each for a new registered candidate: (interview id, candidate token)."""
    import httpx

    out = []
    with httpx.Client(base_url=base, timeout=60) as http:
        response = http.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
        response.raise_for_status()
        admin = {"Authorization": f"Bearer {response.json()['access_token']}"}
        for _ in range(count):
            email = f"live-{uuid.uuid4().hex[:8]}@example.com"
            body = {"name": "Bench Candidate", "email": email, "password": "password-123"}
            token = http.post("/auth/register", json=body).json()["access_token"]
            me = http.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
            plan = {"candidate_id": me["id"], "job_title": "Backend Engineer", "questions": QUESTIONS}
            response = http.post("/api/v1/interview/schedule", json=plan, headers=admin)
            response.raise_for_status()
            out.append((response.json()["id"], token))
    return out


async def _next(ws: Any) -> tuple[dict[str, Any] | None, float]:
    """The next frame: (message, arrival time); message None for a binary (audio) frame."""
    frame = await ws.recv()
    now = time.monotonic()
    return (None if isinstance(frame, bytes) else json.loads(frame)), now


async def _until(ws: Any, kinds: tuple[str, ...]) -> tuple[dict[str, Any], float]:
    while True:
        message, at = await _next(ws)
        if message is not None and message["type"] in kinds:
            return message, at


class _Timing:
    """What one candidate measures: each answer's end (``thinking``) to its ``transcript.final``, and the
    last end of answer to the next question's first audio byte. Messages are matched by question id, so
    it works whether the next question waits for the stored answer or starts at once."""

    def __init__(self, samples: Samples) -> None:
        self.samples = samples
        self.ended: dict[str, float] = {}
        self.last_end: float | None = None
        self.follow_up = False  # the question now being asked is an AI follow-up

    def on_audio(self, at: float) -> None:
        if self.last_end is not None:
            self.samples.next_audio_s.append(at - self.last_end)
            if not self.follow_up:
                self.samples.next_audio_planned_s.append(at - self.last_end)
            self.last_end = None

    def on_message(self, message: dict[str, Any], at: float) -> None:
        kind, qid = message["type"], message.get("question_id", "")
        if kind == "question.started":
            self.follow_up = bool(message.get("is_follow_up"))
        elif kind == "thinking":
            self.ended[qid] = self.last_end = at
        elif kind == "transcript.final" and qid in self.ended:
            self.samples.final_s.append(at - self.ended.pop(qid))
        elif kind == "error" and message.get("code") != 4012:
            raise RuntimeError(f"server error {message.get('code')}")


async def _answer(client: Any, qid: str, pcm: Any, rate: int) -> None:
    client.mic.say(pcm, rate)
    await client.mic.drained.wait()
    await asyncio.sleep(0.3)
    await client.send({"type": "answer.done", "question_id": qid})


async def _candidate(url: str, token: str, pcm: Any, rate: int, samples: Samples, delay: float) -> None:
    from tests.live.rtc_client import RtcCandidate

    await asyncio.sleep(delay)
    client = await RtcCandidate.connect(url)
    timing, speaking = _Timing(samples), set[asyncio.Task[None]]()
    try:
        await client.send({"type": "hello", "token": token, "protocol": "1.0"})
        await _until(client.ws, ("welcome",))
        await client.offer()
        while True:
            message, at = await _next(client.ws)
            if message is None:
                timing.on_audio(at)
                continue
            timing.on_message(message, at)
            kind = message["type"]
            if kind == "interview.completed":
                return
            if kind == "question.audio.end":
                await client.send({"type": "playback.ended", "question_id": message["question_id"]})
            elif kind == "listening":
                task = asyncio.create_task(_answer(client, message["question_id"], pcm, rate))
                speaking.add(task)
                task.add_done_callback(speaking.discard)
    except Exception as exc:
        samples.errors.append(type(exc).__name__)
    finally:
        for task in speaking:
            task.cancel()
        await client.close()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000, 1)


async def _run_sessions(base: str, sessions: list[tuple[str, str]]) -> Samples:
    from tests.media import speech

    pcm, rate = speech()
    samples = Samples()
    ws_base = base.replace("http://", "ws://")
    await asyncio.gather(
        *(
            _candidate(f"{ws_base}/ws/interviews/{iid}", token, pcm, rate, samples, i * 0.7)
            for i, (iid, token) in enumerate(sessions)
        )
    )
    return samples


def run_one(n: int, early: bool = False) -> dict[str, Any]:
    """One server, ``n`` concurrent candidates; the figures for that load (``early``: the server starts the
    next question as soon as an answer ends, when no follow-up can come of it)."""
    from bench_server import serving  # type: ignore[import-not-found]

    early_setting = "true" if early else "false"
    with serving(VIVA_PRELOAD_MODELS="true", VIVA_LIVE_ADVANCE_EARLY=early_setting) as server:
        sessions = _schedule(server.base, n)
        time.sleep(3)  # let the background TTS of the scheduled questions finish
        cpu0, wall0 = _cpu_s(server.pid), time.monotonic()
        samples = asyncio.run(_run_sessions(server.base, sessions))
        cpu, wall = _cpu_s(server.pid) - cpu0, time.monotonic() - wall0
        peak = _peak_mb(server.pid)
    return {
        "sessions": n,
        "advance_early": early,
        "answers": len(samples.final_s),
        "errors": samples.errors,
        "final_p50_ms": _pct(samples.final_s, 0.5),
        "final_p95_ms": _pct(samples.final_s, 0.95),
        "next_audio_p50_ms": _pct(samples.next_audio_s, 0.5),
        "next_audio_p95_ms": _pct(samples.next_audio_s, 0.95),
        "next_planned_audio_p50_ms": _pct(samples.next_audio_planned_s, 0.5),
        "next_planned_audio_p95_ms": _pct(samples.next_audio_planned_s, 0.95),
        "wall_s": round(wall, 1),
        "server_cpu_s": round(cpu, 1),
        "server_cpu_per_session_pct": round(100 * cpu / wall / n, 1),
        "server_peak_rss_mb": peak,
    }


def run(sizes: tuple[int, ...] = (1, 4, 8, 12, 16)) -> dict[str, Any]:
    """Each size in turn, storing each answer before the next question and with early advance (the
    default); per mode, the largest N such that it and every smaller size tried kept the p95
    ``transcript.final`` latency within 1.5 s."""
    from server.config import Settings

    stt = Settings()  # the server's speech settings: these defaults, or the environment's
    runs = []
    for n in sizes:
        for early in (False, True):
            print(f"  live: {n} sessions, advance_early={early} ...", file=sys.stderr, flush=True)
            runs.append(run_one(n, early))
    largest: dict[str, int | None] = {}
    for early, mode in ((False, "store_first"), (True, "advance_early")):
        largest[mode] = None
        for r in sorted((r for r in runs if r["advance_early"] == early), key=lambda r: r["sessions"]):
            if r["final_p95_ms"] is None or r["final_p95_ms"] > 1500 or r["errors"]:
                break
            largest[mode] = r["sessions"]
    return {
        "settings": (
            "SQLite, offline AI, Piper, tiny.en int8 "
            f"({stt.stt_workers} STT workers, {stt.stt_cpu_threads} threads each), aiortc peers"
        ),
        "runs": runs,
        "largest_n_final_p95_within_1500ms": largest,
        "of_sizes_tried": list(sizes),
        "answer_speech_s": _answer_seconds(),
    }


def _answer_seconds() -> float:
    from tests.media import speech

    pcm, rate = speech()
    return round(len(pcm) / rate, 1)
