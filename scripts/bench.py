"""Viva benchmarks: ``scripts/bench [rest] [stt] [tts] [memory] [monitor] [live [N]] [--json FILE]``.

With no section named, every section runs.

Each figure states the machine and settings. Results are printed as a table and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def bench_stt() -> dict[str, Any]:
    """STT real-time factor and latency after the end of 5 s and 30 s answers (bundled tiny.en, int8)."""
    import numpy as np

    from server.config import Settings
    from server.speech.stt import SAMPLE_RATE, Transcriber
    from tests.media import speech

    settings = Settings()
    model = Transcriber(
        settings.whisper_model, cpu_threads=settings.stt_cpu_threads, beam_size=settings.stt_beam_size
    )
    started = time.perf_counter()
    model.load()
    load_s = time.perf_counter() - started
    pcm, rate = speech()
    base = (
        np.interp(np.arange(0, len(pcm), rate / SAMPLE_RATE), np.arange(len(pcm)), pcm).astype(np.float32)
        / 32768
    )
    results: dict[str, Any] = {
        "model": model.name,
        "cpu_threads": settings.stt_cpu_threads,
        "beam_size": settings.stt_beam_size,
        "load_s": round(load_s, 2),
    }
    model.transcribe(base[: 2 * SAMPLE_RATE])  # warm-up
    for seconds in (5, 30):
        audio = np.tile(base, int(np.ceil(seconds * SAMPLE_RATE / len(base))))[: seconds * SAMPLE_RATE]
        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            model.transcribe(audio)
            timings.append(time.perf_counter() - t0)
        latency = statistics.median(timings)
        results[f"{seconds}s"] = {"latency_s": round(latency, 3), "rtf": round(latency / seconds, 3)}
    return results


def bench_tts() -> dict[str, Any]:
    try:
        sys.path.insert(0, str(ROOT / "scripts"))
        import bench_tts  # type: ignore[import-not-found]
    except ImportError as exc:
        return {"error": f"TTS bench unavailable: {exc}"}
    result: dict[str, Any] = bench_tts.run()
    return result


def bench_memory() -> dict[str, Any]:
    """Peak RSS (VmHWM) of a server with both speech models loaded and one transcription and TTS done."""
    from bench_server import serving  # type: ignore[import-not-found]

    with serving(VIVA_PRELOAD_MODELS="true", VIVA_LOG_JSON="true") as server:
        time.sleep(2)
        status = Path(f"/proc/{server.pid}/status").read_text()
    fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status.splitlines() if ":" in line}
    return {
        "peak_rss_mb": round(int(fields["VmHWM"].split()[0]) / 1024, 1),
        "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
        "preload_models": True,
    }


def bench_monitor() -> dict[str, Any]:
    """HR monitor fan-out latency (EventBus publish → monitor socket) with 1, 10 and 50 monitors."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_monitor  # type: ignore[import-not-found]

    result: dict[str, Any] = bench_monitor.run()
    return result


def bench_live(sessions: int | None = None) -> dict[str, Any]:
    """Live sessions over WebRTC: N candidates (default: a sweep of 1, 4, 8, 12), both advance modes."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_live  # type: ignore[import-not-found]

    result: dict[str, Any] = bench_live.run((sessions,) if sessions else (1, 4, 8, 12, 16))
    return result


def bench_rest() -> dict[str, Any]:
    """REST throughput and latency of each family's hot routes, on SQLite and PostgreSQL."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_rest  # type: ignore[import-not-found]

    result: dict[str, Any] = bench_rest.run()
    return result


SECTIONS = {
    "rest": bench_rest,
    "stt": bench_stt,
    "tts": bench_tts,
    "memory": bench_memory,
    "monitor": bench_monitor,
    "live": bench_live,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)}; 'live N' runs N sessions")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results.json")
    args = parser.parse_args()
    live_sessions = next((int(a) for a in args.sections if a.isdigit()), None)
    args.sections = [a for a in args.sections if not a.isdigit()]
    unknown = [a for a in args.sections if a not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    results: dict[str, Any] = {
        "machine": machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for name in args.sections or list(SECTIONS):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = bench_live(live_sessions) if name == "live" else SECTIONS[name]()
        args.json.write_text(json.dumps(results, indent=2))  # after each section: a later failure keeps it
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
