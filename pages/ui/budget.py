"""Hosted mode: expensive actions (training, long-sequence runs, flex compilation, activation
patching, ablation sweeps) are limited per session and run one at a time per server process; the
rest wait briefly, then are refused with a message. Each run also has a time budget
(``limits.run_budget``): past it, the run stops at its next checkpoint with a message, and counts.
Locally nothing is limited."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import streamlit as st

from core.runtime import limits
from core.runtime.errors import InputError, OverBudget
from pages.ui.engine import memo_with_progress

# kind -> (runs per session, seconds to wait for a free slot, what to call them, and one)
KINDS = {
    "training": (3, 20.0, "training runs", "training run"),
    "long-sequence": (5, 20.0, "long-sequence forward passes", "long-sequence forward pass"),
    "compile": (2, 20.0, "flex-attention measurements", "flex-attention measurement"),
    "patching": (5, 20.0, "activation-patching runs", "activation-patching run"),
    "sweep": (10, 20.0, "ablation sweeps", "ablation sweep"),
    "tradeoff": (5, 20.0, "MLA naive-vs-absorbed measurements", "MLA naive-vs-absorbed measurement"),
}


@st.cache_resource
def _slots() -> dict[str, threading.BoundedSemaphore]:
    """One slot per kind, shared by every session of this process."""
    return {kind: threading.BoundedSemaphore(1) for kind in KINDS}


def describe() -> str:
    return "; ".join(f"{n} {label} per visitor" for n, _, label, _one in KINDS.values())


def reserve(kind: str) -> Callable[[], None]:
    """Take one ``kind`` run from this session's budget and the process's slot; returns the
    release function (callable from any thread). Raises InputError (shown by ``guard``) when
    over budget. Locally nothing is limited."""
    if not limits.hosted():
        return lambda: None
    per_session, wait, label, one = KINDS[kind]
    used = st.session_state.setdefault("atlas-budget", {})
    if used.get(kind, 0) >= per_session:
        raise InputError(f"This hosted demo allows {per_session} {label} per visitor, and you have "
                         f"used them. Run the Atlas locally (`make run`) for unlimited use.")
    slot = _slots()[kind]
    if not slot.acquire(timeout=wait):
        raise InputError(f"Another visitor's {one} is running; this demo runs one at a time. "
                         f"Nothing was started — try again in a minute.")
    used[kind] = used.get(kind, 0) + 1
    return slot.release


@contextlib.contextmanager
def expensive(kind: str):
    """Wrap one expensive action run inline (see ``reserve``), under the hosted time budget. An
    action refused for its input (InputError, raised before the work) is not counted against the
    visitor; one stopped for running past its budget (OverBudget) is."""
    release = reserve(kind)
    try:
        with limits.run_budget(KINDS[kind][3]):
            yield
    except OverBudget:
        raise
    except InputError:
        used = st.session_state.get("atlas-budget", {})
        if limits.hosted() and used.get(kind):
            used[kind] -= 1
        raise
    finally:
        release()


def budgeted_memo(kind: str, key: tuple, work: Callable, label: str, max_entries: int = 2):
    """``memo_with_progress(kind, key, work)``, each computation (not a cache hit) counted as one
    ``kind`` run; a refused input costs nothing and leaves no stale progress bar."""
    def compute(progress):
        with expensive(kind):
            return work(progress)
    box = st.empty()
    try:
        with box.container():
            return memo_with_progress(kind, key, compute, label=label, max_entries=max_entries)
    except InputError:
        box.empty()
        raise
