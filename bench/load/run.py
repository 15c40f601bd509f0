"""Locust drives browserless sessions (bench/load/protocol.py) against one Streamlit process or
nginx + N replicas, and writes bench/results/loadtest.md (the sweep, the headline, the faults)
and bench/results/soak.md (RSS over time, with a plot, and the sessions cleaned up).

    .venv/bin/python -m bench.load.run sweep --users 1 5 10 25 50 100 200 --seconds 60 --replicas 0 2
    .venv/bin/python -m bench.load.run soak --users 10 --minutes 30
    .venv/bin/python -m bench.load.run faults --users 10 --seconds 90

Each simulated user opens one page (home, attention, scaling and sparse in turn: user 0 home,
user 1 attention, ...) with its own tag in the text (**open**), then, waiting ``THINK_S`` between
interactions as a person reading the chart does, changes a widget the way the page's controls do:
- home: a new sentence (**cold**: one forward pass) and a new layer (**warm**: the pass is cached);
- attention: a new text (cold) and a new head (warm);
- scaling: the log10 N slider (warm: closed-form curves);
- sparse: another pattern (warm: a mask drawn, no model).
After six interactions the user leaves (closes its websocket) and a new visitor with a new tag
arrives, so the server must clean sessions up. A user whose socket was closed under it (a replica
killed) reconnects as Streamlit's frontend does and goes on in a fresh session, whose first run
must show the app's note (pages/ui/session.py). Latency is widget change -> ``script_finished``.
An error is an exception delta, a script that did not finish successfully, a timeout or a broken
socket; a leak is another user's tag anywhere in what the run showed (read as shown: pills
joined, see ``Run.tags``). Server CPU-seconds and RSS are summed over the server processes; the
load generator's own CPU-seconds are reported beside them, since it shares the machine.
"""
from __future__ import annotations

import locust  # noqa: F401,I001 - locust's gevent patches sockets first
import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import numpy as np
import psutil
from locust import User, between, task
from locust.env import Environment

from bench.common import RESULTS, md_table, write_report, write_section
from bench.load.protocol import TAG, Session, visible_text
from bench.load.report import INTRO, PARTS, TITLE
from pages.ui.session import NOTE

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("home", "attention", "scaling", "sparse")
TEXT_PAGES = {"home": ("Your sentence", "Layer (stages 4 and 5)", 30), "attention": ("Text", "Head", 9)}
BUDGET_S = 1.0                    # faults: the hosted run budget the hog's sweeps run under
PER_VISIT = 6                     # interactions before a user leaves and a new visitor arrives
THINK_S = (5.0, 15.0)             # a person reads the chart between two changes (``--think`` overrides)
DRAIN_S = 30.0                    # at a row's end, how long the interactions in flight may still finish
_ids = itertools.count()
_users = itertools.count()


@dataclass
class Tally:
    """Every interaction of one run: (kind, page, seconds, ok), leaks, sessions seen."""
    samples: list[tuple[str, str, float, bool]] = field(default_factory=list)
    leaks: int = 0
    leak_notes: list[str] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    errors: dict[str, int] = field(default_factory=dict)
    times: list[tuple[float, str, bool]] = field(default_factory=list)    # (monotonic end, kind, ok)
    in_flight: dict[int, tuple[str, str, float]] = field(default_factory=dict)   # user -> (kind, page, start)
    unfinished: list[tuple[str, str, float]] = field(default_factory=list)    # still running after the drain
    draining: bool = False                # the row's time is up: no user starts a new interaction
    reconnects: int = 0                   # sockets found closed and opened again, as the browser does
    resumed: list[tuple[float, bool]] = field(default_factory=list)   # first run after one: (s, note shown)


TALLY = Tally()


