"""The real-browser truth check of the load test: a few concurrent Chromium sessions (Playwright +
Debian's Chromium) for a fixed time on loopback, against one Streamlit process and against N
replicas behind nginx; figures side by side in the "browser" part of bench/results/loadtest.md.
What the server holds is measured without browsers (bench/load/run.py): on 2 cores, 20 Chromiums
took 91% of the CPU, so a large browser count measures the browsers. This check keeps what only
a browser shows: the page really draws, the frontend's own errors, leaks as a person sees them.

    .venv/bin/python -m bench.browser_check --sessions 5 --seconds 120 --replicas 3

Every session is its own browser context (own cookies, own Streamlit session) and cycles through
four interactions: typing a new sentence into the home page's "Your sentence" box, moving the layer
slider with the keyboard, opening a home link with query params, and opening another registered page.
Each sentence carries the session's tag (``q07z`` for session 7) and a counter, so every forward pass
is new work and every session can check that it sees its own text (URL param, text box, token pills)
and never another session's tag. Errors counted: page errors, an exception box or traceback text, a
"Connection error" dialog, a websocket that errors or closes under a page that did not navigate,
HTTP 5xx, failed requests (other than ones a navigation aborts), and interactions that time out.
Latency is from the input (key press or navigation) to the rerun finishing: the page shows the new
state, Streamlit's run state is "notRunning", no element is stale, and a chart is drawn. The run stops by itself: no new
interaction after ``--seconds``, a per-interaction timeout, a cap on interactions per session, and
an overall deadline; servers, nginx and Chromium are stopped on every exit path.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.common import md_table, write_section

CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'    # as tests/browser_util.CHART (no env side effects)

TAG = re.compile(r"q(\d\d)z")
LOOPBACK = ("http://127.0.0.1:", "ws://127.0.0.1:")
# Keep the browsers on loopback: no DNS for other hosts, and anything else goes to a dead local proxy.
BROWSER_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"]
PROBLEM_TEXT = ("Traceback (most recent call last)", "StreamlitAPIException",
                "This app has encountered an error", "Connection error")

# One JS probe per check: the page's state as the user sees it.
_SNAPSHOT_JS = """() => {
  const box = [...document.querySelectorAll('input')].find(e => e.getAttribute('aria-label') === 'Your sentence');
  const pills = [...document.querySelectorAll('span[title^="#"]')].map(s => s.textContent).join('')
      .replaceAll('·', ' ').replaceAll('↵', '\\n');
  const q = new URLSearchParams(location.search);
  return {url: location.href, text: q.get('text'), layer: q.get('layer'), box: box ? box.value : null,
          pills, body: document.body.innerText,
          inputs: [...document.querySelectorAll('input, textarea')].map(e => e.value).join('\\n'),
          exceptions: document.querySelectorAll('[data-testid="stException"]').length,
          connection: document.querySelector('[data-testid="stApp"]')?.dataset.testConnectionState};
}"""
# Settled: Streamlit's own run state (stApp's data-test-script-state) says the script finished, no
# element is stale, and a chart (or table) is drawn.
_SETTLED_JS = """([chart]) => !!document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
  && !document.querySelector('[data-stale="true"]') && !!document.querySelector(chart)"""
_HOME_DONE_JS = """([chart, text, layer]) => {
  if (!document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
      || document.querySelector('[data-stale="true"]') || !document.querySelector(chart)) return false;
  const q = new URLSearchParams(location.search);
  if (q.get('text') !== text || (layer !== null && q.get('layer') !== layer)) return false;
  const box = [...document.querySelectorAll('input')].find(e => e.getAttribute('aria-label') === 'Your sentence');
  if (!box || box.value !== text) return false;
  const pills = [...document.querySelectorAll('span[title^="#"]')].map(s => s.textContent).join('')
      .replaceAll('·', ' ');
  return pills === text;
}"""


def sentence(session: int, n: int) -> str:
    return f"The q{session:02d}z code {n} is"


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    own_checks: int = 0           # interactions where the session verified its own marker
    unreflected: list[str] = field(default_factory=list)
    console_errors: Counter = field(default_factory=Counter)
    pages_seen: Counter = field(default_factory=Counter)
    outbound: Counter = field(default_factory=Counter)
    pages_reflecting: set = field(default_factory=set)
    warm_notes: list[str] = field(default_factory=list)
    load_at_start: float = float("nan")
    timeouts: int = 0
    ws_retries: int = 0            # websockets closed before they ever opened; the frontend retried
    cpu_server: float = float("nan")
    cpu_browsers: float = float("nan")

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)


class RssSampler:
    """Sample the summed RSS of some processes (and their children) once a second in a thread."""

    def __init__(self, pids: list[int], interval: float = 1.0):
        self.procs = [psutil.Process(p) for p in pids]
        self.interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        total = 0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self.samples.append(self.sample())


class CpuMeter:
    """CPU seconds (user + system) used during a block by some processes and their descendants,
    optionally only those whose name contains ``name``. Polled every second, so processes that
    come and go (Chromium renderers) count up to their last poll."""

    def __init__(self, roots: list[int], name: str = "", interval: float = 1.0):
        self.roots, self.name, self.interval = roots, name, interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _poll(self) -> None:
        for root in self.roots:
            with contextlib.suppress(psutil.Error):
                top = psutil.Process(root)
                for proc in [top, *top.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        if self.name and self.name not in proc.name():
                            continue
                        t = proc.cpu_times()
                        used = t.user + t.system
                        # a process born during the block counts from 0, one alive before from now
                        self.first.setdefault(proc.pid, 0.0 if proc.create_time() > self.t0 else used)
                        self.last[proc.pid] = used

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    @property
    def seconds(self) -> float:
        return sum(self.last[p] - self.first[p] for p in self.last)

    def __enter__(self):
        self.t0 = time.time()
        self._poll()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self._poll()


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class Session:
    """One browser context driving the app; appends what it measures and sees to ``stats``."""

    def __init__(self, idx: int, ctx, base: str, pages: list[str], stats: Stats, timeout_s: float):
        self.idx, self.ctx, self.base, self.pages, self.stats = idx, ctx, base, pages, stats
        self.timeout_ms = timeout_s * 1000
        self.n = 0
        self.nav = 0               # bumped before every navigation: websockets of older documents may close
        self.text = sentence(idx, 0)
        self.where = ""
        self.closing = False
        self.started = time.perf_counter()     # start of the current interaction

    def err(self, what: str) -> None:
        self.stats.errors.append(f"session {self.idx} [{self.where}]: {what}"[:400])

    def _hook(self, page) -> None:
        page.on("pageerror", lambda e: self.err(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and self.stats.console_errors.update([m.text[:160]]))
        page.on("response", lambda r: r.status >= 500 and self.err(f"HTTP {r.status} {r.url}"))
        page.on("requestfailed", self._failed)

        def on_ws(ws):
            born, opened = self.nav, []
            if "/_stcore/stream" not in ws.url:
                return

            def closed(_ws) -> None:
                if born != self.nav or self.closing:
                    return
                if opened:                 # a live session lost its connection: the user sees it
                    self.err("websocket closed")
                else:                      # never opened: the frontend gives up on it and retries;
                    self.stats.ws_retries += 1     # check() still requires CONNECTED afterwards
            ws.on("framereceived", lambda _f: opened or opened.append(True))
            ws.on("socketerror", lambda e: born == self.nav and opened and self.err(f"websocket error: {e}"))
            ws.on("close", closed)
        page.on("websocket", on_ws)

    def _failed(self, request) -> None:
        if not request.url.startswith(LOOPBACK):
            self.stats.outbound[request.url.split("?")[0][:160]] += 1   # blocked by the browser flags
        elif "ERR_ABORTED" not in (request.failure or ""):           # aborted: a navigation moved on
            self.err(f"request failed {request.failure} {request.url}")

    async def open(self) -> None:
        self.page = await self.ctx.new_page()
        self._hook(self.page)

    def left_ms(self) -> float:
        """What is left of this interaction's timeout (one budget for navigation and rerun)."""
        return max(1.0, self.timeout_ms - 1000 * (time.perf_counter() - self.started))

    async def goto(self, path: str) -> None:
        self.nav += 1
        await self.page.goto(self.base + path, wait_until="domcontentloaded", timeout=self.left_ms())

    async def wait_home(self, layer: str | None = None) -> None:
        await self.page.wait_for_function(_HOME_DONE_JS, arg=[CHART, self.text, layer],
                                          polling=100, timeout=self.left_ms())

    async def check(self, *, home: bool) -> None:
        """No problem shown; no other session's tag anywhere; on home, our own sentence everywhere."""
        snap = await self.page.evaluate(_SNAPSHOT_JS)
        for marker in PROBLEM_TEXT:
            if marker in snap["body"]:
                self.err(f"page shows {marker!r}")
        if snap["connection"] != "CONNECTED":
            self.err(f"connection state {snap['connection']}")
        if snap["exceptions"]:
            self.err(f"{snap['exceptions']} exception box(es)")
        seen = {int(t) for src in (snap["url"], snap["body"], snap["inputs"]) for t in TAG.findall(src)}
        if seen - {self.idx}:
            self.stats.leaks.append(f"session {self.idx} [{self.where}] saw tags {sorted(seen - {self.idx})}")
        if not home:       # pages with a `text` param show our sentence in a box; others ignore it
            if self.text in snap["inputs"] or self.text in snap["body"]:
                self.stats.own_checks += 1
                self.stats.pages_reflecting.add(self.where)
        else:
            own = {"url": snap["text"], "box": snap["box"], "pills": snap["pills"]}
            wrong = {k: v for k, v in own.items() if v != self.text}
            if wrong:
                self.stats.leaks.append(f"session {self.idx} expected {self.text!r}, saw {wrong}")
            else:
                self.stats.own_checks += 1

    def on_home(self) -> bool:
        return urllib.parse.urlparse(self.page.url).path in ("", "/")

    def next_text(self) -> str:
        self.n += 1
        self.text = sentence(self.idx, self.n)
        return self.text

    async def type_sentence(self) -> None:
        if not self.on_home():
            await self.link()                                 # get back to home first
        box = self.page.get_by_role("textbox", name="Your sentence")
        await box.fill(self.next_text(), timeout=self.left_ms())
        t = time.perf_counter()
        await box.press("Enter")
        await self.wait_home()
        self.stats.add("type a sentence", time.perf_counter() - t)
        await self.check(home=True)

    async def slider(self) -> None:
        if not self.on_home():
            await self.link()
        thumb = self.page.locator('[data-testid="stSlider"] input[type="range"]').first   # the layer slider
        now = int(await thumb.input_value(timeout=self.left_ms()))
        top = int(await thumb.get_attribute("max"))
        key, new = ("ArrowRight", now + 1) if now < top else ("ArrowLeft", now - 1)
        t = time.perf_counter()
        await thumb.press(key)
        await self.wait_home(layer=str(new))
        self.stats.add("move the layer slider", time.perf_counter() - t)
        await self.check(home=True)

    async def link(self) -> None:
        layer = (self.idx + self.n) % 30
        query = urllib.parse.urlencode({"text": self.next_text(), "layer": layer, "head": self.idx % 9})
        t = time.perf_counter()
        await self.goto(f"/?{query}")
        await self.wait_home(layer=str(layer))
        self.stats.add("open a home link", time.perf_counter() - t)
        await self.check(home=True)

    async def other_page(self) -> None:
        path = self.pages[(self.n + self.idx) % len(self.pages)]
        self.where = path
        query = urllib.parse.urlencode({"text": self.next_text()})
        t = time.perf_counter()
        await self.goto(f"/{path}?{query}")
        await self.page.wait_for_function(_SETTLED_JS, arg=[f"{CHART}, [data-testid='stDataFrame']"],
                                          polling=100, timeout=self.left_ms())
        self.stats.add("open another page", time.perf_counter() - t)
        self.stats.pages_seen[path] += 1
        await self.check(home=False)

    async def run(self, stop_at: float, max_actions: int, delay: float = 0) -> None:
        actions = [self.type_sentence, self.slider, self.link] + ([self.other_page] if self.pages else [])
        self.where = "first visit"
        await asyncio.sleep(delay)           # arrivals spread out a little, as in a real room
        await self.open()
        try:
            for i in range(max_actions):
                if time.monotonic() >= stop_at:
                    break
                action = self.link if i == 0 else actions[(i + self.idx) % len(actions)]
                self.where = "first visit" if i == 0 else action.__name__
                self.started = time.perf_counter()
                try:
                    await action()
                except Exception as exc:  # noqa: BLE001 - a timeout or a vanished element is a failure to count
                    self.stats.timeouts += type(exc).__name__ == "TimeoutError"
                    self.err(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                    await asyncio.sleep(1)
        finally:
            self.closing = True
            with contextlib.suppress(Exception):
                await self.page.close()


async def warm_up(browser, servers: list[str], paths: list[str], stats: Stats, budget_s: float) -> None:
    """Open every page once on every server process (models load, caches fill) before timing.
    Problems shown count as errors; a page still loading when the budget runs out is only noted."""
    deadline = time.monotonic() + budget_s
    gate = asyncio.Semaphore(1)          # one page at a time: the warm-up should not be a load test

    async def one(server: str, path: str) -> None:
        async with gate:
            left = deadline - time.monotonic()
            if left <= 1:
                stats.warm_notes.append(f"/{path} on {server}: not warmed (budget spent)")
                return
            ctx = await browser.new_context()
            try:
                page = await ctx.new_page()
                page.on("pageerror", lambda e: stats.errors.append(f"warm-up /{path}: page error {e}"[:400]))
                await page.goto(f"{server}/{path}", wait_until="domcontentloaded", timeout=left * 1000)
                await page.wait_for_function(_SETTLED_JS, arg=[f"{CHART}, [data-testid='stDataFrame']"],
                                             polling=250, timeout=max(1, deadline - time.monotonic()) * 1000)
                body = await page.inner_text("body")
                boxes = await page.locator('[data-testid="stException"]').count()
                stats.errors += [f"warm-up /{path}: page shows {m!r}" for m in PROBLEM_TEXT if m in body]
                if boxes:
                    stats.errors.append(f"warm-up /{path}: {boxes} exception box(es)")
            except Exception as exc:  # noqa: BLE001 - a slow first load is noted, not fatal
                stats.warm_notes.append(f"/{path} on {server}: {type(exc).__name__}")
            finally:
                await ctx.close()

    await asyncio.gather(*(one(s, p) for p in paths for s in servers))   # home on every server first


async def drive(base: str, sessions: int, seconds: float, pages: list[str], *, timeout_s: float = 180,
                max_actions: int = 400, warm_urls: list[str] = (), warm_s: float = 300,
                server_pids: list[int] = ()) -> tuple[Stats, float]:
    """Run ``sessions`` browser sessions against ``base`` for ``seconds``; return stats and wall time."""
    from playwright.async_api import async_playwright

    from tests.browser_util import CHROME_ARGS, CHROMIUM
    stats = Stats()
    tmp = tempfile.mkdtemp(prefix="atlas-loadtest-chromium-")
    env = {**os.environ, "XDG_CONFIG_HOME": tmp, "XDG_CACHE_HOME": tmp}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS + BROWSER_ARGS,
                                            env=env)
        try:
            await warm_up(browser, warm_urls, ["", *pages], stats, warm_s)
            contexts = [await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(sessions)]
            runners = [Session(i, c, base, pages, stats, timeout_s) for i, c in enumerate(contexts)]
            stats.load_at_start = os.getloadavg()[0]
            t0 = time.monotonic()
            stop_at = t0 + seconds
            tasks = [asyncio.create_task(r.run(stop_at, max_actions, delay=min(10, seconds / 4) * r.idx / sessions))
                     for r in runners]
            with CpuMeter(list(server_pids)) as cpu_server, CpuMeter([os.getpid()], "chrom") as cpu_browsers:
                done, pending = await asyncio.wait(tasks, timeout=seconds + timeout_s + 60)
            stats.cpu_server, stats.cpu_browsers = cpu_server.seconds, cpu_browsers.seconds
            for task in pending:
                task.cancel()
                stats.errors.append("a session was still busy at the overall deadline and was cancelled")
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if task.exception():
                    stats.errors.append(f"session crashed: {task.exception()!r}"[:400])
            wall = time.monotonic() - t0
            for c in contexts:
                with contextlib.suppress(Exception):
                    await c.close()
        finally:
            await browser.close()
    return stats, wall


