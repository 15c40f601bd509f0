"""Linearised attention: the O(n) forms equal their O(n^2) references, causal prefix sums included."""
import pytest
import torch

from core.efficiency import linear as la


@pytest.mark.parametrize("name", la.FEATURE_MAPS)
@pytest.mark.parametrize("causal", [False, True])
def test_linear_equals_quadratic_reference(name, causal):
    q, k, v = la._qkv(300, 32, seed=3, spread=0.5)
    phi = la.feature_map(name, 32)
    fast = la.linear_attention(q, k, v, phi, causal, chunk=64)     # 300 is not a multiple of 64
    ref = la.kernel_attention_quadratic(q, k, v, phi, causal)
    assert (fast - ref).abs().max() < 1e-4


def test_causal_first_position_reads_only_itself():
    q, k, v = la._qkv(16, 8, seed=0)
    out = la.linear_attention(q, k, v, la.elu_plus_one(8), causal=True)
    assert torch.allclose(out[0], v[0], atol=1e-5)


def test_performer_error_shrinks_with_features():
    rows = la.approximation_error(256, 32, n_features=(8, 1024), spread=0.5)
    err = {r["features"]: r["weights relative error"] for r in rows if r["feature map"] == "performer"}
    assert err[1024] < err[8] / 2
    assert all(r["output relative error"] > 0 for r in rows)


def test_performer_estimates_softmax_kernel():
    torch.manual_seed(0)
    q, k = 0.3 * torch.randn(4, 16), 0.3 * torch.randn(4, 16)
    phi = la.performer(16, 8192, seed=1)
    est = la.kernel_attention_quadratic(q, k, torch.eye(4), phi)
    exact = torch.softmax(q @ k.T / 4, -1)
    assert (est - exact).abs().max() < 0.05


def test_time_vs_length_rows():
    rows = la.time_vs_length((64, 128), d_head=16, n_features=32, repeat=1)
    assert [r["tokens"] for r in rows] == [64, 128]
    assert all(v > 0 for r in rows for v in r.values())
