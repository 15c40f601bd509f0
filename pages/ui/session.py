"""A tab whose server went away: the note its fresh session shows.

A Streamlit session lives in one server process. When that process dies (a replica killed, the
server restarted), the browser reconnects, through nginx to a live replica or to the restarted
server, and gets a fresh session there with none of its session state. The frontend keeps its
widgets' values and sends them all with the next run it asks for; a new tab sends none. So the
first run of a session that arrives with widget values is a tab that had a session somewhere else,
and it says so. Every control lives in the URL (pages/ui/state.py), so the view comes back from
the link; only what the link cannot carry is gone.
"""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

SEEN_KEY = "atlas:session-seen"
NOTE = ("The server restarted, or this tab moved to another server, so this is a fresh session. The view "
        "was rebuilt from the link. Anything the link cannot carry (an upload, a result still computing) "
        "must be done again, and if the change you just made is not shown, make it once more.")


def browser_sent_widget_values() -> bool:
    """Whether this run arrived with widget values from the browser (Streamlit 1.67's session state
    keeps them in ``_new_widget_state`` until the widgets register; ``tests/test_reconnect.py``
    pins that)."""
    ctx = get_script_run_ctx()
    state = getattr(getattr(ctx, "session_state", None), "_state", None)
    widgets = getattr(state, "_new_widget_state", None)
    return bool(widgets is not None and widgets.states)


def note_if_reconnected() -> bool:
    """On a session's first run, show ``NOTE`` if the browser had a session elsewhere; True if shown."""
    if SEEN_KEY in st.session_state:
        return False
    st.session_state[SEEN_KEY] = True
    if not browser_sent_widget_values():
        return False
    st.info(NOTE, icon=":material/restart_alt:")
    return True
