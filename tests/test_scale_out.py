"""Scale-out: two replicas behind nginx on loopback. Through the proxy: health, the app's HTML,
a websocket upgrade to /_stcore/stream, cookie stickiness (HTTP and websocket on one replica),
spreading of new visitors over both replicas, security headers, the per-client rate limit, a
replica SIGKILLed mid-run (the other keeps serving, the dead one restarts and rejoins), and that
everything is stopped afterwards."""
import asyncio
import concurrent.futures
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import websockets.sync.client as wsc

from deploy.scale_out import NO_PROXY, nginx_binary, scale_out

pytestmark = pytest.mark.skipif(nginx_binary() is None,
                                reason="nginx is not installed (apt-get install -y nginx)")


def get(url: str, cookie: str | None = None):
    req = urllib.request.Request(url, headers={"Cookie": f"atlas_replica={cookie}"} if cookie else {})
    with NO_PROXY.open(req, timeout=10) as r:
        return r.status, r.headers, r.read()


async def ws_replica(url: str, cookie: str) -> str:
    """Open Streamlit's websocket through nginx; return the replica that accepted the upgrade."""
    import websockets
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(ws_url, additional_headers={"Cookie": f"atlas_replica={cookie}"},
                                  subprotocols=["streamlit"], open_timeout=10, proxy=None) as ws:
        assert ws.response.status_code == 101
        replica = ws.response.headers["X-Atlas-Replica"]
        await ws.ping()          # the upgraded connection is live end to end
    return replica


@pytest.fixture(scope="module")
def cluster():
    with scale_out(replicas=2) as c:
        yield c
    # After the context: no replica and no nginx left running.
    for pid in [*c.replica_pids, c.nginx_pid]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_health_and_html_through_proxy(cluster):
    status, headers, body = get(cluster.url + "/_stcore/health")
    assert (status, body) == (200, b"ok")
    assert headers["X-Atlas-Replica"] in {u.removeprefix("http://") for u in cluster.replica_urls}
    status, headers, body = get(cluster.url + "/")
    assert status == 200 and b'<div id="root">' in body
    assert headers["Server"].startswith("nginx")


def test_first_visit_gets_sticky_cookie(cluster):
    _, headers, _ = get(cluster.url + "/")
    cookies = [v for k, v in headers.items() if k.lower() == "set-cookie" and v.startswith("atlas_replica=")]
    assert len(cookies) == 1 and len(cookies[0].split(";")[0]) > len("atlas_replica=") + 8
    _, again, _ = get(cluster.url + "/", cookie=cookies[0].split(";")[0].split("=", 1)[1])
    assert not any(v.startswith("atlas_replica=") for k, v in again.items() if k.lower() == "set-cookie")


def test_same_cookie_same_replica_and_cookies_spread(cluster):
    seen = {}
    for i in range(24):
        replicas = {get(cluster.url + "/_stcore/health", cookie=f"visitor-{i}")[1]["X-Atlas-Replica"]
                    for _ in range(4)}
        assert len(replicas) == 1, f"cookie visitor-{i} reached {replicas}"
        seen[f"visitor-{i}"] = replicas.pop()
    assert len(set(seen.values())) == 2, f"24 visitors all reached {set(seen.values())}"


def test_websocket_upgrade_sticks_to_the_cookies_replica(cluster):
    for cookie in ("alice", "bob", "carol", "dave"):
        http_replica = get(cluster.url + "/", cookie=cookie)[1]["X-Atlas-Replica"]
        assert asyncio.run(ws_replica(cluster.url, cookie)) == http_replica


def last_replica(headers) -> str:
    """X-Atlas-Replica lists every server nginx tried ("a, b" after a failover); the last answered."""
    return headers["X-Atlas-Replica"].split(",")[-1].strip()


def cookies_by_replica(cluster) -> dict[str, str]:
    """One visitor cookie per replica address."""
    found = {}
    for i in range(64):
        found.setdefault(get(cluster.url + "/_stcore/health", cookie=f"probe-{i}")[1]["X-Atlas-Replica"], f"probe-{i}")
        if len(found) == len(cluster.replicas):
            return found
    raise AssertionError(f"64 cookies reached only {set(found)}")


def test_security_headers(cluster):
    _, headers, _ = get(cluster.url + "/")
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'self'", "connect-src 'self'"):
        assert directive in csp
    assert "*" not in csp and "http:" not in csp        # nothing from another origin
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Referrer-Policy"] == "same-origin"


def test_per_client_rate_limit_on_loopback(cluster):
    """limit_req: a burst far past the allowance from one address gets 429s from nginx, a normal
    page load's worth does not, and the client is served again once the bucket refills."""

    def one(_):
        try:
            return get(cluster.url + "/_stcore/health", cookie="flood")[0]
        except urllib.error.HTTPError as e:
            return e.code
    time.sleep(5)             # a full bucket (burst 200 at 50 r/s) after the earlier tests
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        first = list(pool.map(one, range(40)))          # one page load's worth: all served
        flood = list(pool.map(one, range(700)))
    assert first.count(200) == 40
    assert flood.count(429) > 100 and set(flood) <= {200, 429}
    time.sleep(5)
    assert one(0) == 200