class AtlasUser(User):
    wait_time = between(*THINK_S)

    def on_start(self):
        self.page = PAGES[next(_users) % len(PAGES)]        # user 0 home, 1 attention, 2 scaling, 3 sparse, ...
        self._arrive()

    def _arrive(self):
        self.tag = f"qz{next(_ids) % 10000:04d}"
        self.n = 0
        self.session = Session(self.host, cookie=self.tag, timeout=240)
        self.sentence = f"The {self.tag} cat sat on mat 0"
        page = "" if self.page == "home" else self.page
        query = {"text": self.sentence} if self.page in ("home", "attention") else {}
        self._fire("open", lambda: self.session.open(page, query))

    def on_stop(self):
        self.session.close()

    def _fire(self, kind, call) -> bool:
        t0 = time.perf_counter()
        exc = None
        TALLY.in_flight[id(self)] = (kind, self.page, t0)
        resumed = self.session.resumed
        try:
            run = call()
            if resumed:
                TALLY.resumed.append((run.seconds, any(NOTE[:60] in t for t in run.text)))
            leaks = run.tags(TAG) - {self.tag}
            if run.status != "ok":
                exc = RuntimeError(f"{run.status}: {run.exceptions[:1]}")
            elif leaks:
                TALLY.leaks += 1
                where = [t for t in run.text if any(x in t or x in visible_text(t) for x in leaks)]
                TALLY.leak_notes.append(f"{self.tag} on {self.page} ({kind}) saw {sorted(leaks)}: "
                                        f"{visible_text(where[0])[:160] if where else ''!r}")
                exc = AssertionError(f"leak: saw {sorted(leaks)[:3]}")
        except Exception as e:  # noqa: BLE001 - counted as an error; the user reconnects
            exc = e
            if not isinstance(e, AssertionError) and self.session.alive():
                self.session.widgets.clear()       # not a closed socket: the next task is a new visitor
        finally:
            TALLY.in_flight.pop(id(self), None)
        seconds = time.perf_counter() - t0
        if self.session.session_id:
            TALLY.sessions.add(self.session.session_id)
        TALLY.samples.append((kind, self.page, seconds, exc is None))
        TALLY.times.append((time.monotonic(), kind, exc is None))
        if exc is not None:
            key = f"{type(exc).__name__}: {str(exc)[:70]}"
            TALLY.errors[key] = TALLY.errors.get(key, 0) + 1
        self.environment.events.request.fire(request_type="ws", name=f"{kind} {self.page}",
                                             response_time=seconds * 1000, response_length=0,
                                             exception=exc, context={})
        return exc is None

    def _reconnect(self) -> bool:
        """The frontend's own reconnect; a server that does not answer counts as an error."""
        try:
            self.session.reconnect()
        except Exception as exc:  # noqa: BLE001 - counted, and tried again at the next task
            key = f"reconnect {type(exc).__name__}: {str(exc)[:60]}"
            TALLY.errors[key] = TALLY.errors.get(key, 0) + 1
            gevent.sleep(1)
            return False
        TALLY.reconnects += 1
        return True

    def _change(self, kind, label, value):
        page = "" if self.page == "home" else self.page
        return self._fire(kind, lambda: self.session.change(label, value, page=page))

    @task
    def interact(self):
        if TALLY.draining:                                     # the row is over: start nothing new
            gevent.sleep(1)
            return
        if self.n >= PER_VISIT or not self.session.widgets:      # leave; a new visitor comes
            self.session.close()
            self._arrive()
            return
        if not self.session.alive() and not self._reconnect():   # its server went away meanwhile
            return
        self.n += 1
        if self.page in TEXT_PAGES:                             # cold: a new sentence; warm: a new layer/head
            text_box, warm_widget, values = TEXT_PAGES[self.page]
            if self.n % 2:
                self.sentence = f"The {self.tag} cat sat on mat {self.n}"
                self._change("cold", text_box, self.sentence)
            else:
                self._change("warm", warm_widget, self.n % values)
        elif self.page == "scaling":
            self._change("warm", "log₁₀ N (non-embedding parameters)", 8.0 + (self.n % 5) * 0.5)
        else:
            options = self.session.options.get("Pattern", [])
            if options:
                self._change("warm", "Pattern", options[self.n % len(options)])


# --------------------------------------------------------------------------- server side

def server_procs(pids: list[int]) -> list[psutil.Process]:
    out = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            out += [p, *p.children(recursive=True)]
        except psutil.Error:
            pass
    return out


def _total(procs, read) -> float:
    """``read(process)`` summed over the processes still alive (a restarted replica's old pid is gone)."""
    total = 0
    for p in procs:
        try:
            total += read(p)
        except psutil.Error:
            pass
    return total


def cpu_s(procs) -> float:
    return float(_total(procs, lambda p: sum(p.cpu_times()[:2])))      # user + system


def rss(procs) -> int:
    return int(_total(procs, lambda p: p.memory_info().rss))


