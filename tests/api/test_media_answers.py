"""Seed 001 §3: recorded answers are uploaded, transcribed, analysed and scored by a durable job."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from server.config import Settings
from tests.api.support import create
from tests.media import ANSWER_TEXT, speech, word_error_rate, write_recording
from tests.support import Api, live_server, make_settings

ROOT = Path(__file__).resolve().parents[2]
LONG_EXTRA = (
    "Later I moved the service to Kubernetes and added autoscaling, which kept costs down at night.",
    "When an outage happened, I wrote the postmortem, and we added alerts on error rates and queue depth.",
)
LONG_TEXT = " ".join([ANSWER_TEXT, *LONG_EXTRA])


def started_interview(api: Api) -> tuple[dict[str, str], str, list[str]]:
    """A candidate's interview, set up and started; returns (headers, interview id, question ids)."""
    me = api.register()
    interview_id = create(api, me)
    api.client.post(f"/interviews/{interview_id}/setup-ai", headers=me)
    api.client.post(f"/interviews/{interview_id}/start", params={"voice": "male"}, headers=me)
    first = api.client.get(f"/interviews/{interview_id}/next-question", headers=me).json()
    return me, interview_id, [first["question_id"]]


def upload(
    api: Api, headers: dict[str, str], interview_id: str, question_id: str, path: Path
) -> httpx.Response:
    with path.open("rb") as handle:
        return api.client.post(
            f"/interviews/{interview_id}/questions/{question_id}/upload-video",
            headers=headers,
            files={"video": (path.name, handle, "video/webm")},
        )


