"""Scale-out: two replicas behind nginx on loopback. Through the proxy: health, the app's HTML,
a websocket upgrade to /_stcore/stream, cookie stickiness (HTTP and websocket on one replica),
spreading of new visitors over both replicas, and that everything is stopped afterwards."""
import asyncio
import urllib.request

import psutil
import pytest

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