def serve(port: int, session_log: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    """One Streamlit process (deploy.serve), logging its session count when ``session_log``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    module = ["bench.load.logged_serve", str(session_log)] if session_log else ["deploy.serve"]
    return subprocess.Popen([sys.executable, "-m", *module, "--server.port", str(port), "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_healthy(url: str, timeout: float = 180) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not healthy after {timeout:.0f} s")


def warm_up(url: str) -> None:
    """Open every page once (models loaded, first-use costs paid) before anything is timed."""
    for page in PAGES:
        s = Session(url, timeout=300)
        s.open("" if page == "home" else page, {})
        s.close()


# --------------------------------------------------------------------------- one run

def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def drive(url: str, pids, users: int, seconds: float, *, sample_s: float = 2.0, on_tick=None) -> dict:
    """``users`` Locust users for ``seconds``; returns the row and the RSS series."""
    global TALLY, _users
    TALLY, _users = Tally(), itertools.count()
    env = Environment(user_classes=[AtlasUser], host=url)
    runner = env.create_local_runner()
    procs = server_procs(pids() if callable(pids) else pids)
    me = psutil.Process()
    cpu0, gen0, t0 = cpu_s(procs), cpu_s([me]), time.monotonic()
    series = [(0.0, rss(procs))]
    runner.start(users, spawn_rate=max(1, users / 10))
    end = t0 + seconds
    while time.monotonic() < end:
        gevent.sleep(sample_s)
        if callable(pids):
            procs = server_procs(pids())
        series.append((time.monotonic() - t0, rss(procs)))
        if on_tick:
            on_tick(time.monotonic() - t0)
    drain_s = drain()
    stop(runner)
    cpu, gen = cpu_s(procs) - cpu0, cpu_s([me]) - gen0
    done = sum(1 for t, _, ok in TALLY.times if t <= end and ok)
    row = {"users": users, "load": os.getloadavg()[0], "cpu_s": cpu, "rss_peak": max(r for _, r in series),
           "sessions": len(TALLY.sessions), "leaks": TALLY.leaks, "leak_notes": TALLY.leak_notes[:5],
           "errors": dict(TALLY.errors), "drain_s": drain_s, "unfinished": len(TALLY.unfinished),
           "n": len(TALLY.samples), "cpu_per_interaction": cpu / max(1, len(TALLY.samples)),
           "generator_cpu_s": gen, "per_s": done / seconds,
           "reconnects": TALLY.reconnects, "resumed": list(TALLY.resumed)}
    for kind in ("open", "cold", "warm"):
        row[kind] = percentiles(kind)
    row["per_page"] = {page: pct([s for k, p, s, ok in TALLY.samples if p == page and k != "open" and ok]
                                 + [s for k, p, s in TALLY.unfinished if p == page and k != "open"], 95)
                       for page in PAGES}
    return {"row": row, "series": series, "times": list(TALLY.times)}


def set_think(lo: float, hi: float) -> None:
    global THINK_S
    THINK_S = (lo, hi)
    AtlasUser.wait_time = between(lo, hi)


def drain(limit_s: float = DRAIN_S) -> float:
    """The row's time is up: users start nothing new, and what is in flight gets ``limit_s`` to
    finish. What is still running then is kept as unfinished, with the seconds it has waited so
    far (a lower bound), so a saturated server's slowest interactions are not dropped from its
    percentiles (survivor bias). Returns the seconds the drain took."""
    TALLY.draining = True
    t0 = time.monotonic()
    while TALLY.in_flight and time.monotonic() - t0 < limit_s:
        gevent.sleep(0.2)
    now = time.perf_counter()
    TALLY.unfinished = [(kind, page, now - start) for kind, page, start in TALLY.in_flight.values()]
    return time.monotonic() - t0


def percentiles(kind: str) -> dict:
    """``n`` interactions of ``kind``, their ``errors``, how many were ``unfinished``, and ``p50`` and
    ``p95`` over the finished successes plus the unfinished ones' waits (then lower bounds)."""
    xs = [s for k, _, s, ok in TALLY.samples if k == kind and ok]
    bad = sum(1 for k, _, _, ok in TALLY.samples if k == kind and not ok)
    cut = [s for k, _, s in TALLY.unfinished if k == kind]
    return {"n": len(xs) + bad + len(cut), "errors": bad, "unfinished": len(cut),
            "p50": pct(xs + cut, 50), "p95": pct(xs + cut, 95)}


def stop(runner, grace_s: float = 30) -> None:
    """End the users: Locust's quit, but never longer than ``grace_s`` (at 25 users one run stalled
    in quit with a user's socket still open); what is left is killed."""
    try:
        gevent.with_timeout(grace_s, runner.quit)
    except gevent.Timeout:
        gevent.killall(list(runner.user_greenlets), block=True, timeout=10)


def settle(pids, quiet_cpu_s: float = 0.2, window_s: float = 2.0, limit_s: float = 180) -> float:
    """Wait until the server has finished the work the last row's users left in flight (its
    processes use under ``quiet_cpu_s`` CPU-seconds in ``window_s``), so a row never pays for the
    one before it. Returns the seconds waited (``limit_s`` at most)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        procs = server_procs(pids() if callable(pids) else pids)
        before = cpu_s(procs)
        gevent.sleep(window_s)
        if cpu_s(procs) - before < quiet_cpu_s:
            break
    return time.monotonic() - t0


KINDS = {"open": "open (a new visitor's page)", "cold": "cold (new sentence)", "warm": "warm (cached)"}


def table(rows: list[dict], setup: str) -> list[dict]:
    """One table row per (user count, kind); the row-wide figures stand on its first line."""
    out = []
    for r in rows:
        for i, kind in enumerate(KINDS):
            k = r[kind]
            if not k["n"]:
                continue
            bound = "≥ " if k["unfinished"] else ""          # unfinished ones count as lower bounds
            first = i == 0
            out.append({"set-up": setup if first else "", "users": r["users"] if first else "", "row": KINDS[kind],
                        "interactions": k["n"], "errors": k["errors"], "unfinished": k["unfinished"],
                        "p50 s": f"{bound}{k['p50']:.2f}", "p95 s": f"{bound}{k['p95']:.2f}",
                        "done / s": f"{r['per_s']:.2f}" if first else "",
                        "leaks": r["leaks"] if first else "",
                        "server CPU-s / interaction": f"{r['cpu_per_interaction']:.2f}" if first else "",
                        "load generator CPU-s": f"{r['generator_cpu_s']:.0f}" if first else "",
                        "peak RSS GB": f"{r['rss_peak'] / 1e9:.2f}" if first else "",
                        "load": f"{r['load']:.1f}" if first else "",
                        "idle again after s": f"{r['settle_s']:.0f}" if first and "settle_s" in r else ""})
    return out


def meets(row: dict, kind: str, limit_s: float = 1.0) -> bool:
    """p95 within ``limit_s`` with no error and nothing left unfinished."""
    k = row[kind]
    return k["n"] > 0 and k["errors"] == 0 and k["unfinished"] == 0 and k["p95"] <= limit_s


def headline(rows: list[dict], kinds: tuple[str, ...]) -> str:
    """The largest user count whose every kind in ``kinds`` meets the bar, with every smaller count
    meeting it too (a lucky row past the knee does not count)."""
    best = None
    for r in sorted(rows, key=lambda r: r["users"]):
        if not all(meets(r, k) for k in kinds):
            break
        best = r["users"]
    return f"{best} users" if best is not None else "no user count"


# --------------------------------------------------------------------------- commands

def sweep(args) -> dict:
    results = {}
    for replicas in args.replicas:
        rows = []
        if replicas == 0:
            proc = serve(args.port)
            url = f"http://127.0.0.1:{args.port}"
            try:
                wait_healthy(url)
                warm_up(url)
                for users in args.users:
                    rows.append(drive(url, [proc.pid], users, args.seconds)["row"])
                    rows[-1]["settle_s"] = settle([proc.pid])
                    print(rows[-1], flush=True)
            finally:
                proc.terminate()
                proc.wait(20)
            results["1 process"] = rows
        else:
            from deploy.scale_out import scale_out
            with scale_out(replicas=replicas, nginx_options={"rate": "500r/s", "burst": 2000}) as c:
                for u in c.replica_urls:
                    warm_up(u)
                for users in args.users:
                    pids = lambda: [*c.replica_pids, c.nginx_pid]   # noqa: E731 - a restarted replica's new pid
                    rows.append(drive(c.url, pids, users, args.seconds)["row"])
                    rows[-1]["settle_s"] = settle(pids)
                    print(rows[-1], flush=True)
            results[f"nginx + {replicas} replicas"] = rows
    return results


def plot(kind: str, data: dict, json_name: str, png_name: str) -> None:
    """Write ``data`` to bench/results/``json_name`` and draw it with bench.load.plot in a process of its own."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / json_name).write_text(json.dumps(data))
    cmd = [sys.executable, "-m", "bench.load.plot", kind, str(RESULTS / json_name), str(RESULTS / png_name)]
    for _ in range(3):                          # kaleido's Chromium can fail to start on a loaded machine
        if subprocess.run(cmd, cwd=ROOT, timeout=300, capture_output=True).returncode == 0:
            break


def sweep_report(results: dict, seconds: float) -> str:
    plot("sweep", {"results": results, "seconds": seconds}, "sweep_series.json", "sweep_p95.png")
    rows = [r for setup, rs in results.items() for r in table(rs, setup)]
    heads = "\n".join(f"- **{setup}**: cold and warm p95 ≤ 1 s up to **{headline(rs, ('cold', 'warm'))}** "
                      f"(warm alone: {headline(rs, ('warm',))}; with a new visitor's first page too: "
                      f"{headline(rs, ('open', 'cold', 'warm'))}); at {rs[-1]['users']} users the server finished "
                      f"{rs[-1]['per_s']:.1f} interactions/s."
                      for setup, rs in results.items())
    pages = md_table([{"set-up": s, "users": r["users"], **{f"{p} p95 s": f"{v:.2f}" for p, v in r["per_page"].items()}}
                      for s, rs in results.items() for r in rs])
    errs = "; ".join(f"{s} {r['users']} users: {r['errors']} {r['leak_notes'] or ''}"
                     for s, rs in results.items() for r in rs if r["errors"])
    return (f"## Users against latency ({seconds:.0f} s a row)\n\n"
            f"Each user waits {THINK_S[0]:g}–{THINK_S[1]:g} s between interactions (uniform), as a person reading the "
            f"chart does. When a row's time is up, users start nothing new and what is in flight gets {DRAIN_S:.0f} s "
            "to finish; what is still running then is **unfinished** and counts with the seconds it had waited, so "
            "a p95 marked ≥ is a lower bound (a saturated server's slowest interactions are not dropped). "
            "`done / s` is the interactions finished within the row's time, per second: at saturation, the "
            "server's throughput, from which any other think time can be read (users ≈ throughput × (think + "
            "latency)). The load generator shares the 2 cores; its CPU-seconds are in the table.\n\n"
            f"**Headline: the largest user count with p95 ≤ 1 s** (no errors, nothing unfinished, and every "
            f"smaller count meeting it too)\n\n{heads}\n\n{md_table(rows)}\n\nPer page (p95 of cold and warm interactions together, s):\n\n{pages}\n\n"
            f"Errors by kind: {errs or 'none'}.\n\n![p95 against users](sweep_p95.png)\n")


def soak(args) -> str:
    log = Path(f"/tmp/atlas-soak-sessions-{os.getpid()}.log")
    proc = serve(args.port, session_log=log)
    url = f"http://127.0.0.1:{args.port}"
    try:
        wait_healthy(url)
        warm_up(url)
        run = drive(url, [proc.pid], args.users, args.minutes * 60, sample_s=10)
        left = time.monotonic()
        after = []
        while time.monotonic() - left < args.after:
            time.sleep(10)
            after.append((time.monotonic() - left, rss(server_procs([proc.pid]))))
    finally:
        proc.terminate()
        proc.wait(20)
    return soak_report(run, after, log, args)


def sessions_from(log: Path) -> list[tuple[float, int, int]]:
    out = []
    for line in log.read_text().splitlines() if log.exists() else []:
        t, active, held = line.split()
        out.append((float(t), int(active), int(held)))
    return out


def soak_report(run: dict, after, log: Path, args) -> str:
    series, row = run["series"], run["row"]
    t = np.array([s for s, _ in series]) / 60
    mb = np.array([r for _, r in series]) / 2**20
    last = t >= t[-1] - 10
    start10 = mb[last][0]
    growth = (mb[last].max() - start10) / start10 * 100
    sess = sessions_from(log)
    data = {"users": args.users, "minutes": args.minutes, "growth_pct": growth,
            "t_s": [s for s, _ in series], "rss": [r for _, r in series],
            "after_t_s": [a for a, _ in after], "after_rss": [r for _, r in after],
            "sessions": sess}
    plot("soak", data, "soak_series.json", "soak_rss.png")
    held_end = sess[-1][2] if sess else "?"
    peak_held = max((h for _, _, h in sess), default=0)
    errors = sum(1 for _, _, ok in run["times"] if not ok)
    verdict = "PASS" if growth <= 5 and errors == 0 else "FAIL"
    body = (f"- {args.users} protocol-level users for {args.minutes} min against one process, each leaving after "
            f"{PER_VISIT} interactions for a new visitor (a new Streamlit session); then {args.after:.0f} s with no users.\n"
            f"- Interactions: {row['n']}; **errors: {errors}** {row['errors'] or ''}; leaks: {row['leaks']} "
            f"{row['leak_notes'] or ''}; server CPU-s per interaction "
            f"{row['cpu_per_interaction']:.2f}; load {row['load']:.1f} at the end.\n"
            f"- Cold p50/p95 {row['cold']['p50']:.2f}/{row['cold']['p95']:.2f} s; warm {row['warm']['p50']:.2f}/"
            f"{row['warm']['p95']:.2f} s (think time {THINK_S[0]:g}–{THINK_S[1]:g} s).\n"
            f"- **RSS:** {mb[0]:.0f} MiB after warm-up, {mb.max():.0f} MiB peak, {mb[-1]:.0f} MiB at the end; the last "
            f"10 minutes grew **{growth:+.1f} %** (limit +5 %): **{verdict}**.\n"
            f"- **Sessions:** {row['sessions']} opened by the users; the server held at most "
            f"{peak_held} at once and **{held_end} {args.after:.0f} s after the last user left** "
            f"(Streamlit keeps a closed session for reconnection up to 2 minutes, then drops it).\n\n"
            f"![RSS over the soak](soak_rss.png)\n")
    return body


def faults(args) -> str:
    """Two parts: (1) a replica SIGKILLed under load through nginx; (2) hosted mode, one visitor's
    ablation sweep stopped by the time budget while other users' p95 is measured."""
    from deploy.scale_out import scale_out
    out = []
    with scale_out(replicas=2, nginx_options={"rate": "500r/s", "burst": 2000}) as c:
        for u in c.replica_urls:
            warm_up(u)
        state = {}

        def tick(t):
            if "killed" not in state and t >= args.kill_at:
                victim = c.replicas[0].proc.pid
                os.kill(victim, signal.SIGKILL)
                state.update(killed=time.monotonic(), victim=victim)
            if "killed" in state and "back" not in state and c.replicas[0].proc.pid != state["victim"] \
                    and c.healthy(0):
                state["back"] = time.monotonic() - state["killed"]

        run = drive(c.url, lambda: [*c.replica_pids, c.nginx_pid], args.users, args.seconds, sample_s=0.5,
                    on_tick=tick)
        k = state["killed"]
        before = [ok for t, _, ok in run["times"] if t < k]
        during = [ok for t, _, ok in run["times"] if k <= t < k + 30]
        later = [ok for t, _, ok in run["times"] if t >= k + 30]
        resumed = run["row"]["resumed"]
        noted = sum(1 for _, shown in resumed if shown)
        first = pct([t for t, _ in resumed], 50)
        out.append(f"### A replica killed under load (nginx + 2 replicas, {args.users} users, {args.seconds:.0f} s, "
                   f"SIGKILL at {args.kill_at:.0f} s)\n\n"
                   f"- interactions before the kill: {len(before)}, errors {before.count(False)}; in the 30 s after: "
                   f"{len(during)}, errors {during.count(False)} (an error here is an interaction in flight on the dead "
                   f"replica, whose socket broke under it); after that: {len(later)}, errors {later.count(False)}\n"
                   f"- the users whose socket closed reconnected as the browser does ({run['row']['reconnects']} "
                   f"reconnects, same cookie): nginx sent them to a live replica, and their next run, in a fresh "
                   f"session there, took {first:.2f} s (median) and showed the app's note that the server went "
                   f"away in **{noted} of {len(resumed)}**\n"
                   f"- the supervisor restarted the replica and it was healthy again **{state.get('back', float('nan')):.1f} s** "
                   f"after the kill\n- errors by kind: {run['row']['errors'] or 'none'}\n"
                   f"- leaks: {run['row']['leaks']} {run['row']['leak_notes'] or ''}\n")
    out.append(budget_fault(args))
    return "\n".join(out)


def budget_fault(args) -> str:
    """Hosted, budget ``BUDGET_S``: one visitor runs ablation sweeps over and over (each stopped by the
    budget), while ``args.users`` others use the app; their p95 is compared with a run without."""
    rows = []
    env = {"ATLAS_HOSTED": "1", "ATLAS_RUN_BUDGET_S": str(BUDGET_S)}
    proc = serve(args.port + 1, env=env)
    url = f"http://127.0.0.1:{args.port + 1}"
    try:
        wait_healthy(url)
        warm_up(url)
        for hog in (False, True):
            stop = {"n": 0, "stopped": 0}
            greenlet = gevent.spawn(_hog, url, stop) if hog else None
            r = drive(url, [proc.pid], args.users, args.seconds / 2)["row"]
            if greenlet:
                stop["n"] = -1
                greenlet.join(timeout=60)
            rows.append({"another visitor": f"ablation sweeps under a {BUDGET_S:g} s budget" if hog else "idle",
                         "sweeps started": stop.get("started", 0) if hog else "", "stopped by budget": stop["stopped"] if hog else "",
                         "warm p95 s": f"{r['warm']['p95']:.2f}", "cold p95 s": f"{r['cold']['p95']:.2f}",
                         "errors": sum(v for v in r["errors"].values()),
                         "hog's failed tries": len(stop.get("failures", [])) if hog else ""})
    finally:
        proc.terminate()
        proc.wait(20)
    return (f"### A run past its time budget (hosted, `ATLAS_RUN_BUDGET_S={BUDGET_S:g}`, {args.users} other users)\n\n"
            + md_table(rows) + "\n")


HOG_TEXT = "The quick brown fox jumps over the lazy dog near the river bank. " * 58   # ~800 tokens, < 4,000 chars


def _hog(url: str, stop: dict) -> None:
    """One visitor pressing "Sweep every head" on the inside page over and over, each time on a
    new prompt of about 800 tokens, under the hosted caps (a new sweep, not a cached one: the
    default prompt's sweep ran inside the budget once and was then served from the cache, and a
    200-token one mostly finished inside 1 s), each stopped by the budget."""
    stop["started"] = 0
    while stop["n"] >= 0:
        try:
            s = Session(url, timeout=240)
            text = f"Sweep {stop['started']} of the hog. " + HOG_TEXT
            s.open("inside", {"tab": "Ablation", "text": text})
            button = next((label for label in s.widgets if label.startswith("Sweep every head")), None)
            if button is not None:
                run = s.click(button, page="inside")
                stop["started"] += 1
                stop["stopped"] += any("stopped after" in t for t in run.text)
            s.close()
        except Exception as exc:  # noqa: BLE001 - a failed try is noted, and tried again
            stop.setdefault("failures", []).append(f"{type(exc).__name__}: {exc}"[:80])
            gevent.sleep(1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["sweep", "soak", "faults"])
    ap.add_argument("--users", type=int, nargs="+", default=[1, 2, 5, 10, 25, 50, 100, 200])
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--replicas", type=int, nargs="+", default=[0, 2])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--after", type=float, default=150, help="soak: seconds watched after the users leave")
    ap.add_argument("--kill-at", type=float, default=30)
    ap.add_argument("--port", type=int, default=8611)
    ap.add_argument("--think", type=float, nargs=2, default=THINK_S, metavar=("LO", "HI"),
                    help="seconds a user waits between interactions, drawn uniformly")
    args = ap.parse_args(argv)
    set_think(*args.think)
    start = time.time()
    if args.command == "sweep":
        body = sweep_report(sweep(args), args.seconds)
        section("sweep", body, start)
    elif args.command == "soak":
        args.users = args.users[0]
        write_report("soak", "Soak: one process under steady protocol-level load", soak(args))
    else:
        args.users = args.users[0]
        section("faults", "## Faults\n\n" + faults(args), start)
    return 0


def section(part: str, body: str, start: float) -> None:
    """Write one part of the load report, stamped with when it ran (the parts run apart)."""
    utc = lambda t: time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))     # noqa: E731
    stamp = f"\n\nThis part ran {utc(start)} to {utc(time.time())[-5:]} UTC; load average {os.getloadavg()[0]:.2f} at its end."
    write_section("loadtest", TITLE, INTRO, part, body.rstrip() + stamp, PARTS)


if __name__ == "__main__":
    sys.exit(main())
