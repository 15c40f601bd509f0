"""Caching at the UI edge: one shared model per process, bounded caches of forward passes."""
from __future__ import annotations

import streamlit as st

from core.runtime import models


@st.cache_resource(show_spinner="Loading model (once per server process)…", max_entries=4)
def load_model(name: str) -> models.LoadedModel:
    return models.load(name)


@st.cache_resource(show_spinner="Running the model…", max_entries=6)
def run_model(name: str, text: str) -> models.RunResult:
    """Forward passes are shared read-only between sessions (same name + text, same result)."""
    load_model(name)
    return models.run(name, text)


class _Memo:
    """A small thread-safe LRU shared by every session of the process."""

    def __init__(self, max_entries: int):
        import collections
        import threading
        self.max_entries, self.items, self.lock = max_entries, collections.OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return True, self.items[key]
        return False, None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.max_entries:
                self.items.popitem(last=False)


@st.cache_resource
def _memo(kind: str, max_entries: int) -> _Memo:
    return _Memo(max_entries)


def memo_with_progress(kind: str, key: tuple, compute, *, max_entries: int = 2, label: str = "Working…"):
    """Cache ``compute(progress)`` per process like st.cache_resource, but show a live progress bar
    while it runs. (A progress bar created outside an st.cache_* function cannot be replayed on a
    cache hit, so those decorators can't wrap work that reports progress.)"""
    memo = _memo(kind, max_entries)
    hit, value = memo.get(key)
    if hit:
        return value
    bar = st.progress(0.0, text=label)
    value = compute(lambda f, msg="": bar.progress(min(max(float(f), 0.0), 1.0), text=f"{label} {msg}"))
    bar.empty()
    memo.put(key, value)
    return value
