"""Faults during a live interview, against real servers: Redis killed and restarted, PostgreSQL briefly
unreachable while an answer is being stored. Nothing stored is lost or doubled.

Neither test touches the machine's shared services: Redis is a private ``redis-server`` on a free port,
and PostgreSQL is reached through a TCP proxy (in the test) that can cut and refuse connections.

Two more faults are covered elsewhere: a server instance killed mid-answer
(``tests/live/test_scale_out.py``) and an answer-processing worker killed mid-job
(``tests/api/test_media_answers.py::test_killed_worker_job_is_finished_once_by_the_next``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from tests.live.client import Candidate, Monitor, open_socket, to_16k
from tests.live.support import (
    SECOND,
    answer_question,
    monitor_url,
    room_url,
    schedule,
    schedule_with_hr,
    token_of,
    ws_url,
)
from tests.media import ANSWER_TEXT, speech, word_error_rate
from tests.support import Api, live_server, make_settings, unavailable

# ---------------------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateRedis:
    """A ``redis-server`` of the test's own on a free loopback port, with no persistence: a restart
    loses everything it held (the harshest restart; compose's Redis is append-only)."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.workdir)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            assert self.process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not listen in 10 s"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        unavailable("redis-server", "no redis-server binary")
    redis = PrivateRedis(binary, tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


class FlakyProxy:
    """A TCP proxy on a loopback port (its own asyncio loop in a thread) in front of ``target``.

    ``cut(seconds)`` aborts every open link and refuses new ones for that long.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.loop = asyncio.new_event_loop()
        self.links: set[asyncio.StreamWriter] = set()
        self.down_until = 0.0
        self.refused = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> int:
        self._thread.start()
        assert self._ready.wait(10), "the proxy did not start"
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._server = self.loop.run_until_complete(asyncio.start_server(self._link, "127.0.0.1", 0))
        self._ready.set()
        self.loop.run_forever()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self.down_until:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.links |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self.links -= {writer, up_writer}
            writer.transport.abort()
            up_writer.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    def cut(self, seconds: float) -> float:
        """Abort every link now and refuse new ones for ``seconds``; returns when the cut ends (monotonic)."""
        until = time.monotonic() + seconds

        def cut_now() -> None:
            self.down_until = until
            for writer in list(self.links):
                writer.transport.abort()

        self.loop.call_soon_threadsafe(cut_now)
        return until

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self.links):
                writer.transport.abort()
            await asyncio.sleep(0.05)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def answer_all(client: Candidate, audio: bytes) -> list[str]:
    """Answer every question asked until the interview completes; returns the asked question ids."""
    asked = []
    while (message := client.expect_any(("question.started", "interview.completed")))["type"] == (
        "question.started"
    ):
        asked.append(message["question_id"])
        answer_question(client, message, audio, done=True)
    return asked


def wait_report(http: httpx.Client, interview_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        report: dict[str, Any] = http.get(f"/interviews/{interview_id}/report", headers=headers).json()
        if "decision" in report:
            return report
        assert time.monotonic() < deadline, report
        time.sleep(0.2)


# ------------------------------------------------------------------------------------------ Redis


@pytest.mark.redis
def test_redis_killed_and_restarted_mid_interview(tmp_path: Path, private_redis: PrivateRedis) -> None:
    """Redis dies (SIGKILL) while the second question is answered: the answer is stored and
    acknowledged; the candidate drops while Redis is still down; Redis comes back empty (no
    persistence); the candidate resumes the same session with ``hello resume``, the interview completes,
    the events of the outage reach the monitors afterwards, and the database holds exactly one answer per
    question."""
    db = tmp_path / "viva.db"
    settings = make_settings(
        tmp_path, f"sqlite+aiosqlite:///{db}", redis_url=private_redis.url, live_owner_ttl_s=3.0
    )
    pcm, rate = speech()
    audio, second = to_16k(pcm, rate), to_16k(*speech(SECOND))
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as http:
        api = Api(http, server)
        headers, interview_id, token = schedule(api)
        admin = api.admin()
        client = Candidate(ws_url(api, interview_id), token)
        try:
            welcome = client.hello()
            client.start_audio()
            first = client.expect("question.started")
            final = answer_question(client, first, audio, done=True)
            assert word_error_rate(ANSWER_TEXT, final["text"]) < 0.35
            during = client.expect("question.started")
            client.expect("question.audio.end")
            private_redis.kill()
            answer_question(client, during, second, done=True, audio_ended=True)
            last_seq = max(m["seq"] for m in client.messages if "seq" in m)
        finally:
            client.close()
        time.sleep(1.5)  # the server notices the drop while Redis is still down
        private_redis.start()
        client = Candidate(ws_url(api, interview_id), token)
        try:
            resumed = client.hello(resume=True, last_seq=last_seq)
            assert resumed["resumed"] is True and resumed["session_id"] == welcome["session_id"]
            answered = set(resumed["state"]["answered"])
            assert {first["question_id"], during["question_id"]} <= answered
            client.start_audio()
            later = answer_all(client, second)
        finally:
            client.close()
        assert not answered & set(later), "an answered question is not asked again"
        # What the room published while Redis was down was kept and published once it came back: a
        # monitor that connects now replays the second answer's transcript and save.
        monitor = Monitor(monitor_url(server.base_url, interview_id), token_of(admin))
        try:
            kept = monitor.wait("transcript.final", timeout=15, question_id=during["question_id"])
            assert word_error_rate(SECOND, kept["text"]) < 0.35, kept["text"]
            monitor.wait("answer.saved", timeout=15, question_id=during["question_id"])
        finally:
            monitor.close()
        report = wait_report(http, interview_id, headers)
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT question_id, COUNT(*) FROM answers GROUP BY question_id").fetchall())
    assert set(rows) == {first["question_id"], during["question_id"], *later}
    assert set(rows.values()) == {1}
    assert len(report["questions"]) == len(rows)


# ------------------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def proxied_database(pg_template: str | None) -> Iterator[tuple[str, FlakyProxy]]:
    """A fresh PostgreSQL database reached through a FlakyProxy: (its URL through the proxy, the proxy)."""
    from tests.support import create_pg_database, drop_pg_database

    if pg_template is None:
        unavailable("PostgreSQL", "127.0.0.1:5432")
    url = create_pg_database(template=pg_template)
    host, port = url.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)
    proxy = FlakyProxy((host, int(port)))
    proxy_port = proxy.start()
    try:
        yield url.replace(f"@{host}:{port}/", f"@127.0.0.1:{proxy_port}/"), proxy
    finally:
        proxy.stop()
        drop_pg_database(url)


def answers_per_question(database_url: str, interview_id: str) -> dict[str, int]:
    import asyncpg

    async def query() -> dict[str, int]:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            rows = await conn.fetch(
                "SELECT question_id, COUNT(*) AS n FROM answers WHERE interview_id = $1 GROUP BY question_id",
                interview_id,
            )
        finally:
            await conn.close()
        return {row["question_id"]: row["n"] for row in rows}

    return asyncio.run(query())


def speak_until_thinking(client: Candidate, started: dict[str, Any], pcm16k: bytes) -> None:
    client.expect("question.audio.end")
    client.send({"type": "playback.ended", "question_id": started["question_id"]})
    client.expect("listening")
    client.say(pcm16k)
    client.expect("speech.started")
    client.wait_spoken()
    client.send({"type": "answer.done", "question_id": started["question_id"]})
    client.expect("thinking")


@pytest.mark.postgres
def test_postgres_unreachable_while_answers_are_saved(
    tmp_path: Path, proxied_database: tuple[str, FlakyProxy]
) -> None:
    """The database's connections are cut (and new ones refused) from the end of each answer until 2 s
    or 8 s after its transcript, i.e. into its save. 2 s (shorter than the save's retries): the answer
    is stored once the database is back and ``answer.saved`` follows. 8 s (longer): the candidate gets
    error 4500 and the question again, answers it again, and it is stored. No answer is silently
    dropped; the database holds exactly one answer per answered question."""
    database_url, proxy = proxied_database
    settings = make_settings(tmp_path, database_url, live_save_retries_s=4.0)
    pcm, rate = speech()
    audio, second = to_16k(pcm, rate), to_16k(*speech(SECOND))
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as http:
        api = Api(http, server)
        headers, interview_id, token = schedule(api)
        client = Candidate(ws_url(api, interview_id), token)
        try:
            client.hello()
            client.start_audio()
            first = client.expect("question.started")
            speak_until_thinking(client, first, audio)
            proxy.cut(60.0)  # from the end of the answer, through its transcription ...
            final = client.expect("transcript.final")
            back = proxy.cut(2.0)  # ... to 2 s into its save
            saved = client.expect("answer.saved", timeout=30)
            assert saved["question_id"] == final["question_id"] == first["question_id"]
            assert time.monotonic() >= back, "answer.saved came only once the database was back"

            during = client.expect("question.started")
            speak_until_thinking(client, during, second)
            proxy.cut(60.0)
            client.expect("transcript.final")
            back = proxy.cut(8.0)
            error = client.expect_any(("error", "answer.saved"), timeout=30)
            assert error["type"] == "error" and error["code"] == 4500, error
            assert time.monotonic() < back
            again = client.expect("question.started", timeout=30)
            assert again["question_id"] == during["question_id"], "the question is asked again"
            while time.monotonic() < back:  # the candidate answers again once the database is back
                time.sleep(0.2)
            answer_question(client, again, second, done=True)
            later = answer_all(client, second)
        finally:
            client.close()
        wait_report(http, interview_id, headers)
    assert proxy.refused > 0, "connections were refused during the cuts"
    rows = answers_per_question(database_url, interview_id)
    assert set(rows) == {first["question_id"], during["question_id"], *later}
    assert set(rows.values()) == {1}


# ---------------------------------------------------------------------------------- slow consumers

EVENTS, EVENT_TEXT_BYTES, WARM_UP = 20_000, 2_000, 1_000
RSS_BOUND_BYTES = 16 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def publish_events(redis_url: str, prefix: str, interview_id: str, count: int) -> None:
    """``count`` events of about ``EVENT_TEXT_BYTES`` each on the interview's stream, as another
    instance would publish them (straight onto Redis)."""
    from server.store.channels import events_channel
    from server.store.state import open_state

    store, bus = await open_state(redis_url, prefix=prefix)
    try:
        text = "n" * EVENT_TEXT_BYTES
        channel = events_channel(interview_id)
        for start in range(0, count, 20):
            await asyncio.gather(
                *(
                    bus.publish(channel, {"type": "note.added", "note_id": f"n{n}", "text": text})
                    for n in range(start, min(count, start + 20))
                )
            )
    finally:
        await bus.close()
        await store.close()


@pytest.mark.redis
def test_slow_consumers_do_not_grow_server_memory(tmp_path: Path, private_redis: PrivateRedis) -> None:
    """A monitor that stops reading while 20,000 events of 2 kB (40 MB) are published, and a candidate
    that stops reading while its question is spoken: the server's RSS grows by less than 16 MB, and
    meanwhile a reading monitor gets every event and HTTP answers.

    The bound: had the server queued the slow monitor's frames, it would hold 40 MB of payload (less
    what the kernel's loopback buffers absorb, a few MB); what it may legitimately hold is the fan-out's
    ring of 1,000 events (about 3 MB as Python objects), one history batch and a transport buffer's
    high-water mark. Measured after a 1,000-event warm-up, so that one-time costs (speech model,
    allocator arenas) are not counted."""
    from tests.live.support import start_instance
    from tests.support import ADMIN_EMAIL, ADMIN_PASSWORD

    port, prefix = free_port(), "viva-slow:"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'viva.db'}",
        "REDIS_URL": private_redis.url,
        "VIVA_REDIS_PREFIX": prefix,
        "VIVA_SECRET_KEY": "slow-consumer-test-secret-key-of-enough-length",
        "VIVA_DATA_DIR": str(tmp_path / "data"),
        "VIVA_ADMIN_EMAIL": ADMIN_EMAIL,
        "VIVA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VIVA_TTS_PREFETCH": "false",
        "VIVA_LOG_LEVEL": "WARNING",
    }
    server = start_instance(env, port, tmp_path / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            api = Api(http, SimpleNamespace(base_url=base))  # type: ignore[arg-type]
            hr, _, interview_id, token = schedule_with_hr(api)
            hr_token = token_of(hr["headers"])
            slow_monitor = open_socket(monitor_url(base, interview_id), max_queue=1, open_timeout=10)
            slow_monitor.send(json.dumps({"type": "hello", "token": hr_token, "protocol": "1.0"}))
            slow_candidate = Candidate(room_url(base, interview_id), token)
            reader = Monitor(monitor_url(base, interview_id), hr_token)
            try:
                slow_candidate.send({"type": "hello", "token": token, "protocol": "1.0"})
                slow_candidate.start_audio()  # audio flows, so the question is asked and spoken to it
                reader.wait("listening", timeout=60)  # the question was synthesised (speech model loaded)
                asyncio.run(publish_events(private_redis.url, prefix, interview_id, WARM_UP))
                reader.wait("note.added", timeout=30, note_id=f"n{WARM_UP - 1}")
                before = rss_bytes(server.pid)
                asyncio.run(publish_events(private_redis.url, prefix, interview_id, EVENTS))
                deadline = time.monotonic() + 60
                while len([f for f in reader.frames if f["type"] == "note.added"]) < WARM_UP + EVENTS:
                    assert time.monotonic() < deadline, "the reading monitor got every event in time"
                    assert http.get("/healthz").status_code == 200
                    time.sleep(0.5)
                time.sleep(1.0)
                after = rss_bytes(server.pid)
                growth = after - before
                mib = (before / 2**20, after / 2**20, growth / 2**20)
                print("server RSS %.1f MiB -> %.1f MiB (+%.1f MiB)" % mib)  # noqa: UP031
                assert growth < RSS_BOUND_BYTES, f"RSS grew by {growth / 2**20:.1f} MB"
                assert http.get("/healthz").status_code == 200
                assert json.loads(slow_monitor.recv(timeout=10))["type"] == "monitor.welcome"
            finally:
                reader.close()
                slow_candidate.close()
                slow_monitor.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
