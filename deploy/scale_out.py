"""Scale-out: N Streamlit replicas on loopback behind nginx (Debian's package) with sticky sessions.

    python -m deploy.scale_out --replicas 3 --port 8500

or, from Python::

    with scale_out(replicas=2) as cluster:
        urllib.request.urlopen(cluster.url + "/_stcore/health")

Each replica is ``streamlit run app.py`` with the same no-outbound flags as ``make run`` and the
browser tests, on its own free 127.0.0.1 port, with ``HF_HUB_OFFLINE=1``. nginx runs in the
foreground under this process (``-p <tmpdir> -c <tmpdir>/nginx.conf``): no system service, its
pid, logs and temp files in a throwaway directory. Sessions stick to a replica by a cookie that
nginx sets on the first visit (see deploy/nginx.conf.template). Everything is stopped on exit,
on an exception, on SIGINT/SIGTERM, and (Linux) when this process dies.

Faults. A replica that dies (a crash, an out-of-memory kill, a SIGKILL) is restarted by a
supervisor thread in this process, on the same port, with an exponential back-off (1 s, 2 s, 4 s
... at most 30 s; reset once a replica has stayed up for a minute), so nginx's config never
changes. Meanwhile nginx's passive health check (``max_fails``/``fail_timeout``) and
``proxy_next_upstream`` send that replica's visitors to a live one; their browser reconnects and
gets a fresh session there. Only nginx's own death stops everything. A Python supervisor, not
supervisord: the replica ports are chosen at start and baked into nginx's config, the launcher is
also a context manager the tests and the load test use, and it adds no daemon or config format.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
HOST = "127.0.0.1"
STREAMLIT_FLAGS = ["--server.headless", "true", "--browser.serverAddress", HOST,
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # loopback: never via a proxy
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "TOKENIZERS_PARALLELISM": "false"}


BACKOFF_S = (1.0, 30.0)        # first and largest wait before restarting a dead replica
STABLE_S = 60.0                # up this long: the next crash starts the back-off afresh


@dataclass
class Replica:
    """One supervised Streamlit process: its port and log, the live Popen, and its restarts."""
    index: int
    port: int
    log: Path
    cmd: list[str]
    env: dict
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    failures: int = 0          # crashes in a row (each one without STABLE_S of uptime before it)
    restart_at: float | None = None
    events: list[tuple[float, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def spawn(self) -> None:
        with open(self.log, "a") as fh:
            self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.started = time.monotonic()
        self.restart_at = None


class Supervisor(threading.Thread):
    """Restart dead replicas with an exponential back-off until ``stop()``."""

    def __init__(self, replicas: list[Replica], announce=None, poll_s: float = 0.2):
        super().__init__(name="atlas-supervisor", daemon=True)
        self.replicas, self.announce, self.poll_s = replicas, announce, poll_s
        self._stop_event = threading.Event()
        self.lock = threading.Lock()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)

    def _note(self, r: Replica, msg: str) -> None:
        r.events.append((time.monotonic(), msg))
        if self.announce:
            self.announce(f"[scale-out] replica {r.index} ({r.url}): {msg}")

    def step(self) -> None:
        now = time.monotonic()
        with self.lock:
            for r in self.replicas:
                if r.restart_at is None and r.proc is not None and r.proc.poll() is not None:
                    r.failures = 1 if now - r.started >= STABLE_S else r.failures + 1
                    wait = min(BACKOFF_S[1], BACKOFF_S[0] * 2 ** (r.failures - 1))
                    r.restart_at = now + wait
                    self._note(r, f"pid {r.proc.pid} exited ({r.proc.returncode}); restarting in {wait:.0f} s")
                elif r.restart_at is not None and now >= r.restart_at:
                    r.spawn()
                    r.restarts += 1
                    self._note(r, f"restarted as pid {r.proc.pid} (restart {r.restarts})")

    def run(self) -> None:
        while not self._stop_event.wait(self.poll_s):
            self.step()


@dataclass
class Cluster:
    """A running scale-out: the proxy URL, the replicas (supervised), nginx's pid, the work dir."""
    url: str
    replicas: list[Replica]
    nginx_pid: int
    workdir: Path
    threads_per_replica: int
    nginx: subprocess.Popen = field(repr=False, default=None)
    supervisor: Supervisor = field(repr=False, default=None)

    @property
    def replica_urls(self) -> list[str]:
        return [r.url for r in self.replicas]

    @property
    def replica_pids(self) -> list[int]:
        """The replicas' current pids (a restarted replica has a new one)."""
        return [r.proc.pid for r in self.replicas]

    @property
    def procs(self) -> list[subprocess.Popen]:
        return [*(r.proc for r in self.replicas), self.nginx]

    def healthy(self, i: int) -> bool:
        return _healthy(self.replicas[i].url)


