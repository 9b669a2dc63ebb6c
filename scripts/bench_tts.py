"""TTS benchmark: time to first audio for a new 3-sentence question, real-time factor, cached first chunk.

Usage: ``python scripts/bench_tts.py [--json out.json] [--runs 5]``; or ``from scripts.bench_tts import run``.
Models are loaded and warmed up first (reported apart as ``warm_up_s``); every measured question is new
text, so nothing comes from the cache except in the ``cached_first_chunk`` column. Target: first audio
<= 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_FIRST_AUDIO_MS = 300
SUBJECTS = [
    "a data pipeline",
    "a mobile app",
    "an API gateway",
    "a billing system",
    "a search feature",
    "a test suite",
    "a deployment process",
    "a caching layer",
    "an onboarding flow",
    "a monitoring setup",
]


def question(n: int) -> str:
    """A new three-sentence interview question (distinct text, so never cached)."""
    subject = SUBJECTS[n % len(SUBJECTS)]
    return (
        f"Tell me about {subject} you built recently. What was the hardest decision you made on it? "
        f"How would you improve it with question number {n} in mind?"
    )


async def _measure(voice: str, texts: list[str], service: Any) -> dict[str, Any]:
    first, total, audio = [], [], []
    for text in texts:
        started = time.perf_counter()
        seconds = 0.0
        async for chunk in service.stream(text, voice):
            if seconds == 0.0:
                first.append(time.perf_counter() - started)
            seconds += chunk.duration_s
        total.append(time.perf_counter() - started)
        audio.append(seconds)
    cached = []
    for text in texts:
        started = time.perf_counter()
        async for _chunk in service.stream(text, voice):
            cached.append(time.perf_counter() - started)
            break
    return {
        "runs": len(texts),
        "first_audio_ms": round(statistics.median(first) * 1000, 1),
        "first_audio_ms_all": [round(x * 1000, 1) for x in first],
        "synthesis_s": round(statistics.median(total), 3),
        "audio_s": round(statistics.median(audio), 2),
        "rtf": round(sum(total) / sum(audio), 3),
        "cached_first_chunk_ms": round(statistics.median(cached) * 1000, 2),
        "meets_target": statistics.median(first) * 1000 <= TARGET_FIRST_AUDIO_MS,
    }


async def _run(runs: int) -> dict[str, Any]:
    from server.speech.tts import TTSService
    from server.speech.tts_piper import PiperEngine

    with tempfile.TemporaryDirectory() as uploads:
        service = TTSService([PiperEngine()], Path(uploads))
        try:
            started = time.perf_counter()
            await service.warm_up()
            warm_up_s = time.perf_counter() - started
            voices = {}
            for offset, voice in enumerate(("male", "female")):
                texts = [question(offset * 100 + n) for n in range(runs)]
                voices[voice] = await _measure(voice, texts, service)
        finally:
            await service.close()
    return {
        "engine": "piper",
        "target_first_audio_ms": TARGET_FIRST_AUDIO_MS,
        "warm_up_s": round(warm_up_s, 2),
        "voices": voices,
    }


def run(runs: int = 5) -> dict[str, Any]:
    """Run the TTS benchmark and return its results (with machine info under ``machine``)."""
    results = asyncio.run(_run(runs))
    results["machine"] = machine()
    return results


def table(results: dict[str, Any]) -> str:
    rows = [f"{'voice':<8}{'first audio':>13}{'RTF':>8}{'audio':>8}{'cached 1st':>12}  target<=300ms"]
    for voice, r in results["voices"].items():
        rows.append(
            f"{voice:<8}{r['first_audio_ms']:>10.0f} ms{r['rtf']:>8.3f}{r['audio_s']:>7.1f}s"
            f"{r['cached_first_chunk_ms']:>9.1f} ms  {'ok' if r['meets_target'] else 'MISSED'}"
        )
    m = results["machine"]
    rows.append(f"machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, load {m['load_average']}")
    rows.append(f"warm-up (load both voices): {results['warm_up_s']} s")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--runs", type=int, default=5, help="distinct questions per voice (median of them)")
    args = parser.parse_args()
    results = run(args.runs)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
