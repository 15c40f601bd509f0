"""Naive vs weight-absorbed MLA: which is faster per step, counted (multiply-adds) and measured.

One decode step gives each sequence one query. Naive MLA (core.efficiency.mla) decompresses every
cached latent into per-head keys and values each step: a cost per cached token per sequence.
Absorbed MLA skips that and pays instead a fixed cost per query on the latent width (q_C W_UK, and
W_OV, d_c / d_v times the size of W_O) and runs scores and the weighted sum at width d_c per head.
So absorbed wins once batch x context is large enough; naive wins for tiny caches and, by the
count, for prefill chunks, where many queries share one decompression. The folding itself is
DeepSeek-AI 2024, "DeepSeek-V2", arXiv:2405.04434, Sec. 2.1.2.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from core.efficiency import mla
from core.efficiency.mla import MLAConfig
from core.runtime.device import get_device


def step_macs(cfg: MLAConfig, batch: int, context: int, absorbed: bool, queries: int = 1) -> dict[str, int]:
    """Multiply-adds of one step of one MLA layer: ``queries`` new positions per sequence (1 when
    decoding, a chunk when prefilling) against the ``context`` positions already cached plus the new
    ones. Split into the part that does not depend on the cache ("fixed") and the part paid per
    cached token; projections shared by both paths (W_Q, W_DKV, W_KR) are left out, and so is the
    causal half inside a chunk.

    naive    fixed: W_O per query (head x d_v x d_model); per cached token: W_UK and W_UV decompress
             the latent once (d_c x head x (d_nope + d_v)), then scores and weighted sum per query
             (head x (d_nope + d_rope + d_v)).
    absorbed fixed: q_C W_UK and W_OV per query (head x d_c x (d_nope + d_model)); per cached token:
             scores and weighted sum on the latent per query (head x (d_c + d_rope + d_c)).
    """
    h, q = cfg.n_heads, queries
    if absorbed:
        fixed, per = q * h * cfg.d_c * (cfg.d_nope + cfg.d_model), q * h * (2 * cfg.d_c + cfg.d_rope)
    else:
        fixed = q * h * cfg.d_v * cfg.d_model
        per = cfg.d_c * h * (cfg.d_nope + cfg.d_v) + q * h * (cfg.d_nope + cfg.d_rope + cfg.d_v)
    keys = context + queries
    return {"fixed": batch * fixed, "per cached token": batch * keys * per, "total": batch * (fixed + keys * per)}


def macs_ratio(cfg: MLAConfig, batch: int, context: int, queries: int = 1) -> float:
    """Multiply-adds naive / absorbed: above 1, absorbed does less arithmetic."""
    return step_macs(cfg, batch, context, False, queries)["total"] / step_macs(cfg, batch, context, True, queries)["total"]


def macs_break_even(cfg: MLAConfig) -> float:
    """Keys (cached tokens + the new one) above which a decode step of absorbed needs fewer
    multiply-adds than naive's."""
    a, n = step_macs(cfg, 1, 0, True), step_macs(cfg, 1, 0, False)
    return (a["fixed"] - n["fixed"]) / (n["per cached token"] - a["per cached token"])


@torch.inference_mode()
def step_ms(cfg: MLAConfig, batch: int, context: int, steps: int = 5, queries: int = 1, seed: int = 0,
            dtype=torch.float32, device=None) -> dict[str, float]:
    """Median step time (ms, whole stack, whole batch) of naive and absorbed MLA, measured in the
    same run with steps interleaved (naive, absorbed, naive, ...) so load drift hits both alike.
    Each step appends ``queries`` positions per sequence: 1 is a decode step, more a prefill chunk.

    The cache starts at ``context`` positions per sequence, filled directly with RMS-normed random
    latents and random RoPE keys (a prefill of that length would need a (batch, head, context,
    context) score tensor and tell nothing more about one step). Both paths share the weights and
    start from the same cache; one warm-up step each is not counted.
    """
    device = device or get_device()
    stack = mla.build_stack("MLA naive", cfg, seed, device, dtype)
    gen = torch.Generator().manual_seed(seed + 1)
    start = [{"c_kv": F.rms_norm(torch.randn(batch, context, cfg.d_c, generator=gen), (cfg.d_c,)).to(device, dtype),
              "k_rope": torch.randn(batch, context, cfg.d_rope, generator=gen).to(device, dtype)} for _ in stack]
    xs = torch.randn(batch, queries, cfg.d_model, generator=gen).to(device, dtype)
    paths = {name: mla.stepper(stack, [dict(c) for c in start], name == "absorbed") for name in ("naive", "absorbed")}
    times: dict[str, list[float]] = {name: [] for name in paths}
    for t in range(steps + 1):
        pos = torch.arange(context + t * queries, context + (t + 1) * queries, device=device)
        for name, step in paths.items():
            _, sec = mla.timed(lambda: step(xs, pos), device)
            if t:
                times[name].append(sec)
    naive, absorbed = (mla.median(times[k]) * 1e3 for k in ("naive", "absorbed"))
    return {"batch": batch, "context": context, "queries": queries, "naive ms": naive, "absorbed ms": absorbed,
            "naive / absorbed": naive / absorbed, "MACs naive / absorbed": macs_ratio(cfg, batch, context, queries)}


def tradeoff(cfg: MLAConfig, batches: list[int], contexts: list[int], steps: int = 5, progress=None) -> list[dict]:
    """Decode ``step_ms`` over a batch x context grid, one row per cell (the multiply-add ratio beside
    the measured one); ``progress(fraction, message)`` after each cell."""
    rows, cells = [], [(b, s) for b in batches for s in contexts]
    for i, (b, s) in enumerate(cells):
        rows.append(step_ms(cfg, b, s, steps))
        if progress:
            progress((i + 1) / len(cells), f"batch {b}, {s:,} tokens ({i + 1}/{len(cells)})")
    return rows