def nginx_binary() -> str | None:
    """Path of the nginx executable (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx")
                                          if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def render_config(replica_ports: list[int], port: int, prefix: Path, *, max_body: str = "200m",
                  rate: str = "50r/s", burst: int = 200, max_fails: int = 1, fail_timeout: str = "5s") -> str:
    """The nginx config for these replica ports, listening on 127.0.0.1:``port``: ``rate`` and
    ``burst`` per client address (limit_req), a replica out for ``fail_timeout`` after
    ``max_fails`` failed connections (passive health check)."""
    user = ""
    if os.geteuid() == 0:      # nginx drops its workers to an unprivileged user only when root
        user = "user nobody nogroup;"
    upstreams = "\n".join(f"        server {HOST}:{p} max_fails={max_fails} fail_timeout={fail_timeout};"
                          for p in replica_ports)
    text = TEMPLATE.read_text()
    for key, value in {"@USER@": user, "@PREFIX@": str(prefix), "@UPSTREAMS@": upstreams,
                       "@LISTEN@": f"{HOST}:{port}", "@MAX_BODY@": max_body, "@RATE@": rate,
                       "@BURST@": str(burst)}.items():
        text = text.replace(key, value)
    return text


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies (Linux), so nothing is orphaned."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def _healthy(url: str) -> bool:
    with contextlib.suppress(OSError):
        with NO_PROXY.open(url + "/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read() == b"ok"
    return False


def _tail(path: Path, n: int = 1500) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-n:]
    return ""


def _stop(procs: list[subprocess.Popen], timeout: float = 10) -> None:
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                p.terminate()
    end = time.monotonic() + timeout
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(max(0.1, end - time.monotonic()))
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait(5)


@contextlib.contextmanager
def scale_out(replicas: int = 3, port: int | None = None, *, env: dict | None = None,
              threads_per_replica: int | None = None, startup_timeout: float = 120,
              keep_workdir: bool = False, supervise: bool = True, announce=None,
              nginx_options: dict | None = None) -> Iterator[Cluster]:
    """Start ``replicas`` Streamlit processes and nginx on 127.0.0.1:``port``; yield a Cluster.

    ``supervise`` restarts a dead replica (see the module's doc); ``announce`` gets one line per
    exit and restart; ``nginx_options`` go to ``render_config`` (e.g. ``rate="200r/s"``).

    ``threads_per_replica`` (torch/OpenMP threads) defaults to the cores divided among the
    replicas, so N replicas do not oversubscribe the CPU; OMP_NUM_THREADS in ``env`` wins.
    """
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    nginx = nginx_binary()
    if nginx is None:
        raise RuntimeError("nginx is not installed: apt-get install -y nginx")
    port = port or free_port()
    threads = threads_per_replica or max(1, (os.cpu_count() or 1) // replicas)
    workdir = Path(tempfile.mkdtemp(prefix="atlas-scale-out-"))
    workdir.chmod(0o755)       # nginx workers (nobody) must reach their temp dirs
    # One cookie secret for all replicas: Streamlit's XSRF cookie then validates on any of them.
    base_env = {**os.environ, **OFFLINE_ENV, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
                "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32), **(env or {})}
    cmd_tail = [*STREAMLIT_FLAGS]
    reps: list[Replica] = []
    nginx_proc: subprocess.Popen | None = None
    supervisor: Supervisor | None = None
    try:
        for i, p in enumerate(free_port() for _ in range(replicas)):
            r = Replica(i, p, workdir / f"replica-{i}.log",
                        [sys.executable, "-m", "deploy.serve", "--server.port", str(p), *cmd_tail], base_env)
            r.spawn()
            reps.append(r)
        deadline = time.monotonic() + startup_timeout
        pending = set(range(replicas))
        while pending:
            for i in sorted(pending):
                if reps[i].proc.poll() is not None:
                    raise RuntimeError(f"replica {i} exited ({reps[i].proc.returncode}): {_tail(reps[i].log)}")
                if _healthy(reps[i].url):
                    pending.discard(i)
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"replicas {sorted(pending)} not healthy in {startup_timeout:.0f} s")
            time.sleep(0.3)

        conf = workdir / "nginx.conf"
        conf.write_text(render_config([r.port for r in reps], port, workdir, **(nginx_options or {})))
        nginx_cmd = [nginx, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")]
        check = subprocess.run([*nginx_cmd, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected the config: {check.stderr.strip()}")
        with open(workdir / "nginx.out", "w") as fh:
            nginx_proc = subprocess.Popen(nginx_cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          preexec_fn=_die_with_parent)
        url = f"http://{HOST}:{port}"
        while not _healthy(url):
            if nginx_proc.poll() is not None:
                raise RuntimeError(f"nginx exited ({nginx_proc.returncode}): {_tail(workdir / 'error.log')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx on {url} not healthy: {_tail(workdir / 'error.log')}")
            time.sleep(0.2)
        supervisor = Supervisor(reps, announce=announce)
        if supervise:
            supervisor.start()
        yield Cluster(url=url, replicas=reps, nginx_pid=nginx_proc.pid, workdir=workdir,
                      threads_per_replica=threads, nginx=nginx_proc, supervisor=supervisor)
    finally:
        if supervisor is not None and supervisor.is_alive():
            supervisor.stop()       # no restarts while shutting down
        _stop([p for p in [nginx_proc, *(r.proc for r in reps)] if p is not None])   # nginx first
        if not keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=3, help="Streamlit processes (default 3)")
    ap.add_argument("--port", type=int, default=8500, help="nginx port on 127.0.0.1 (default 8500)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads per replica (default: cores // replicas, at least 1)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGINT, _raise_exit)
    try:
        with scale_out(args.replicas, args.port, threads_per_replica=args.threads,
                       announce=lambda line: print(line, flush=True)) as c:
            print(f"[scale-out] {len(c.replica_urls)} replicas ({c.threads_per_replica} torch thread(s) each): "
                  f"{', '.join(c.replica_urls)}", flush=True)
            print(f"[scale-out] nginx pid {c.nginx_pid}, logs in {c.workdir}", flush=True)
            print(f"[scale-out] open {c.url}   (Ctrl-C stops everything)", flush=True)
            while c.nginx.poll() is None:
                time.sleep(1)
            print(f"[scale-out] nginx (pid {c.nginx_pid}) exited ({c.nginx.returncode}); stopping the replicas",
                  flush=True)
            return 1
    except SystemExit as exc:
        print("[scale-out] stopped", flush=True)
        return 0 if exc.code in (128 + signal.SIGINT, 128 + signal.SIGTERM) else int(exc.code or 0)


if __name__ == "__main__":
    sys.exit(main())
