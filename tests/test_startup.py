"""Start-up path (issue #16): app.py's imports pull in no torch, so the navigation and a page's
model-free part paint while deploy.serve's background thread warms the engine."""
import os
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


def _fresh_process(code: str) -> str:
    """stdout of ``code`` run in a new interpreter (float32, offline), which must succeed."""
    env = {**os.environ, "ATLAS_DTYPE": "float32", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_engine_imports_once_under_one_lock_while_the_warm_up_runs():
    """The warm-up thread and a page importing the engine at the same moment both get whole
    modules (two unguarded threads could get "cannot import name 'AutoConfig'"), and the lock is
    free once the warm-up is done."""
    code = ("import threading; from core.runtime import warmup; "
            "t = threading.Thread(target=warmup.warm); t.start(); warmup.import_engine(); "
            "from transformers import AutoConfig, WhisperForConditionalGeneration; t.join(); "
            "print(warmup.ENGINE_LOCK.acquire(timeout=1))")
    assert _fresh_process(code).strip() == "True"


def test_engine_import_covers_the_default_models_load():
    """After ``import_engine`` (the part under the lock), loading the default causal model imports
    no further module, so the warm-up can load it outside the lock; it is the class named."""
    code = ("import sys; from core.runtime import warmup; warmup.import_engine(); before = set(sys.modules); "
            "from core.runtime import models; lm = models.load(models.DEFAULT_CAUSAL); "
            "print(sorted(m for m in set(sys.modules) - before if m.startswith(('transformers', 'torch')))); "
            "print(type(lm.model).__name__ == models.DEFAULT_CAUSAL_CLASS)")
    assert _fresh_process(code).split() == ["[]", "True"]



TITLE_FIRST = """
import sys
import streamlit as st
from streamlit.testing.v1 import AppTest
seen = []
real = st.title
def title(*a, **k):
    seen.append("torch" in sys.modules)
    return real(*a, **k)
st.title = title
from deploy.serve import disable_legacy_pages_folder
disable_legacy_pages_folder()
AppTest.from_file("app.py", default_timeout=300).run()
print(seen[:1])
"""


def test_home_at_the_root_url_draws_its_title_before_torch_is_imported():
    """Opened at "/", home is the default page with url_path "": app.py must not import the engine
    for it before the page runs (it did, and the title left the server 10 s late)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ATLAS_WARM": "0"}
    out = subprocess.run([sys.executable, "-c", TITLE_FIRST], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.stdout.strip().splitlines()[-1] == "[False]", out.stderr[-2000:]
