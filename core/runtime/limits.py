"""Input caps. Hosted mode (``ATLAS_HOSTED=1``) tightens every one; pages state them in the UI."""
from __future__ import annotations

import contextlib
import contextvars
import math
import os
import time
from dataclasses import dataclass

from core.runtime.errors import InputError, OverBudget


@dataclass(frozen=True)
class Limits:
    max_text_chars: int       # characters of pasted text
    max_tokens: int           # tokens in one forward pass
    max_upload_bytes: int     # one uploaded file
    max_image_pixels: int     # decoded image width*height (decompression-bomb guard)
    max_corpus_chars: int     # corpora for training (BPE, word2vec)
    bertviz_max_tokens: int   # bertviz HTML grows as T^2 * layers * heads
    max_audio_s: float = 30.0  # seconds of speech (Whisper's window is 30 s; hosted decodes less)
    max_run_s: float = math.inf      # wall seconds one expensive run may take (hosted only)


LOCAL = Limits(max_text_chars=50_000, max_tokens=4096, max_upload_bytes=20 * 2**20,
               max_image_pixels=40_000_000, max_corpus_chars=2_000_000, bertviz_max_tokens=128)
HOSTED = Limits(max_text_chars=4_000, max_tokens=1024, max_upload_bytes=5 * 2**20,
                max_image_pixels=4_000_000, max_corpus_chars=200_000, bertviz_max_tokens=64, max_audio_s=20.0,
                max_run_s=90.0)


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


# --------------------------------------------------------------------------- run time budget

_DEADLINE: contextvars.ContextVar[tuple[float, float, str] | None] = contextvars.ContextVar(
    "atlas_run_deadline", default=None)


def run_budget_s() -> float | None:
    """Seconds one expensive run may take, or None for no limit: ``ATLAS_RUN_BUDGET_S`` if set
    (0 or less: no limit), else the current limits' ``max_run_s`` (hosted 90 s, local none)."""
    raw = os.environ.get("ATLAS_RUN_BUDGET_S", "").strip()
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            raise InputError(f"ATLAS_RUN_BUDGET_S must be a number of seconds, not {raw!r}.") from None
        return seconds if 0 < seconds < math.inf else None
    return current().max_run_s if current().max_run_s < math.inf else None


@contextlib.contextmanager
def run_budget(what: str, seconds: float | None = None):
    """Within the block (this thread or task only), ``checkpoint()`` raises ``OverBudget`` once
    ``seconds`` (default ``run_budget_s()``) have passed. Long loops in core call ``checkpoint()``
    between steps, so a run is stopped between two steps, never in the middle of one."""
    limit = run_budget_s() if seconds is None else seconds
    token = _DEADLINE.set((time.monotonic() + limit, limit, what) if limit else None)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def checkpoint() -> None:
    """Raise ``OverBudget`` if the enclosing ``run_budget`` has run out; else nothing."""
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline[0]:
        _, limit, what = deadline
        raise OverBudget(f"The {what} was stopped after {limit:g} s, this demo's time budget for one run; "
                         "the server stays free for other visitors. Pick a smaller setting, or run the Atlas "
                         "locally (`make run`), where runs have no time limit.")