def test_sigkill_one_replica_others_serve_it_restarts_and_rejoins(cluster):
    """SIGKILL one replica mid-run: the other replica's websocket and requests carry on, the dead
    one's visitors are answered by the live one at once (next upstream), the supervisor restarts
    it with a new pid, and once nginx's fail_timeout has passed its visitors are back on it."""

    by_replica = cookies_by_replica(cluster)
    (dead_addr, dead_cookie), (live_addr, live_cookie) = sorted(by_replica.items())
    idx = [u.removeprefix("http://") for u in cluster.replica_urls].index(dead_addr)
    old_pid = cluster.replica_pids[idx]
    stack = contextlib.ExitStack()
    ws = stack.enter_context(wsc.connect(cluster.url.replace("http://", "ws://") + "/_stcore/stream",
                                         additional_headers={"Cookie": f"atlas_replica={live_cookie}"},
                                         subprotocols=["streamlit"], open_timeout=10, proxy=None))
    live_errors, stop = [], threading.Event()

    def poll_live():
        while not stop.is_set():
            try:
                status, headers, _ = get(cluster.url + "/_stcore/health", cookie=live_cookie)
                if status != 200 or last_replica(headers) != live_addr:
                    live_errors.append((status, headers["X-Atlas-Replica"]))
            except OSError as e:
                live_errors.append(repr(e))
            time.sleep(0.1)
    poller = threading.Thread(target=poll_live)
    poller.start()
    try:
        t0 = time.monotonic()
        os.kill(old_pid, signal.SIGKILL)
        status, headers, _ = get(cluster.url + "/_stcore/health", cookie=dead_cookie)
        t_served = time.monotonic() - t0
        assert status == 200 and last_replica(headers) == live_addr
        while cluster.replica_pids[idx] == old_pid or not cluster.healthy(idx):
            assert time.monotonic() - t0 < 120, cluster.replicas[idx].events
            time.sleep(0.2)
        t_restarted = time.monotonic() - t0
        while last_replica(get(cluster.url + "/_stcore/health", cookie=dead_cookie)[1]) != dead_addr:
            assert time.monotonic() - t0 < 150, "the restarted replica never got its visitors back"
            time.sleep(0.5)
        t_rejoined = time.monotonic() - t0
        ws.ping().wait(5)                 # the live replica's session never noticed
    finally:
        stop.set()
        poller.join()
        stack.close()
    assert live_errors == []
    assert cluster.replicas[idx].restarts == 1 and cluster.nginx.poll() is None
    print(f"\n[fault] dead replica's visitor served by the other in {t_served:.2f} s; restarted and healthy "
          f"after {t_restarted:.1f} s; rejoined (nginx routes its visitors back) after {t_rejoined:.1f} s")


@pytest.mark.parametrize("where", ["file-in-the-way", "read-only-fs"])
def test_unusable_cache_dir_stops_start_up_with_one_clear_line(tmp_path, where):
    """A cache folder that cannot be created: `python -m deploy.serve` exits 2 with one line
    naming the folder, no traceback, before Streamlit starts."""
    if where == "file-in-the-way":
        (tmp_path / "blocker").write_text("x")
        folder = tmp_path / "blocker" / "cache"
    else:
        folder = Path("/proc/atlas-cache")              # /proc refuses new folders, even to root
    env = {**os.environ, "ATLAS_CACHE_DIR": str(folder), "ATLAS_WARM": "0"}
    out = subprocess.run([sys.executable, "-m", "deploy.serve", "--server.port", "1"], env=env,
                         capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert f"cache folder {folder} cannot be used" in out.stderr and "ATLAS_CACHE_DIR" in out.stderr


def test_full_disk_cache_dir_is_named_at_start_up(tmp_path, monkeypatch, capsys):
    """The folder exists but a write fails with ENOSPC (disk full): the same one-line stop."""
    import errno
    from deploy.serve import check_cache_or_exit
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(tmp_path))

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(SystemExit) as stop:
        check_cache_or_exit()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"cache folder {tmp_path} cannot be used (No space left on device)" in err
    assert list(tmp_path.iterdir()) == []


def console_errors(b, url: str) -> tuple[list[str], list[str], int]:
    """Open ``url`` in Chromium; return (console errors, CSP violations, svg elements drawn in iframes)."""
    from tests.browser_util import wait_for_page
    page = b.new_page()
    errors, violations = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script("""document.addEventListener('securitypolicyviolation',
        e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI), true);""")
    page.goto(url)
    wait_for_page(page, need_content=False)
    svgs = 0
    for _ in range(15):                         # iframes (bertviz) draw after the script run
        page.wait_for_timeout(2000)
        svgs = sum(f.locator("svg").count() for f in page.frames[1:])
        if svgs or "bertviz" not in url:
            break
    page.close()
    violations = [e for e in errors if "Content Security Policy" in e or "CSP violation" in e]
    return errors, violations, svgs


def test_csp_tolerated_by_streamlits_frontend_in_chromium(cluster):
    """Through nginx (with the CSP) home and attention with bertviz's iframe draw as they do on a
    replica directly (no CSP): no CSP violation, no more console errors, bertviz's SVG drawn."""
    from tests.browser_util import CHROMIUM, browser
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    with browser() as b:
        for path in ("/", "/attention?bertviz=head"):
            direct, _, direct_svgs = console_errors(b, cluster.replica_urls[0] + path)
            proxied, violations, svgs = console_errors(b, cluster.url + path)
            print(f"\n[csp] {path}: {len(proxied)} console errors via nginx (CSP), {len(direct)} direct; "
                  f"{len(violations)} CSP violations; iframe svg {svgs} vs {direct_svgs}")
            assert violations == []
            assert len(proxied) <= len(direct), proxied
        assert "bertviz" in path and svgs > 0 and direct_svgs > 0      # bertviz drew under the CSP
