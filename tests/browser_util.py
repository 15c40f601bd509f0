"""Real-browser helpers: serve the app with Streamlit on a free loopback port and drive Debian's
Chromium with Playwright (never `playwright install`)."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.conftest import ARTIFACTS, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(env: dict | None = None, port: int | None = None):
    """Start the app (deploy.serve: streamlit run app.py) with the no-outbound flags; yield its base URL."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "deploy.serve", "--server.port", str(port),
           "--server.headless", "true", "--browser.serverAddress", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    log = open(tempfile.mktemp(prefix="atlas-streamlit-", suffix=".log"), "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not become healthy in 60 s")
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
        log.close()


@contextlib.contextmanager
def browser():
    """A headless Debian Chromium driven by Playwright, with throwaway profile dirs."""
    from playwright.sync_api import sync_playwright
    tmp = tempfile.mkdtemp(prefix="atlas-chromium-")
    env = {**os.environ, "XDG_CONFIG_HOME": tmp, "XDG_CACHE_HOME": tmp}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS, env=env)
        try:
            yield b
        finally:
            b.close()


def wait_for_page(page, *, timeout_ms: int = 180_000, need_content: bool = True) -> None:
    """Wait until Streamlit finished its run (script state notRunning, nothing stale) and, with
    ``need_content``, at least one chart or table is drawn."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    if need_content:
        page.wait_for_selector(f'{CHART}, [data-testid="stDataFrame"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && app.getAttribute('data-test-script-state') === 'notRunning'
                          && !document.querySelector('[data-stale="true"]'); }""", timeout=timeout_ms)


def offline_guard(page) -> list[str]:
    """Record every request that would leave this machine (the app must work fully offline)."""
    outside: list[str] = []

    def check(request):
        url = request.url
        if not url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "data:", "blob:", "about:")):
            outside.append(url)
    page.on("request", check)
    return outside


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def page_text_problems(page) -> list[str]:
    """Tracebacks or exception boxes visible to a user."""
    body = page.inner_text("body")
    bad = [m for m in ("Traceback (most recent call last)", "StreamlitAPIException") if m in body]
    bad += [f"exception box: {t[:200]}" for t in page.locator('[data-testid="stException"]').all_inner_texts()]
    return bad
