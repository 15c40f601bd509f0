"""Input caps. Hosted mode (``ATLAS_HOSTED=1``) tightens every one; pages state them in the UI."""
from __future__ import annotations

import os
from dataclasses import dataclass

from core.runtime.errors import InputError


@dataclass(frozen=True)
class Limits:
    max_text_chars: int       # characters of pasted text
    max_tokens: int           # tokens in one forward pass
    max_upload_bytes: int     # one uploaded file
    max_image_pixels: int     # decoded image width*height (decompression-bomb guard)
    max_corpus_chars: int     # corpora for training (BPE, word2vec)
    bertviz_max_tokens: int   # bertviz HTML grows as T^2 * layers * heads
    max_audio_s: float = 30.0  # seconds of speech (Whisper's window is 30 s; hosted decodes less)


LOCAL = Limits(max_text_chars=50_000, max_tokens=4096, max_upload_bytes=20 * 2**20,
               max_image_pixels=40_000_000, max_corpus_chars=2_000_000, bertviz_max_tokens=128)
HOSTED = Limits(max_text_chars=4_000, max_tokens=1024, max_upload_bytes=5 * 2**20,
                max_image_pixels=4_000_000, max_corpus_chars=200_000, bertviz_max_tokens=64, max_audio_s=20.0)


def hosted() -> bool:
    return os.environ.get("ATLAS_HOSTED", "").strip().lower() in {"1", "true", "yes", "on"}


def current() -> Limits:
    return HOSTED if hosted() else LOCAL


def check_text(text: str, *, what: str = "text", allow_empty: bool = False) -> str:
    """Validate user text against the cap; raise InputError naming the cap. Never truncates."""
    if text is None:
        text = ""
    cap = current().max_text_chars
    if not allow_empty and not text.strip():
        raise InputError(f"The {what} is empty. Type or paste something to analyse.")
    if len(text) > cap:
        raise InputError(
            f"The {what} has {len(text):,} characters; the cap is {cap:,}"
            f"{' in hosted mode' if hosted() else ''}. Shorten it; nothing is cut silently.")
    return text


def check_tokens(n_tokens: int) -> None:
    cap = current().max_tokens
    if n_tokens > cap:
        raise InputError(
            f"The input is {n_tokens:,} tokens; the cap for a forward pass is {cap:,}"
            f"{' in hosted mode' if hosted() else ''}. Shorten it; nothing is cut silently.")


def check_upload(n_bytes: int, what: str = "upload") -> None:
    """Refuse an uploaded file over the byte cap, naming it."""
    cap = current().max_upload_bytes
    if n_bytes > cap:
        raise InputError(f"The {what} is {n_bytes / 2**20:.1f} MB; the cap is {cap / 2**20:.0f} MB"
                         f"{' in hosted mode' if hosted() else ''}.")
