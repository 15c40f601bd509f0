"""Presenter tour overlay and presentation mode, shared by every page (called from app.py).

``?tour=N`` shows step N's banner with previous / next / exit, also on the ← → and Esc keys
(Streamlit's button shortcuts); ``?present=1`` switches on large fonts (the page's text here, the
charts' through ``core.figures.theme.presentation`` in ``show_figure``), hides Streamlit's chrome,
and lets tabs wrap instead of scrolling out of sight. Both survive in the URL, so each step's
link is shareable.
"""
from __future__ import annotations

import streamlit as st

from core.teaching.tour import Step, steps_for
from pages.ui.messages import bad_input
from pages.ui.nav import by_url, registered
from pages.ui.state import session_key

PRESENT_CSS = """
<style>
  html, body, [data-testid="stAppViewContainer"] { font-size: 1.3rem; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
  [data-testid="stCaptionContainer"] { font-size: 1.25rem !important; }
  h1 { font-size: 2.6rem !important; }
  header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
  [data-testid="stSidebarCollapsedControl"], footer { display: none !important; }
  .block-container, [data-testid="stMainBlockContainer"] {
    padding: 1rem 2rem 2rem !important; max-width: 100% !important; }
  /* buttons keep their whole label; tabs wrap onto a second row instead of scrolling away */
  button p { white-space: nowrap !important; overflow: visible !important; text-overflow: clip !important; }
  [role="tablist"] { flex-wrap: wrap !important; overflow: visible !important; row-gap: .3rem; }
  [data-baseweb="tab-highlight"], [data-baseweb="tab-border"] { display: none !important; }
  [role="tab"][aria-selected="true"] { border-bottom: 3px solid currentColor !important; }
</style>
"""


def steps() -> list[Step]:
    return steps_for({p.url_path for p in registered()})


def go(steps_: list[Step], index: int, present: bool) -> None:
    """Switch to a step. The target page's widgets are re-seeded from the step's preset."""
    step = steps_[index]
    target = "" if step.url_path == "home" else step.url_path
    for key, _ in step.params:
        st.session_state.pop(session_key(key, target), None)
        st.session_state.pop(session_key(key, target) + ":link", None)   # url_tabs' remembered link tab
    st.switch_page(by_url(step.url_path).file, query_params=step.query(index, present))


def overlay() -> None:
    present = st.query_params.get("present") == "1"
    if present:
        st.html(PRESENT_CSS)
    raw = st.query_params.get("tour")
    if raw is None:
        if present and st.button("✕ Exit presentation", key="present-exit", type="tertiary", shortcut="Esc",
                                 help="Back to normal fonts and the sidebar (Esc)"):
            exit_tour()
        return
    all_steps = steps()
    try:
        index = int(raw)
        if not 0 <= index < len(all_steps):
            raise ValueError
    except ValueError:
        bad_input(f"The link's tour step {raw[:20]!r} does not exist; the tour has steps 0–{len(all_steps) - 1}.")
        return
    step = all_steps[index]
    with st.container(border=True):
        st.markdown(f"**Tour step {index + 1} of {len(all_steps)} · {step.title}**  \n{step.explanation}")
        row = st.container(horizontal=True, gap="small", vertical_alignment="center")
        if row.button("◀ Previous", disabled=index == 0, key="tour-prev", shortcut="Left",
                      help="Previous step (← key)"):
            go(all_steps, index - 1, present)
        if row.button("Next ▶", disabled=index == len(all_steps) - 1, key="tour-next", type="primary",
                      shortcut="Right", help="Next step (→ key)"):
            go(all_steps, index + 1, present)
        if row.button("✕ Exit", key="tour-exit", type="tertiary", shortcut="Esc",
                      help="Leave the tour and presentation mode (Esc); the page keeps its view"):
            exit_tour()


def exit_tour() -> None:
    for key in ("tour", "present"):
        if key in st.query_params:
            del st.query_params[key]
    st.rerun()