def _pids_on_port(port: int) -> list[int]:
    return [p.pid for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"] and "deploy.serve" in " ".join(p.info["cmdline"]) and str(port) in p.info["cmdline"]]


def summarize(stats: Stats, wall: float, rss: list[int], sessions: int) -> dict:
    every = [x for v in stats.latencies.values() for x in v]
    mb = lambda b: f"{b / 2**20:,.0f} MB"  # noqa: E731
    row = {"sessions": sessions, "wall seconds": f"{wall:.0f}", "interactions done": len(every),
           "interactions / min": f"{60 * len(every) / wall:.1f}" if wall else "-",
           "errors": len(stats.errors), "of which interactions over the timeout": stats.timeouts,
           "websocket connects retried by the frontend (not errors; see below)": stats.ws_retries,
           "leaks (another session's text seen)": len(stats.leaks),
           "own-text checks passed": stats.own_checks,
           "p50 latency (s)": f"{_pct(every, .5):.2f}", "p95 latency (s)": f"{_pct(every, .95):.2f}",
           "max latency (s)": f"{max(every):.2f}" if every else "-",
           "load average (1 min) at start": f"{stats.load_at_start:.1f}",
           "server RSS start": mb(rss[0]), "server RSS peak": mb(max(rss)), "server RSS end": mb(rss[-1]),
           "CPU seconds in the timed part: server / browsers":
               f"{stats.cpu_server:.0f} / {stats.cpu_browsers:.0f} (browsers "
               f"{stats.cpu_browsers / max(stats.cpu_server + stats.cpu_browsers, 1e-9):.0%})"}
    for kind, values in sorted(stats.latencies.items()):
        row[f"{kind}: n, p50 / p95 (s)"] = f"{len(values)}, {_pct(values, .5):.2f} / {_pct(values, .95):.2f}"
    return row


def run_single(sessions: int, seconds: float, pages: list[str], timeout_s: float, warm_s: float) -> tuple[dict, Stats]:
    from tests.browser_util import free_port, serve_app
    port = free_port()
    with serve_app(port=port) as url:
        pids = _pids_on_port(port)
        with RssSampler(pids) as rss:
            stats, wall = asyncio.run(drive(url, sessions, seconds, pages, timeout_s=timeout_s, warm_urls=[url],
                                       warm_s=warm_s, server_pids=pids))
        return summarize(stats, wall, rss.samples, sessions), stats


def run_nginx(sessions: int, seconds: float, pages: list[str], replicas: int, timeout_s: float,
              warm_s: float) -> tuple[dict, Stats]:
    from deploy.scale_out import scale_out
    with scale_out(replicas=replicas) as c:
        with RssSampler([*c.replica_pids, c.nginx_pid]) as rss:
            stats, wall = asyncio.run(drive(c.url, sessions, seconds, pages, timeout_s=timeout_s,
                                            warm_urls=c.replica_urls, warm_s=warm_s,
                                            server_pids=[*c.replica_pids, c.nginx_pid]))
        row = summarize(stats, wall, rss.samples, sessions)
        row["torch threads per replica"] = c.threads_per_replica
        return row, stats


def _details(name: str, stats: Stats) -> str:
    out = [f"### {name}"]
    out.append("- pages opened: " + (", ".join(f"{k} ×{v}" for k, v in sorted(stats.pages_seen.items())) or "none"))
    out.append("- pages that showed the session's own `text` param: "
               + (", ".join(sorted(stats.pages_reflecting)) or "none"))
    out.append("- warm-up notes: " + ("none" if not stats.warm_notes else "; ".join(stats.warm_notes[:12])))
    out.append(f"- errors ({len(stats.errors)}): " + ("none" if not stats.errors else ""))
    out += [f"  - {e}" for e in stats.errors[:25]]
    if len(stats.errors) > 25:
        out.append(f"  - … and {len(stats.errors) - 25} more")
    out.append(f"- leaks ({len(stats.leaks)}): " + ("none" if not stats.leaks else ""))
    out += [f"  - {e}" for e in stats.leaks[:25]]
    out.append("- outbound requests the browser tried (blocked: loopback only; not counted as errors): "
               + ("none" if not stats.outbound else ""))
    out += [f"  - {n}× `{u}`" for u, n in stats.outbound.most_common(8)]
    out.append("- browser console errors (not counted as errors; distinct messages, count): "
               + ("none" if not stats.console_errors else ""))
    out += [f"  - {n}× `{m}`" for m, n in stats.console_errors.most_common(8)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--replicas", type=int, default=3, help="replicas behind nginx (0: single process only)")
    ap.add_argument("--timeout", type=float, default=180,
                    help="seconds one interaction may take (navigation and rerun together)")
    ap.add_argument("--warm-seconds", type=float, default=300, help="budget for the untimed warm-up")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from deploy.scale_out import nginx_binary
    from pages.ui.nav import registered
    pages = [p.url_path for p in registered() if p.url_path != "home"]
    cols, details = {}, []
    print(f"[loadtest] single process: {args.sessions} sessions × {args.seconds:.0f} s …", flush=True)
    cols["single process"], stats = run_single(args.sessions, args.seconds, pages, args.timeout, args.warm_seconds)
    details.append(_details("single process", stats))
    print(f"[loadtest] single: {cols['single process']}", flush=True)
    if args.replicas and nginx_binary():
        name = f"nginx + {args.replicas} replicas"
        print(f"[loadtest] {name}: {args.sessions} sessions × {args.seconds:.0f} s …", flush=True)
        cols[name], stats = run_nginx(args.sessions, args.seconds, pages, args.replicas, args.timeout,
                                         args.warm_seconds)
        details.append(_details(name, stats))
        print(f"[loadtest] nginx: {cols[name]}", flush=True)
    elif args.replicas:
        details.append("nginx is not installed: the scale-out column was not run (apt-get install -y nginx).")
    keys = list(dict.fromkeys(k for col in cols.values() for k in col))
    table = md_table([{"": k, **{name: col.get(k, "-") for name, col in cols.items()}} for k in keys])
    verdict = all(c["errors"] == 0 and c["leaks (another session's text seen)"] == 0 for c in cols.values())
    body = f"""
{args.sessions} concurrent Chromium sessions (one browser, one context each) for {args.seconds:.0f} s on
127.0.0.1, per server set-up, after a warm-up that opens every page once on every server process
(models loaded, caches filled; at most {args.warm_seconds:.0f} s, not timed).
Pages mixed: home (`/`) and {', '.join(f'`/{p}`' for p in pages) or 'no other page (none registered yet)'}.
Interactions cycle: type a new sentence in "Your sentence", move the layer slider (keyboard), open a
home link with `text`/`layer`/`head` params, open another page. Every sentence is new
(`The q<session>z code <n> is`), so each one costs a SmolLM2-135M forward pass on the CPU.
Latency: input → rerun finished (new state shown, Streamlit's run state `notRunning`, nothing stale,
chart drawn).
Browsers, servers and other work share this machine's CPU, so latency includes client rendering; the
"CPU seconds" row splits the timed part's CPU between the server processes and the Chromium processes.
Errors are what a user would see: page errors, tracebacks or exception boxes, HTTP 5xx, failed loopback
requests, a live websocket that drops, a page not `CONNECTED` when checked, a timed-out interaction. A
websocket that closes before it ever opened is Streamlit's frontend giving up on a slow handshake and
retrying; it is counted on its own row, and the interaction still has to end `CONNECTED` with the right
text to pass.
Server RSS is sampled every second (sum over the replicas and nginx for the proxied run).

**Verdict: {'PASS — zero errors and no leaks in every column' if verdict else 'FAIL — see the details below'}.**

{table}

{chr(10).join(details)}

Run: `.venv/bin/python -m bench.browser_check --sessions {args.sessions} --seconds {args.seconds:.0f} --replicas {args.replicas} --timeout {args.timeout:.0f} --warm-seconds {args.warm_seconds:.0f}`
"""
    from bench.load.report import INTRO, PARTS, TITLE     # no locust import: its gevent patches would break asyncio
    return write_section("loadtest", TITLE, INTRO, "browser",
                         "## The real-browser truth check: Chromium sessions, single process vs nginx\n\n" + body, PARTS)


if __name__ == "__main__":
    print(main())
