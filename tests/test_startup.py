"""Start-up path (issue #16): app.py's imports pull in no torch, so the navigation and a page's
model-free part paint while deploy.serve's background thread warms the engine."""
import subprocess
import sys

from tests.conftest import ROOT


def test_app_imports_no_torch():
    code = ("import sys, streamlit; import pages.ui.nav, pages.ui.state, pages.ui.tour, core.runtime.limits, "
            "core.runtime.paths; from pages.ui import guard, url_text; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_names_resolve_to_the_real_functions():
    import pages.ui
    from pages.ui.export import show_figure
    from pages.ui.state import url_text
    assert pages.ui.show_figure is show_figure and pages.ui.url_text is url_text
    assert set(pages.ui.__all__) >= {"guard", "model_picker", "url_tabs"}


def test_warm_thread_can_be_switched_off(monkeypatch):
    from deploy import serve
    monkeypatch.setenv("ATLAS_WARM", "0")
    assert serve.start_warm_thread() is None
