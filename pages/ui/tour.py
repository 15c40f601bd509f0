"""Presenter tour overlay and presentation mode, shared by every page (called from app.py).

``?tour=N`` shows step N's banner with previous/next; ``?present=1`` switches on large fonts
and hides Streamlit's chrome. Both survive in the URL, so each step's link is shareable.
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
  [data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.25rem !important; }
  h1 { font-size: 2.6rem !important; }
  header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
  [data-testid="stSidebarCollapsedControl"], footer { display: none !important; }
  .block-container { padding-top: 1.2rem !important; max-width: 96vw; }
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
        left, mid, right = st.columns([1, 8, 1], vertical_alignment="center")
        if left.button("◀ Previous", disabled=index == 0, key="tour-prev", help="Previous step (also: the link's tour=N)"):
            go(all_steps, index - 1, present)
        mid.markdown(f"**Tour step {index + 1} of {len(all_steps)} · {step.title}**  \n{step.explanation}")
        if right.button("Next ▶", disabled=index == len(all_steps) - 1, key="tour-next", type="primary"):
            go(all_steps, index + 1, present)
