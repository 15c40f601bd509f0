"""Linearised (kernel) attention: softmax(q k^T) v replaced by phi(q) (phi(k)^T v), O(n) in length.

Follows Katharopoulos et al. 2020, "Transformers are RNNs" (phi = elu + 1, causal variant by
prefix sums) and Choromanski et al. 2021, "Rethinking Attention with Performers" (positive
random features: E[phi(q) . phi(k)] = exp(q . k / sqrt(d_head))).

Shapes: q, k (q_pos | k_pos, d_head); v (k_pos, d_v); one head, batch folded by the caller.
``kernel_attention_quadratic`` is the O(n^2) reference the linear forms are tested against.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

FEATURE_MAPS = ("elu+1", "performer")


@dataclass(frozen=True)
class FeatureMap:
    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]    # (pos, d_head) -> (pos, d_feature)
    d_feature: int


def elu_plus_one(d_head: int) -> FeatureMap:
    """phi(x) = elu(x) + 1 > 0 (Katharopoulos et al. 2020). Not an approximation of softmax."""
    return FeatureMap("elu+1", lambda x: F.elu(x) + 1, d_head)


def performer(d_head: int, n_features: int = 256, seed: int = 0, orthogonal: bool = True) -> FeatureMap:
    """Positive random features (FAVOR+): phi(x) = exp(w x' - |x'|^2 / 2) / sqrt(m), x' = x / d^(1/4).

    phi(q) . phi(k) is an unbiased estimate of exp(q . k / sqrt(d_head)), the softmax kernel.
    """
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(n_features, d_head, generator=gen)                     # (m, d_head)
    if orthogonal:                                                         # orthogonal blocks, chi-norms
        blocks = []
        for start in range(0, n_features, d_head):
            g = torch.randn(d_head, d_head, generator=gen)
            qm, _ = torch.linalg.qr(g)
            blocks.append(qm.T[: min(d_head, n_features - start)])
        norms = torch.randn(n_features, d_head, generator=gen).norm(dim=1, keepdim=True)
        w = torch.cat(blocks) * norms
    scale = d_head ** -0.25

    def fn(x: torch.Tensor) -> torch.Tensor:
        xs = x * scale
        proj = xs @ w.to(x.device, x.dtype).T                              # (pos, m)
        sq = (xs * xs).sum(-1, keepdim=True) / 2
        stab = proj.max().detach()                                         # cancels in the ratio
        return torch.exp(proj - sq - stab) / math.sqrt(n_features)

    return FeatureMap("performer", fn, n_features)


def feature_map(name: str, d_head: int, **kw) -> FeatureMap:
    if name == "elu+1":
        return elu_plus_one(d_head)
    if name == "performer":
        return performer(d_head, **kw)
    raise ValueError(f"unknown feature map {name!r}; choose one of {', '.join(FEATURE_MAPS)}")


def linear_attention(q, k, v, phi: FeatureMap, causal: bool = False, chunk: int = 256) -> torch.Tensor:
    """O(n) attention: out_i = phi(q_i) S / phi(q_i) z with S = sum_j phi(k_j) v_j^T, z = sum_j phi(k_j).

    Causal: the sums run over j <= i only, by prefix sums, chunk by chunk so memory stays
    (chunk, d_feature, d_v) rather than (n, d_feature, d_v).
    """
    fq, fk = phi.fn(q), phi.fn(k)                                          # (pos, d_feature)
    if not causal:
        s = fk.T @ v                                                       # (d_feature, d_v)
        z = fk.sum(0)                                                      # (d_feature,)
        return (fq @ s) / (fq @ z)[:, None]
    n, d_v = v.shape
    s_run = torch.zeros(phi.d_feature, d_v, dtype=v.dtype, device=v.device)
    z_run = torch.zeros(phi.d_feature, dtype=v.dtype, device=v.device)
    out = torch.empty(n, d_v, dtype=v.dtype, device=v.device)
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        kv = fk[a:b, :, None] * v[a:b, None, :]                            # (chunk, d_feature, d_v)
        s_pre = s_run + kv.cumsum(0)                                       # prefix sums
        z_pre = z_run + fk[a:b].cumsum(0)                                  # (chunk, d_feature)
        num = torch.einsum("cf,cfv->cv", fq[a:b], s_pre)
        out[a:b] = num / (fq[a:b] * z_pre).sum(-1, keepdim=True)
        s_run, z_run = s_pre[-1], z_pre[-1]
    return out


def kernel_attention_quadratic(q, k, v, phi: FeatureMap, causal: bool = False) -> torch.Tensor:
    """Reference: A = phi(q) phi(k)^T (masked if causal), rows normalised, times v. O(n^2)."""
    a = phi.fn(q) @ phi.fn(k).T                                            # (q_pos, k_pos)
    if causal:
        a = a * torch.ones_like(a, dtype=torch.bool).tril()
    return (a / a.sum(-1, keepdim=True)) @ v


def softmax_attention(q, k, v, causal: bool = False) -> torch.Tensor:
    """Exact softmax attention through SDPA."""
    return F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=causal)[0]


def _qkv(n: int, d_head: int, seed: int, device=None, spread: float = 1.0):
    gen = torch.Generator().manual_seed(seed)
    return tuple((spread * torch.randn(n, d_head, generator=gen)).to(device) for _ in range(3))


@torch.inference_mode()
def approximation_error(n: int = 512, d_head: int = 64, n_features: tuple[int, ...] = (16, 64, 256, 1024),
                        causal: bool = False, seed: int = 0, spread: float = 1.0) -> list[dict]:
    """Error against exact softmax per feature map and size, on random q, k, v (scaled by ``spread``:
    sharper softmax, larger error). Weights error: ||A - softmax||_F / ||softmax||_F over the
    (q_pos, k_pos) matrix; output error: ||out - softmax out|| / ||softmax out||."""
    q, k, v = _qkv(n, d_head, seed, spread=spread)
    exact = softmax_attention(q, k, v, causal)
    scores = (q @ k.T) * d_head ** -0.5
    if causal:
        scores = scores.masked_fill(~torch.ones_like(scores, dtype=torch.bool).tril(), float("-inf"))
    w_exact = torch.softmax(scores, dim=-1)
    eye = torch.eye(n, dtype=q.dtype)
    maps = [elu_plus_one(d_head)] + [performer(d_head, m, seed) for m in n_features]
    rows = []
    for phi in maps:
        w = kernel_attention_quadratic(q, k, eye, phi, causal)             # rows of A, normalised
        out = linear_attention(q, k, v, phi, causal)
        rows.append({"feature map": phi.name, "features": phi.d_feature,
                     "weights relative error": float((w - w_exact).norm() / w_exact.norm()),
                     "output relative error": float((out - exact).norm() / exact.norm())})
    return rows


@torch.inference_mode()
def time_vs_length(lengths: tuple[int, ...] = (256, 512, 1024, 2048, 4096), d_head: int = 64,
                   n_features: int = 256, causal: bool = False, repeat: int = 3, device=None) -> list[dict]:
    """Median milliseconds of softmax attention vs the two linear forms at each length."""
    rows = []
    maps = {"elu+1": elu_plus_one(d_head), "performer": performer(d_head, n_features)}
    for n in lengths:
        q, k, v = _qkv(n, d_head, 0, device)
        row = {"tokens": n, "softmax (SDPA) ms": _ms(lambda: softmax_attention(q, k, v, causal), repeat)}
        for name, phi in maps.items():
            row[f"linear {name} ms"] = _ms(lambda: linear_attention(q, k, v, phi, causal), repeat)
        rows.append(row)
    return rows


def _ms(fn: Callable[[], object], repeat: int) -> float:
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    fn()
    times = []
    for _ in range(repeat):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1e3
