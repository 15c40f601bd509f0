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


FLOOR_APP = 'import streamlit as st\nst.write("hello")\n'
FLAGS = ["--server.headless", "true", "--browser.serverAddress", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
# Each mark: (CSS selector, text it must contain or ""). All are watched at once in the page (a
# MutationObserver stamps the wall clock when each first appears), so a chart drawn before the
# token pills is timed when it is drawn, not after them.
FLOOR_MARKS = {"text": ('[data-testid="stMarkdownContainer"] p', "hello")}
ATLAS_MARKS = {"first content (home title)": ("h1", "One sentence through the transformer"),
               "first token pill": ('[title^="#0 id"]', ""),
               "first chart": ('[data-testid="stPlotlyChart"] .js-plotly-plot', "")}
_WATCH = """window.__marks = {}; const marks = %s;
const check = () => { for (const [k, [css, text]] of Object.entries(marks)) {
  if (k in window.__marks) continue;
  if ([...document.querySelectorAll(css)].some(e => e.textContent.includes(text))) window.__marks[k] = Date.now(); } };
new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true}); check();"""


def _paint_once(b, cmd: list[str], marks: dict[str, tuple[str, str]], env: dict | None = None) -> dict[str, float]:
    """Seconds from process start to each mark drawn in Chromium (the browser is already running)."""
    import json
    import urllib.request

    from tests.browser_util import free_port
    port = free_port()
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    t0, wall0 = time.perf_counter(), time.time()
    proc = subprocess.Popen([*cmd, "--server.port", str(port), *FLAGS], cwd=ROOT, env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > 120:
                    raise RuntimeError(f"{cmd} did not start")
                time.sleep(0.05)
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(_WATCH % json.dumps(marks))
        page.goto(url, wait_until="commit")
        page.wait_for_function(f"Object.keys(window.__marks || {{}}).length >= {len(marks)}", timeout=300_000)
        stamps = page.evaluate("window.__marks")
        out = {what: stamps[what] / 1000 - wall0 for what in marks}
        page.close()
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def first_paint(repeat: int = 3) -> dict:
    """Floor (a one-line Streamlit app) and Atlas's home page, warm-up thread on and off,
    alternated ``repeat`` times in one browser; medians."""
    from tests.browser_util import browser
    floor_file = Path(tempfile.mkdtemp(prefix="atlas-floor-")) / "floor.py"
    floor_file.write_text(FLOOR_APP)
    runs = {"floor": [], "atlas": [], "atlas, ATLAS_WARM=0": []}
    with browser() as b:
        _paint_once(b, [sys.executable, "-m", "streamlit", "run", str(floor_file)],
                    FLOOR_MARKS)                                 # first start warms the OS file cache
        for _ in range(repeat):
            runs["floor"].append(_paint_once(b, [sys.executable, "-m", "streamlit", "run", str(floor_file)],
                                             FLOOR_MARKS))
            runs["atlas"].append(_paint_once(b, [sys.executable, "-m", "deploy.serve"], ATLAS_MARKS))
            runs["atlas, ATLAS_WARM=0"].append(_paint_once(b, [sys.executable, "-m", "deploy.serve"], ATLAS_MARKS,
                                                           {"ATLAS_WARM": "0"}))
    return {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}


def first_paint_section(paint: dict) -> str:
    floor = paint["floor"]["text"]
    rows = []
    for variant in ("atlas", "atlas, ATLAS_WARM=0"):
        for what, sec in paint[variant].items():
            goal = {"first content (home title)": 1.5, "first chart": 2.5}.get(what)
            rows.append({"server": "deploy.serve" + (" (warm-up thread off)" if "WARM" in variant else ""),
                         "mark": what, "seconds": f"{sec:.2f}", "× floor": f"{sec / floor:.2f}×",
                         "goal": f"≤ {goal}×" if goal else "", "met": ("yes" if sec / floor <= goal else "no") if goal else ""})
    return f"""
## First paint against the framework's floor (Chromium, median of 3, alternated)
From process start to the mark drawn in headless Chromium (every mark watched at once in the page, so
each is timed when it appears), models already converted in the cache,
a fresh server process each time, the same Streamlit flags. The floor is a one-line app
(`st.write("hello")`) started with `python -m streamlit run`: **{floor:.2f} s**.

{md_table(rows)}
"""


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
