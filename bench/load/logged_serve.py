"""``python -m bench.load.logged_serve LOG [streamlit options]``: ``deploy.serve`` plus a thread
that appends ``time active held`` to LOG every 5 s: the sessions with an open websocket, and all
the sessions Streamlit holds (closed ones are kept up to 2 minutes for a reconnect). The soak
counts from it whether sessions are cleaned up after their users leave. (Reads Streamlit's
session manager, a private attribute of its Runtime: a benchmark probe, not app code.)"""
from __future__ import annotations

import sys
import threading
import time


def _log(path: str) -> None:
    from streamlit.runtime import Runtime
    while True:
        time.sleep(5)
        if Runtime.exists():
            mgr = Runtime.instance()._session_mgr
            with open(path, "a") as fh:
                fh.write(f"{time.time():.1f} {mgr.num_active_sessions()} {mgr.num_sessions()}\n")


if __name__ == "__main__":
    log = sys.argv.pop(1)
    open(log, "w").close()
    threading.Thread(target=_log, args=(log,), daemon=True, name="atlas-session-log").start()
    from deploy import serve
    serve.main()
