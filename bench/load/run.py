"""Locust drives browserless sessions (bench/load/protocol.py) against one Streamlit process or
nginx + N replicas; one row per user count with p50/p95 from widget change to script_finished,
cold (new sentence: one forward pass) and warm (the same sentence again: cached) separately.

    .venv/bin/python -m bench.load.run --users 10 25 --seconds 120 [--replicas 2]

Each simulated user opens home with its own tag in the sentence, then alternates a new sentence
(cold) and a new layer for the same sentence (warm: the forward pass is cached). Any exception delta or a non-successful script_finished
is an error; another user's tag in the shown text is a leak. Server CPU-seconds (all server
processes, psutil) per interaction and peak RSS are measured around each step.
"""
from __future__ import annotations

import locust  # noqa: I001 - locust's gevent patches sockets first
import argparse
import itertools
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import gevent
import psutil
from locust import User, between, task
from locust.env import Environment

from bench.load.protocol import Session

ROOT = Path(__file__).resolve().parents[2]
TAG = re.compile(r"qz\d{4}")
_ids = itertools.count()


class AtlasUser(User):
    wait_time = between(1, 3)

    def on_start(self):
        self.tag = f"qz{next(_ids):04d}"
        self.n = 0
        self.session = Session(self.host, cookie=self.tag, timeout=180)
        self.sentence = f"The {self.tag} cat sat on mat 0"
        self._fire("open", lambda: self.session.open("", {"text": self.sentence}))

    def on_stop(self):
        self.session.close()

    def _fire(self, name, call):
        t0 = time.perf_counter()
        exc = None
        try:
            run = call()
            leaks = {t for text in run.text for t in TAG.findall(text)} - {self.tag}
            if run.status != "ok":
                exc = RuntimeError(f"{run.status}: {run.exceptions[:1]}")
            elif leaks:
                exc = AssertionError(f"leak: saw {sorted(leaks)[:3]}")
        except Exception as e:  # noqa: BLE001 - counted as an error, the user goes on
            exc = e
        self.environment.events.request.fire(request_type="ws", name=name, response_time=(time.perf_counter() - t0) * 1000,
                                             response_length=0, exception=exc, context={})

    @task
    def cold_then_warm(self):
        if "Your sentence" not in self.session.widgets:        # the first page never finished: reopen
            self._fire("open", lambda: self.session.open("", {"text": self.sentence}))
            return
        self.n += 1
        self.sentence = f"The {self.tag} cat sat on mat {self.n}"
        self._fire("cold", lambda: self.session.change("Your sentence", self.sentence))
        # warm: the same sentence, another layer: the forward pass is cached, only the view redraws
        self._fire("warm", lambda: self.session.change("Layer (stages 4 and 5)", 1 + self.n % 4))


def server_procs(pids: list[int]) -> list[psutil.Process]:
    out = []
    for pid in pids:
        p = psutil.Process(pid)
        out += [p, *p.children(recursive=True)]
    return out


def cpu_s(procs) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def rss(procs) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def drive(url: str, pids: list[int], users: int, seconds: float) -> dict:
    env = Environment(user_classes=[AtlasUser], host=url)
    runner = env.create_local_runner()
    procs = server_procs(pids)
    cpu0, peak = cpu_s(procs), rss(procs)
    runner.start(users, spawn_rate=max(1, users / 10))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        gevent.sleep(2)
        peak = max(peak, rss(procs))
    runner.quit()
    cpu = cpu_s(procs) - cpu0
    row = {"users": users, "load": os.getloadavg()[0], "cpu_s": cpu, "rss_gb": peak / 2**30}
    n = 0
    for name in ("open", "cold", "warm"):
        s = env.stats.get(name, "ws")
        n += s.num_requests
        row[name] = (s.num_requests, s.num_failures, s.get_response_time_percentile(0.5) / 1000,
                     s.get_response_time_percentile(0.95) / 1000)
    row["errors"] = {str(e.error)[:80]: e.occurrences for e in env.stats.errors.values()}
    row["cpu_per_interaction"] = cpu / max(1, n)
    return row


def serve(port: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "deploy.serve", "--server.port", str(port), "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv=None) -> int:
    import urllib.request
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, nargs="+", default=[10, 25, 50, 100, 200])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--port", type=int, default=8611)
    args = ap.parse_args(argv)
    proc = serve(args.port)
    url = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        for users in args.users:
            row = drive(url, [proc.pid], users, args.seconds)
            print(row, flush=True)
    finally:
        proc.terminate()
        proc.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
