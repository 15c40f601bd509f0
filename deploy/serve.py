"""Start the Atlas with Streamlit: ``python -m deploy.serve [streamlit run options]``.

Streamlit 1.67 treats any ``pages/`` folder beside the main script as a legacy (v1) multipage
folder: a deep link such as ``/kv-cache`` then either runs the bare page file without app.py
(when the file name matches) or shows a "Page not found" dialog first. The Atlas declares its
pages with ``st.navigation`` in app.py, so legacy mode is switched off before the server starts
and every link runs app.py (navigation, shared sidebar, tour banner). Used by ``make run``, the
browser tests, the load test and the nginx replicas.

A background thread warms the engine once the server is up: it imports torch and transformers,
loads the default causal model into the process-wide registry (``core.runtime.models.load``) and,
if no visitor has come yet, runs one short forward pass, so the memory-mapped weights are paged
in. It starts after ``IDLE_S`` seconds without a visitor, or half a second after the first visitor connects: importing
torch holds the GIL for long stretches, and started any earlier it would hold up the server
sending the first browser its page. app.py itself imports no torch, so the navigation and the
model-free parts of a page paint first. The warm-up and the pages import the engine under one lock
(``core.runtime.warmup``): two threads importing transformers at once can fail half-way. The lock
covers only the imports; a page then waits for the default model's load if it asks for that model,
never for the warm-up's forward pass.
``ATLAS_WARM=0`` turns the warm-up off.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def disable_legacy_pages_folder() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    PagesManager.uses_pages_directory = False


IDLE_S = 3.0


def _wait_for_first_visitor(idle_s: float = IDLE_S) -> bool:
    """Return True once the first visitor has connected (after half a second), False after
    ``idle_s`` with none or when the server stops."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState
    deadline = None
    while True:
        if Runtime.exists():
            state = Runtime.instance().state
            if state == RuntimeState.ONE_OR_MORE_SESSIONS_CONNECTED:
                time.sleep(0.5)                  # let the first script run send its model-free part
                return True
            if state in (RuntimeState.STOPPING, RuntimeState.STOPPED):
                return False
            if state == RuntimeState.NO_SESSIONS_CONNECTED:
                deadline = deadline or time.monotonic() + idle_s
                if time.monotonic() > deadline:
                    return False
        time.sleep(0.05)


def warm() -> None:
    """Wait for the first visitor (or ``IDLE_S`` of none), then ``core.runtime.warmup.warm``: the
    engine's imports (under the lock pages import under), the default model, and one forward pass
    only if nobody is visiting yet (a visitor's page runs its own)."""
    visitor = _wait_for_first_visitor()
    from core.runtime import warmup
    warmup.warm(forward=not visitor)


def start_warm_thread() -> threading.Thread | None:
    if os.environ.get("ATLAS_WARM", "1").strip() == "0":
        return None
    thread = threading.Thread(target=warm, name="atlas-warm", daemon=True)
    thread.start()
    return thread


def check_cache_or_exit() -> None:
    """A read-only, full or blocked cache folder stops start-up with one line naming it (exit 2)."""
    from core.runtime.paths import CacheDirUnusable, check_cache_dir
    try:
        check_cache_dir()
    except CacheDirUnusable as exc:
        print(f"[atlas] {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> None:
    check_cache_or_exit()
    from streamlit.web import cli
    disable_legacy_pages_folder()
    start_warm_thread()
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
