"""Caching at the UI edge: one shared model per process, bounded caches of forward passes."""
from __future__ import annotations

import streamlit as st

from core import models


@st.cache_resource(show_spinner="Loading model (once per server process)…", max_entries=4)
def load_model(name: str) -> models.LoadedModel:
    return models.load(name)


@st.cache_resource(show_spinner="Running the model…", max_entries=6)
def run_model(name: str, text: str) -> models.RunResult:
    """Forward passes are shared read-only between sessions (same name + text, same result)."""
    load_model(name)
    return models.run(name, text)
