"""The engine's first import, made once per process under one lock, and the background warm-up.

Importing transformers from two threads at once can fail half-way: its lazy modules import each
other, the import system breaks the resulting lock cycle by handing one thread a half-initialised
module, and a page then dies with "cannot import name 'AutoConfig' from 'transformers'". So the
first import of the engine happens under ``ENGINE_LOCK``, by whichever thread gets there first:
deploy.serve's warm-up thread (``warm``), or a page (``import_engine``, called by app.py before a
page runs, and by home after its model-free title). The warm-up holds the lock until the default
model is loaded and has run once, so a page that arrives meanwhile waits for exactly the work it
would otherwise do itself. This module imports nothing heavy itself.
"""
from __future__ import annotations

import threading

ENGINE_LOCK = threading.RLock()
_ready = threading.Event()


def import_engine() -> None:
    """Import torch, transformers and the model registry (once; thread-safe, cheap afterwards)."""
    if _ready.is_set():
        return
    with ENGINE_LOCK:
        if _ready.is_set():
            return
        import transformers
        from core.runtime import adapters, models  # noqa: F401 - transformers' auto classes resolved here
        for name in ("AutoConfig", "AutoTokenizer", "AutoModel", "AutoModelForCausalLM", "PreTrainedModel"):
            getattr(transformers, name)
        _ready.set()


def warm(text: str = "The capital of France is") -> None:
    """Import the engine, load the default causal model and page its weights in with one short
    forward pass. Errors are left for the page that needs the model to show."""
    with ENGINE_LOCK:
        try:
            import_engine()
            from core.runtime import models
            models.run(models.DEFAULT_CAUSAL, text)
            import plotly.graph_objects  # noqa: F401 - the first chart's builder
        except Exception:  # noqa: BLE001 - the page reports a missing model itself
            pass
