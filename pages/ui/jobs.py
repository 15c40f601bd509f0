"""Long work that survives reruns: a job runs in a worker thread, not in the script run, so
switching a tab or moving a control (both rerun the page and would stop work done inline) loses
nothing. Progress is polled by a fragment every second; the result lands in session state.

    result = background("sweep", "training", lambda report: train(cfg, report), button="Train")

The job's function gets ``report(fraction, message)``; it must not call Streamlit.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import streamlit as st

from core.runtime import limits
from pages.ui.budget import KINDS, reserve


@dataclass
class Job:
    future: Future | None = None
    fraction: float = 0.0
    message: str = "Starting…"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def report(self, fraction: float, message: str) -> None:
        with self.lock:
            self.fraction, self.message = min(max(fraction, 0.0), 1.0), message


@st.cache_resource
def _pool() -> ThreadPoolExecutor:
    """Workers shared by every session of the process (hosted mode also limits them per kind)."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="atlas-job")


def _run(release: Callable[[], None], fn: Callable, job: Job, what: str):
    try:
        with limits.run_budget(what):               # hosted: stopped at a checkpoint past the budget
            return fn(job.report)
    finally:
        release()                                   # the hosted slot taken in the script run


def background(key: str, kind: str, fn: Callable[[Callable[[float, str], None]], object], *,
               button: str, icon: str | None = None):
    """A button that starts ``fn`` in the background (once per session and ``key``); returns its
    result once finished, else None (showing progress while it runs)."""
    done_key, job_key = f"job:{key}:result", f"job:{key}"
    if done_key in st.session_state:
        return st.session_state[done_key]
    job: Job | None = st.session_state.get(job_key)
    if job is None and st.button(button, icon=icon):
        release = reserve(kind)                     # may refuse (hosted caps): nothing is started
        job = Job()
        job.future = _pool().submit(_run, release, fn, job, KINDS[kind][3])
        st.session_state[job_key] = job
    if job is None:
        return None
    if job.future.done():
        del st.session_state[job_key]
        st.session_state[done_key] = job.future.result()   # a failure is raised here, inside guard()
        return st.session_state[done_key]
    _progress(job_key)
    return None


@st.fragment(run_every=1.0)
def _progress(job_key: str) -> None:
    job: Job | None = st.session_state.get(job_key)
    if job is None:
        return
    if job.future.done():
        st.rerun()                                  # the whole page, to show the result
    with job.lock:
        st.progress(job.fraction, text=f"{job.message} — runs in the background; other tabs and controls "
                                       "can be used meanwhile.")
