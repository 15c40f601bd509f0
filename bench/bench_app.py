"""App benchmark: cold start to a drawn chart in Chromium, warm rerun per page, model load
(first conversion, first load from cache, cached), and server RSS after visiting every page."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench import bench_gemma
from bench.common import md_table, median_time, write_report

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _subprocess_seconds(code: str, env: dict | None = None) -> float:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **(env or {})},
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def model_loads() -> list[dict]:
    # transformers and the model classes are imported before the clock starts: the figure is the
    # model load itself (import time is reported on its own row).
    timer = ("import time,core.runtime.models as m,transformers;"
             "from transformers import AutoModelForCausalLM, AutoModel, AutoTokenizer, AutoConfig;"
             "t=time.perf_counter();{call};print(time.perf_counter()-t)")
    fresh = tempfile.mkdtemp(prefix="atlas-bench-cache-")
    rows = [{"what": "SmolLM2 GGUF → safetensors conversion (first ever)",
             "seconds": f"{_subprocess_seconds(timer.format(call='m.smollm_dir()'), {'ATLAS_CACHE_DIR': fresh}):.1f}"}]
    imports = [_subprocess_seconds("import time;t=time.perf_counter();import core.runtime.models,transformers;"
                                   "from transformers import AutoModelForCausalLM;print(time.perf_counter()-t)")
               for _ in range(3)]
    rows.append({"what": "import torch + transformers (once per process)", "seconds": f"{statistics.median(imports):.2f}"})
    for name in ("smollm2-135m", "minilm-l6"):
        samples = [_subprocess_seconds(timer.format(call=f"m.load('{name}')")) for _ in range(3)]
        rows.append({"what": f"{name}: first load in a process (from cache)",
                     "seconds": f"{statistics.median(samples):.2f}"})
    rows += bench_gemma.load_rows(first=True)
    from core.runtime import models
    models.load("smollm2-135m")
    med, _ = median_time(lambda: models.load("smollm2-135m"), repeat=20)
    rows.append({"what": "smollm2-135m: load when already cached in the process", "seconds": f"{med:.6f}"})
    return rows


def warm_reruns() -> list[dict]:
    from pages.ui.nav import registered
    from tests.apptest_util import run_page
    rows = []
    for info in registered():
        at = run_page(info)                         # cold: models load, caches fill
        samples = []
        for _ in range(5):
            t = time.perf_counter()
            at.run()
            samples.append(time.perf_counter() - t)
        rows.append({"page": info.title, "warm rerun median (ms)": f"{1000 * statistics.median(samples):.0f}",
                     "min–max (ms)": f"{1000 * min(samples):.0f}–{1000 * max(samples):.0f}"})
    return rows


def cold_start_and_rss() -> dict:
    from pages.ui.nav import registered
    from tests.browser_util import CHART, browser, free_port, serve_app, wait_for_page
    port = free_port()
    t0 = time.perf_counter()
    with serve_app(port=port) as url, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector(CHART, timeout=300_000)
        cold = time.perf_counter() - t0
        server = next(p for p in psutil.process_iter(["cmdline"])
                      if p.info["cmdline"] and "deploy.serve" in " ".join(p.info["cmdline"]) and str(port) in p.info["cmdline"])
        rss_home = server.memory_info().rss
        for info in registered():
            page.goto(f"{url}/{'' if info.url_path == 'home' else info.url_path}", wait_until="domcontentloaded")
            wait_for_page(page, timeout_ms=300_000)
        rss_all = server.memory_info().rss
    return {"cold": cold, "rss_home": rss_home, "rss_all": rss_all}


def main() -> Path:
    loads = model_loads()
    reruns = warm_reruns()
    cs = cold_start_and_rss()
    body = f"""
## Cold start
`streamlit run app.py` until the home page's first chart is drawn in Chromium (models already
converted in the cache, fresh server process): **{cs['cold']:.1f} s**.

## Server memory
- RSS after the home page: **{cs['rss_home'] / 2**20:.0f} MiB**
- RSS after visiting every page once: **{cs['rss_all'] / 2**20:.0f} MiB**
- RSS of one process with every bundled model loaded (SmolLM2, MiniLM, Gemma 3, tiny CLIP):
  **{bench_gemma.rss_all_models() / 2**20:.0f} MiB** (budget 3.5 GB)

## Model load
{md_table(loads)}

## Warm rerun of each page (AppTest, server-side script time, 5 reruns)
{md_table(reruns)}
"""
    return write_report("app", "App: cold start, warm reruns, model load, RSS", body)


if __name__ == "__main__":
    print(main())
