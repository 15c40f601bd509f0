"""One way to show bad input, and a guard that turns any failure into a message, not a traceback."""
from __future__ import annotations

import contextlib
import logging

import streamlit as st

from core.runtime.errors import InputError, ModelUnavailable

log = logging.getLogger("atlas")


def bad_input(message: str) -> None:
    """A user-fixable problem: shown in place, the rest of the page keeps working."""
    st.warning(message, icon=":material/edit_note:")


@contextlib.contextmanager
def guard(what: str = "this view"):
    """Wrap one view: InputError/ModelUnavailable -> warning; anything else -> a short error.

    The traceback goes to the server log only. Streamlit's own control-flow exceptions
    (rerun, stop, page switch) pass through untouched.
    """
    try:
        yield
    except (InputError, ModelUnavailable) as exc:
        bad_input(str(exc))
    except (IndexError, KeyError, ValueError) as exc:
        log.exception("bad input in %s", what)
        bad_input(f"Could not compute {what}: {exc}")
    except Exception as exc:  # noqa: BLE001 - the user sees a message, the log keeps the trace
        if type(exc).__module__.startswith("streamlit"):
            raise
        log.exception("failure in %s", what)
        st.error(f"Something went wrong computing {what} ({type(exc).__name__}: {exc}). "
                 "The details are in the server log.", icon=":material/error:")
