"""With a visitor there, the warm-up thread leaves the GIL to the page's model-free part: it imports
nothing until a page asks for the engine, then imports and loads the default model."""
import os
import subprocess
import sys

from core.runtime.paths import REPO


def test_visitor_warm_up_waits_for_a_page_to_ask():
    code = ("import sys, threading, time; from core.runtime import warmup\n"
            "t = threading.Thread(target=warmup.warm, kwargs={'forward': False}); t.start(); time.sleep(1.5)\n"
            "before = 'torch' in sys.modules or 'transformers' in sys.modules\n"
            "warmup.import_engine(); t.join(120)\n"
            "from core.runtime import models\n"
            "print(before, not t.is_alive(), models._load.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.stdout.split() == ["False", "True", "1"]
