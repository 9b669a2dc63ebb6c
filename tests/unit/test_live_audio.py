"""The live audio path: energy VAD on real speech with background noise, and the bounded answer recording."""

from __future__ import annotations

import wave
from io import BytesIO

import numpy as np

from server.live.audio import SAMPLE_RATE, AnswerRecording, PreRoll, VoiceActivity
from tests.media import speech


def speech_16k() -> np.ndarray:
    pcm, rate = speech()
    return np.interp(np.arange(0, len(pcm), rate / SAMPLE_RATE), np.arange(len(pcm)), pcm).astype(np.int16)


def test_vad_finds_speech_in_noise() -> None:
    """Speech between stretches of low noise starts within 0.2 s of its onset and stops after it ends."""
    voice = speech_16k()
    noise = np.random.default_rng(1).normal(0, 40, 2 * SAMPLE_RATE).astype(np.int16)
    stream = np.concatenate([noise, voice, noise]).tobytes()
    vad = VoiceActivity()
    events = []
    for start in range(0, len(stream), 640):  # 20 ms messages, as a client would send
        events += vad.feed(stream[start : start + 640])
    starts = [e.at_s for e in events if e.kind == "speech.started"]
    stops = [e.at_s for e in events if e.kind == "speech.stopped"]
    assert starts and abs(starts[0] - 2.0) < 0.3
    assert stops and abs(stops[-1] - (2.0 + len(voice) / SAMPLE_RATE)) < 0.6
    assert abs(vad.stream_s - len(stream) / 2 / SAMPLE_RATE) < 0.02


def test_vad_ignores_steady_noise() -> None:
    """Steady background noise alone never counts as speech."""
    noise = np.random.default_rng(2).normal(0, 200, 5 * SAMPLE_RATE).astype(np.int16).tobytes()
    vad = VoiceActivity()
    assert vad.feed(noise) == []


def test_recording_is_bounded_and_plays() -> None:
    """The recording keeps at most its limit and turns into a valid 16 kHz mono WAV."""
    recording = AnswerRecording(max_seconds=1.0)
    for _ in range(3):
        recording.add(np.full(SAMPLE_RATE, 1000, np.int16).tobytes())
    assert recording.seconds == 1.0 and len(recording.samples()) == SAMPLE_RATE
    with wave.open(BytesIO(recording.wav_bytes())) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getnframes()) == (SAMPLE_RATE, 1, SAMPLE_RATE)


def test_pre_roll_keeps_the_last_half_second_and_never_reaches_back_past_a_question() -> None:
    """The pre-roll keeps the latest audio up to its length; once a question starts (fence) nothing heard
    before it is kept, so an answer's recording cannot begin with the previous answer's last word."""
    pre_roll = PreRoll(0.5)
    frames = [bytes([n]) * 640 for n in range(40)]  # 40 frames of 20 ms
    for frame in frames:
        pre_roll.add(frame)
    kept = pre_roll.chunks()
    assert kept == frames[-len(kept) :] and 16_000 <= sum(map(len, kept)) <= 16_000 + 640
    pre_roll.fence()
    assert pre_roll.chunks() == []
    pre_roll.add(frames[0])
    assert pre_roll.chunks() == [frames[0]], "audio after the question started is kept"
