"""Helpers for AppTest: run one registered page through app.py, as the real navigation does."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

from pages.ui.nav import PageInfo


def run_page(info: PageInfo, params: dict | None = None, timeout: float = 240) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if info.url_path != "home":
        # Switching before the first run makes AppTest run the page file with the given URL
        # params, as a deep link would arrive (after a first run AppTest drops them). app.py's
        # own parts (sidebar, tour banner) are checked on home here and on every page in the
        # browser tests.
        at.switch_page(info.file)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    return at


def problems(at: AppTest) -> list[str]:
    """Exceptions and error boxes on the page: what a user must never see."""
    out = [f"exception: {e.value}" for e in at.exception]
    out += [f"error: {e.value}" for e in at.error]
    return out
