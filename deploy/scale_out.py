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


@dataclass
class Cluster:
    """A running scale-out: the proxy URL, the replicas' URLs and pids, nginx's pid, the work dir."""
    url: str
    replica_urls: list[str]
    replica_pids: list[int]
    nginx_pid: int
    workdir: Path
    threads_per_replica: int
    procs: list[subprocess.Popen] = field(default_factory=list, repr=False)


def nginx_binary() -> str | None:
    """Path of the nginx executable (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx")
                                          if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def render_config(replica_ports: list[int], port: int, prefix: Path, *, max_body: str = "200m") -> str:
    """The nginx config for these replica ports, listening on 127.0.0.1:``port``."""
    user = ""
    if os.geteuid() == 0:      # nginx drops its workers to an unprivileged user only when root
        user = "user nobody nogroup;"
    upstreams = "\n".join(f"        server {HOST}:{p} max_fails=0;" for p in replica_ports)
    text = TEMPLATE.read_text()
    for key, value in {"@USER@": user, "@PREFIX@": str(prefix), "@UPSTREAMS@": upstreams,
                       "@LISTEN@": f"{HOST}:{port}", "@MAX_BODY@": max_body}.items():
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
              keep_workdir: bool = False) -> Iterator[Cluster]:
    """Start ``replicas`` Streamlit processes and nginx on 127.0.0.1:``port``; yield a Cluster.

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
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        ports = [free_port() for _ in range(replicas)]
        for i, p in enumerate(ports):
            log = workdir / f"replica-{i}.log"
            logs.append(log)
            with open(log, "w") as fh:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "deploy.serve", "--server.port", str(p),
                     *STREAMLIT_FLAGS], cwd=ROOT, env=base_env, stdout=fh, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent))
        urls = [f"http://{HOST}:{p}" for p in ports]
        deadline = time.monotonic() + startup_timeout
        pending = set(range(replicas))
        while pending:
            for i in sorted(pending):
                if procs[i].poll() is not None:
                    raise RuntimeError(f"replica {i} exited ({procs[i].returncode}): {_tail(logs[i])}")
                if _healthy(urls[i]):
                    pending.discard(i)
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"replicas {sorted(pending)} not healthy in {startup_timeout:.0f} s")
            time.sleep(0.3)

        conf = workdir / "nginx.conf"
        conf.write_text(render_config(ports, port, workdir))
        nginx_cmd = [nginx, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")]
        check = subprocess.run([*nginx_cmd, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected the config: {check.stderr.strip()}")
        with open(workdir / "nginx.out", "w") as fh:
            proxy = subprocess.Popen(nginx_cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        procs.append(proxy)
        url = f"http://{HOST}:{port}"
        while not _healthy(url):
            if proxy.poll() is not None:
                raise RuntimeError(f"nginx exited ({proxy.returncode}): {_tail(workdir / 'error.log')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx on {url} not healthy: {_tail(workdir / 'error.log')}")
            time.sleep(0.2)
        yield Cluster(url=url, replica_urls=urls, replica_pids=[p.pid for p in procs[:-1]],
                      nginx_pid=proxy.pid, workdir=workdir, threads_per_replica=threads, procs=procs)
    finally:
        _stop(procs[::-1])       # nginx first, then the replicas
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
        with scale_out(args.replicas, args.port, threads_per_replica=args.threads) as c:
            print(f"[scale-out] {len(c.replica_urls)} replicas ({c.threads_per_replica} torch thread(s) each): "
                  f"{', '.join(c.replica_urls)}", flush=True)
            print(f"[scale-out] nginx pid {c.nginx_pid}, logs in {c.workdir}", flush=True)
            print(f"[scale-out] open {c.url}   (Ctrl-C stops everything)", flush=True)
            while all(p.poll() is None for p in c.procs):
                time.sleep(1)
            dead = [f"pid {p.pid} ({'nginx' if p.pid == c.nginx_pid else 'replica'})"
                    for p in c.procs if p.poll() is not None]
            print(f"[scale-out] {', '.join(dead)} exited; stopping the rest", flush=True)
            return 1
    except SystemExit as exc:
        print("[scale-out] stopped", flush=True)
        return 0 if exc.code in (128 + signal.SIGINT, 128 + signal.SIGTERM) else int(exc.code or 0)


if __name__ == "__main__":
    sys.exit(main())