def wait_for(api: Api, headers: dict[str, str], interview_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        report: dict[str, Any] = api.client.get(f"/interviews/{interview_id}/report", headers=headers).json()
        if report.get("status") != "processing" or time.monotonic() > deadline:
            return report
        time.sleep(0.2)


@pytest.mark.parametrize("kind", ["webm", "mp4"])
def test_recorded_answer_is_transcribed_and_scored(api: Api, tmp_path: Path, kind: str) -> None:
    """A WebM or MP4 answer gets a transcript (low WER), delivery metrics and scores; the report completes."""
    me, interview_id, (question_id,) = started_interview(api)
    pcm, rate = speech()
    recording = write_recording(tmp_path / f"answer.{kind}", pcm, rate, kind=kind)
    response = upload(api, me, interview_id, question_id, recording)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Video uploaded successfully. Processing started."
    first = api.client.get(f"/interviews/{interview_id}/report", headers=me).json()
    assert first.get("status") == "processing" or "decision" in first
    report = wait_for(api, me, interview_id)
    assert "decision" in report, report
    (question,) = report["questions"]
    assert word_error_rate(ANSWER_TEXT, question["transcript"]) < 0.3, question["transcript"]
    delivery = question["delivery"]
    assert 90 < delivery["words_per_minute"] < 250 and delivery["words"] >= 25
    assert question["confidence"] in ("high", "medium", "low") and question["emotion"] in (
        "positive",
        "neutral",
        "negative",
    )
    assert 0 <= question["accuracy"] <= 100
    analysis = api.client.post(
        f"/interviews/{interview_id}/questions/{question_id}/analyze", headers=me
    ).json()
    assert analysis["transcript"] == question["transcript"] and analysis["message"] == "Analysis completed"


def test_bad_recordings_are_refused(api: Api, tmp_path: Path) -> None:
    """No audio track, an undecodable file, an empty file or a missing file are 400s and store nothing."""
    me, interview_id, (question_id,) = started_interview(api)
    silent_video = tmp_path / "novoice.webm"
    import av

    with av.open(str(silent_video), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for n in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    garbage = tmp_path / "garbage.webm"
    garbage.write_bytes(b"\x1a\x45\xdf\xa3" + os.urandom(5000))
    empty = tmp_path / "empty.webm"
    empty.write_bytes(b"")
    for path in (silent_video, garbage, empty):
        response = upload(api, me, interview_id, question_id, path)
        assert response.status_code == 400, (path.name, response.text)
        assert "Traceback" not in response.text
    missing = api.client.post(f"/interviews/{interview_id}/questions/{question_id}/upload-video", headers=me)
    assert missing.status_code == 400
    assert api.client.get(f"/interviews/{interview_id}/report", headers=me).json()["status"] == "incomplete"
    answers_dir = Path(api.server.settings.uploads_dir) / "answers"
    assert not answers_dir.exists() or list(answers_dir.iterdir()) == []


def test_oversized_recording_is_413(tmp_path: Path, database_url: str) -> None:
    """A recording over the configured size limit is refused with 413 while streaming."""
    settings = make_settings(tmp_path, database_url, max_video_bytes=50_000)
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        api = Api(client, server)
        me, interview_id, (question_id,) = started_interview(api)
        pcm, rate = speech()
        response = upload(api, me, interview_id, question_id, write_recording(tmp_path / "a.webm", pcm, rate))
        assert response.status_code == 413


def _sqlite_answer(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT status, job_attempts, job_worker, transcript FROM answers").fetchone()
        return dict(row) if row else {}


def spawn_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m server worker`` in a subprocess, its output in ``log`` (kept for a failing test)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "server", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def worker_env(tmp_path: Path) -> Iterator[tuple[Settings, dict[str, str]]]:
    db = tmp_path / "viva.db"
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{db}", embedded_worker=False)
    env = {
        **os.environ,
        "DATABASE_URL": settings.effective_database_url,
        "VIVA_DATA_DIR": str(settings.data_dir),
        "VIVA_JOB_LEASE_S": "3",
        "VIVA_JOB_POLL_S": "0.2",
        "VIVA_LOG_JSON": "false",
        "VIVA_AI_PROVIDER": "offline",
    }
    yield settings, env


def test_killed_worker_job_is_finished_once_by_the_next(
    worker_env: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    """A worker killed mid-job leaves a lease; the next worker takes the job over and finishes it once."""
    settings, env = worker_env
    db = Path(settings.effective_database_url.split(":///", 1)[1])
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        api = Api(client, server)
        me, interview_id, (question_id,) = started_interview(api)
        pcm, rate = speech()
        # ~30 s of distinct sentences (a thrice-repeated clip trips Whisper's repetition guard at random)
        long_pcm = np.concatenate([pcm, *(speech(text)[0] for text in LONG_EXTRA)])
        assert (
            upload(
                api, me, interview_id, question_id, write_recording(tmp_path / "a.webm", long_pcm, rate)
            ).status_code
            == 200
        )
        assert _sqlite_answer(db)["status"] == "uploaded"

        first = spawn_worker(env, tmp_path / "worker-1.log")
        try:
            deadline = time.monotonic() + 30
            while _sqlite_answer(db)["status"] != "processing":
                assert time.monotonic() < deadline and first.poll() is None
                time.sleep(0.02)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        killed = _sqlite_answer(db)
        assert (
            killed["status"] == "processing" and killed["job_attempts"] == 1 and killed["transcript"] is None
        )

        second = spawn_worker(env, tmp_path / "worker-2.log")
        try:
            report = wait_for(api, me, interview_id, timeout=90)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
        done = _sqlite_answer(db)
        assert (
            done["status"] == "completed"
            and done["job_attempts"] == 2
            and done["job_worker"].split("/")[0] != killed["job_worker"].split("/")[0]
        )
        assert "decision" in report and word_error_rate(LONG_TEXT, report["questions"][0]["transcript"]) < 0.4
        assert second.returncode == 0


def test_voice_note_is_transcribed(api: Api) -> None:
    """Seed 004: an evaluation's voice note is transcribed in the background and shown with the evaluation."""
    import io
    import wave

    from tests.api.support import BASE, started

    hr = api.make_user("hr", name="Jane Smith")
    _, interview_id = started(api, hr)
    note = "The candidate knows Python well and explained caching clearly."
    pcm, rate = speech(note)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    response = api.client.post(
        f"{BASE}/{interview_id}/evaluation/",
        headers=hr["headers"],
        data={"knowledge": "8"},
        files={"voice_note": ("note.wav", buffer.getvalue(), "audio/wav")},
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["voice_note_status"] == "transcribing"
    deadline = time.monotonic() + 60
    while True:
        evaluation = api.client.get(f"{BASE}/{interview_id}/", headers=hr["headers"]).json()["data"][
            "evaluation"
        ]
        if evaluation["voice_note_status"] == "transcribed" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert word_error_rate(note, evaluation["voice_note_transcript"]) < 0.3
