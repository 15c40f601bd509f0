"""deploy/k8s/ cannot run here; parse the manifests and assert what a hosted demo relies on: hosted
mode, probes on Streamlit's health endpoint, requests and limits, an init container filling the
model cache, nothing privileged, cookie affinity and websocket timeouts on the Ingress, and a
Service that selects the pods and reaches their port."""
from pathlib import Path

import pytest
import yaml

K8S = Path(__file__).resolve().parent.parent / "deploy" / "k8s"


def docs() -> dict[str, dict]:
    out = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            out[doc["kind"]] = doc
    return out


@pytest.fixture(scope="module")
def m():
    return docs()


def pod(m):
    return m["Deployment"]["spec"]["template"]["spec"]


def env_of(container) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_kinds(m):
    assert {"Deployment", "Service", "Ingress", "Secret"} <= set(m)


def test_hosted_mode_probes_and_resources(m):
    (app,) = pod(m)["containers"]
    assert env_of(app)["ATLAS_HOSTED"] == "1" and env_of(app)["HF_HUB_OFFLINE"] == "1"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = app[probe]["httpGet"]
        assert get["path"] == "/_stcore/health" and get["port"] in ("http", 8501)
    port = app["ports"][0]
    assert port["containerPort"] == 8501 and "8501" in app["command"]
    for c in [app, *pod(m)["initContainers"]]:
        res = c["resources"]
        assert set(res["requests"]) >= {"cpu", "memory"} and set(res["limits"]) >= {"cpu", "memory"}


def test_init_container_fills_the_model_cache_volume(m):
    (init,) = pod(m)["initContainers"]
    (app,) = pod(m)["containers"]
    assert init["command"][-2:] == ["-m", "core.runtime.prepare"]
    cache = env_of(init)["ATLAS_CACHE_DIR"]
    assert env_of(app)["ATLAS_CACHE_DIR"] == cache
    mounts = lambda c: {v["name"]: v["mountPath"] for v in c["volumeMounts"]}   # noqa: E731
    assert mounts(init)["model-cache"] == mounts(app)["model-cache"] and cache.startswith(mounts(app)["model-cache"])
    assert "model-cache" in {v["name"] for v in pod(m)["volumes"]}


def test_nothing_privileged(m):
    spec = pod(m)
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    assert spec.get("hostNetwork") is not True and spec.get("hostPID") is not True
    for c in [*spec["containers"], *spec["initContainers"]]:
        sc = c["securityContext"]
        assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
        assert "ALL" in sc["capabilities"]["drop"] and not sc["capabilities"].get("add")
    assert all("hostPath" not in v for v in spec["volumes"])


def test_ingress_affinity_and_websocket_timeouts(m):
    ing = m["Ingress"]
    a = ing["metadata"]["annotations"]
    assert a["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(a[f"nginx.ingress.kubernetes.io/{key}"]) >= 3600      # an idle websocket is a live session
    assert ing["spec"]["ingressClassName"] == "nginx"
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == m["Service"]["metadata"]["name"]


def test_service_selects_the_pods(m):
    labels = m["Deployment"]["spec"]["template"]["metadata"]["labels"]
    svc = m["Service"]["spec"]
    assert svc["selector"].items() <= labels.items()
    assert m["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["ports"][0]["targetPort"] == "http"


def test_cookie_secret_shared_by_replicas(m):
    (app,) = pod(m)["containers"]
    ref = env_of(app)["STREAMLIT_SERVER_COOKIE_SECRET"]["secretKeyRef"]
    assert ref["name"] == m["Secret"]["metadata"]["name"] and ref["key"] in m["Secret"]["stringData"]


def test_containerfile_runs_the_make_set_up_unprivileged():
    text = (K8S.parent / "Containerfile").read_text()
    assert "make .venv/.atlas-deps vendor" in text and "USER 10001" in text and "ATLAS_HOSTED=1" in text
