"""Audio in, offline: speech made by espeak-ng, files decoded by soundfile (libsndfile: WAV, FLAC,
MP3, OGG), resampled to Whisper's 16 kHz with ``scipy.signal.resample_poly``, checked, then turned
into Whisper's 80-band log-mel spectrogram (``transformers.WhisperFeatureExtractor``: 25 ms windows,
10 ms hops, 3,000 frames = 30 s, zero-padded).

Nothing is cut silently: audio longer than the window (or the hosted cap) is refused naming the limit.
"""
from __future__ import annotations

import functools
import io
import shutil
import subprocess
from fractions import Fraction

import numpy as np

from core.runtime import limits
from core.runtime.errors import InputError, ModelUnavailable

SAMPLE_RATE = 16_000
WINDOW_S = 30.0                  # Whisper's input window
HOP_S = 0.01                     # one mel frame
SILENCE_PEAK = 1e-3              # a peak below this (about -60 dBFS) is treated as silence
MIN_S = 0.1


def speak(text: str, voice: str = "en-us", words_per_minute: int = 150) -> tuple[np.ndarray, int]:
    """``text`` spoken by espeak-ng (a formant synthesiser: robotic, but offline):
    (float32 mono samples in [-1, 1], sample rate)."""
    text = limits.check_text(text, what="text to speak")
    if len(text) > 600:
        raise InputError(f"The text to speak has {len(text)} characters; the cap is 600 "
                         "(about 30 s of speech, Whisper's window).")
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ModelUnavailable("espeak-ng is not installed (Debian package espeak-ng; `make setup` installs it).")
    proc = subprocess.run([exe, "-v", voice, "-s", str(words_per_minute), "--stdout", text],
                          capture_output=True, timeout=60, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise ModelUnavailable(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
    return decode(proc.stdout, what="espeak-ng output")


def decode(data: bytes, what: str = "file") -> tuple[np.ndarray, int]:
    """Bytes of an audio file -> (float32 mono, sample rate). A non-audio, corrupt or empty file
    raises InputError saying which."""
    import soundfile as sf

    if not data:
        raise InputError(f"The {what} is empty (0 bytes): record or upload some speech.")
    limits.check_upload(len(data), what)
    try:
        audio, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        kind = "corrupt or truncated audio" if _looks_like_audio(data) else "not an audio file"
        raise InputError(f"The {what} is {kind} that can be read (WAV, FLAC, MP3 or OGG expected): "
                         f"{str(exc).splitlines()[0][:160]}") from exc
    if audio.shape[0] == 0:
        raise InputError(f"The {what} holds no samples: it is an empty recording.")
    return audio.mean(axis=1).astype(np.float32), int(sr)


def _looks_like_audio(data: bytes) -> bool:
    head = data[:12]
    return head[:4] in (b"RIFF", b"fLaC", b"OggS") or head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3")


def to_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz, checked: not empty, not silent, finite, within the window."""
    from scipy.signal import resample_poly

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1 if audio.shape[1] <= 8 else 0)
    if audio.ndim != 1:
        raise InputError(f"Audio must be mono samples or (samples, channels); got shape {audio.shape}.")
    if not sample_rate or sample_rate <= 0:
        raise InputError(f"The sample rate must be positive; got {sample_rate}.")
    check_duration(audio.shape[0] / sample_rate)
    if not np.isfinite(audio).all():
        raise InputError("The audio contains NaN or infinite samples.")
    if sample_rate != SAMPLE_RATE:
        r = Fraction(SAMPLE_RATE, int(sample_rate)).limit_denominator(1000)
        audio = resample_poly(audio, r.numerator, r.denominator).astype(np.float32)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak < SILENCE_PEAK:
        raise InputError(f"The audio is silent (peak amplitude {peak:.1e}, below {SILENCE_PEAK:g}): "
                         "nothing to transcribe. Check the microphone or the file.")
    return audio


def check_duration(seconds: float) -> None:
    cap = min(WINDOW_S, limits.current().max_audio_s)
    if seconds < MIN_S:
        raise InputError(f"The audio is {seconds * 1000:.0f} ms long: an empty or too short recording "
                         f"(at least {MIN_S * 1000:.0f} ms).")
    if seconds > cap:
        why = "Whisper's input window" if cap == WINDOW_S else "the hosted cap"
        raise InputError(f"The audio is {seconds:.1f} s long; the limit is {cap:.0f} s ({why}). "
                         "Trim it; nothing is cut silently.")


@functools.lru_cache(maxsize=1)
def _extractor():
    from transformers import WhisperFeatureExtractor
    return WhisperFeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE)


def log_mel(audio16: np.ndarray) -> np.ndarray:
    """(80, 3000) Whisper log-mel features of 16 kHz audio, zero-padded to 30 s."""
    return _extractor()(audio16, sampling_rate=SAMPLE_RATE, return_tensors="np").input_features[0]
