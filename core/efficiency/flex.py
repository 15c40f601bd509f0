"""Sparse patterns executed and measured: flex_attention (block mask) against dense SDPA.

Both kernels get the same boolean mask from ``core.efficiency.patterns``: SDPA as ``attn_mask`` (the dense
reference, every (q_pos, k_pos) score computed), flex_attention (Dong et al. 2024, PyTorch
``torch.nn.attention.flex_attention``) through ``create_block_mask``, which skips the tiles
that hold no kept pair: 128 x 128 on CUDA (Triton's default), 32 x 32 on CPU, where smaller tiles
measured faster at 4,096 tokens (~7% density: 128 -> 280 ms, 64 -> 201 ms, 32 -> 164 ms, 16 -> 160 ms
with 2 threads; see bench/results/sparse.md). flex is compiled with ``torch.compile`` where that works; the
compiled kernel is cached per process and per sequence length (a new length recompiles,
seconds). Without compilation flex materialises the full score matrix, so uncompiled runs are
labelled as such and never reported as a speed-up.

Peak memory: CUDA's allocator peak on GPU; on CPU the torch profiler's allocation events
(cumulative bytes allocated during the call, inputs excluded).

Applying a pattern to a real model's head is ``core.efficiency.on_model``.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.runtime import limits
from core.efficiency import patterns as sparse
from core.runtime.device import get_device
from core.runtime.errors import InputError

HEADS, D_HEAD = 8, 64            # the synthetic attention layer measured (batch 1, fp32)
HOSTED_MAX_LEN = 1024


@dataclass(frozen=True)
class Measurement:
    seq_len: int
    density: float
    block_density: float
    ms_flex: float
    ms_dense: float
    peak_mib_flex: float
    peak_mib_dense: float
    max_abs_diff: float
    compiled: bool
    device: str

    @property
    def speedup(self) -> float:
        return self.ms_dense / self.ms_flex

    @property
    def ideal_speedup(self) -> float:
        return 1.0 / self.density


# --------------------------------------------------------------------------- budget

def budget_bytes(device: torch.device | None = None) -> int:
    """Memory the measurement may use: the dense reference is the one that grows as n^2."""
    device = device or get_device()
    if limits.hosted():
        return 256 * 2**20
    return 16 * 2**30 if device.type == "cuda" else 2 * 2**30


def dense_bytes_estimate(seq_len: int, heads: int = HEADS) -> int:
    """Worst case of the dense reference: fp32 scores for every head + the mask (bool and float)."""
    return heads * seq_len * seq_len * 4 + seq_len * seq_len * 5


def check_lengths(lengths: list[int], device: torch.device | None = None) -> None:
    """Refuse lengths beyond the memory budget (or the hosted cap), naming the budget."""
    budget = budget_bytes(device)
    for n in lengths:
        if limits.hosted() and n > HOSTED_MAX_LEN:
            raise InputError(f"Sequence length {n:,} is over the hosted demo's cap of "
                             f"{HOSTED_MAX_LEN:,} tokens for measurements.")
        need = dense_bytes_estimate(n)
        if need > budget:
            raise InputError(f"Sequence length {n:,} needs about {need / 2**30:.2f} GiB for the dense "
                             f"reference's scores, over the measurement budget of "
                             f"{budget / 2**30:.2f} GiB on this device. Choose a shorter length.")


# --------------------------------------------------------------------------- kernels

RECOMPILE_LIMIT = 64   # compiled kernels kept per process (one per length x pattern x tiling)


@functools.lru_cache(maxsize=1)
def _compiled_flex() -> tuple[Callable, bool]:
    """flex_attention compiled once per process (inductor caches one kernel per length)."""
    from torch.nn.attention.flex_attention import flex_attention
    try:
        return torch.compile(flex_attention, dynamic=False), True
    except Exception:                                   # noqa: BLE001 - no compiler: run eagerly
        return flex_attention, False


def call_compiled(q, k, v, block_mask) -> torch.Tensor:
    """The compiled kernel, or an exception. Dynamo silently falls back to eager (full score
    matrix) once a function has been recompiled ``recompile_limit`` times (8 by default), which
    would pass an eager run off as compiled; here hitting the limit raises instead."""
    fn, ok = _compiled_flex()
    if not ok:
        raise RuntimeError("torch.compile is unavailable here")
    with torch._dynamo.config.patch(recompile_limit=RECOMPILE_LIMIT, fail_on_recompile_limit_hit=True):
        return fn(q, k, v, block_mask=block_mask)


def tile_size(device: torch.device | None = None) -> int:
    """flex_attention's tile edge on this device (see the module docstring for the CPU figures)."""
    return 128 if (device or get_device()).type == "cuda" else 32


def block_mask_for(mask: torch.Tensor, device: torch.device, mod: Callable | None = None):
    """flex's BlockMask for a (q_pos, k_pos) bool tensor, tiled by ``tile_size(device)``.
    ``mod``: the same mask in closed form (``core.efficiency.patterns.mask_mod``); without it the mask_mod
    reads the tensor itself."""
    from torch.nn.attention.flex_attention import create_block_mask
    m = mask.to(device)
    n_q, n_k = m.shape

    def lookup(b, h, q_idx, kv_idx):
        return m[q_idx, kv_idx]

    return create_block_mask(mod or lookup, None, None, n_q, n_k, device=str(device),
                             BLOCK_SIZE=tile_size(device))


def run_flex(q, k, v, mask: torch.Tensor, compiled: bool = True,
             mod: Callable | None = None) -> tuple[torch.Tensor, bool]:
    """(batch, head, q_pos, d_head) each -> flex output, and whether it ran compiled."""
    from torch.nn.attention.flex_attention import flex_attention
    bm = block_mask_for(mask, q.device, mod)
    if compiled:
        try:
            return call_compiled(q, k, v, bm), True
        except Exception:                               # noqa: BLE001 - compile failed or limit hit
            pass
    return flex_attention(q, k, v, block_mask=bm), False


def run_dense(q, k, v, mask: torch.Tensor) -> torch.Tensor:
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask.to(q.device))


def _peak_mib(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                    if e.name() == "[memory]")
    cur = peak = 0
    for _, nbytes in events:
        cur += nbytes
        peak = max(peak, cur)
    return peak / 2**20


def _median_ms(fn: Callable[[], object], device: torch.device, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1e3


@torch.inference_mode()
def measure_one(mask: torch.Tensor, *, repeat: int = 3, seed: int = 0, compiled: bool = True,
                device: torch.device | None = None, mod: Callable | None = None) -> Measurement:
    """Time and peak memory of flex vs dense SDPA on random q, k, v under ``mask`` (``mod``: the
    same mask in closed form, see ``core.efficiency.patterns.mask_mod``)."""
    device = device or get_device()
    n = mask.shape[0]
    check_lengths([n], device)
    limits.checkpoint()
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(1, HEADS, n, D_HEAD, generator=gen).to(device) for _ in range(3))
    m = mask.to(device)
    out_flex, ok = run_flex(q, k, v, m, compiled, mod)    # warm-up (compiles on a new length)
    out_dense = run_dense(q, k, v, m)
    diff = float((out_flex - out_dense).abs().max())
    bm = block_mask_for(m, device, mod)
    from torch.nn.attention.flex_attention import flex_attention
    flex_call = (lambda: call_compiled(q, k, v, bm)) if ok else (lambda: flex_attention(q, k, v, block_mask=bm))
    dense_call = lambda: run_dense(q, k, v, m)
    return Measurement(
        seq_len=n, density=sparse.density(mask), block_density=sparse.block_density(mask, tile_size(device)),
        ms_flex=_median_ms(flex_call, device, repeat), ms_dense=_median_ms(dense_call, device, repeat),
        peak_mib_flex=_peak_mib(flex_call, device), peak_mib_dense=_peak_mib(dense_call, device),
        max_abs_diff=diff, compiled=ok, device=str(device))


def measure(pattern: str, params: dict, lengths: list[int], *, repeat: int = 3,
            progress: Callable[[int, int], None] | None = None) -> list[Measurement]:
    """Build ``pattern`` at each length and measure it; ``progress(i, n)`` after each length."""
    check_lengths(lengths)
    out = []
    for i, n in enumerate(lengths):
        limits.checkpoint()                           # a hosted run past its time budget stops here
        p = sparse.build(pattern, n, **params)
        out.append(measure_one(p.mask, repeat=repeat, mod=sparse.mask_mod(p)))
        if progress:
            progress(i + 1, len(lengths))
    return out


def as_rows(ms: list[Measurement]) -> list[dict]:
    """Table rows; the speed-up column is measured, the ideal one is 1/density."""
    return [{"tokens": m.seq_len, "density": round(m.density, 4), "tile density": round(m.block_density, 4),
             "flex ms": round(m.ms_flex, 2), "dense SDPA ms": round(m.ms_dense, 2),
             "measured speed-up": round(m.speedup, 2) if m.compiled else None,
             "ideal speed-up (1/density)": round(m.ideal_speedup, 2),
             "flex peak MiB": round(m.peak_mib_flex, 1), "dense peak MiB": round(m.peak_mib_dense, 1),
             "max |flex - dense|": f"{m.max_abs_diff:.1e}", "flex compiled": m.compiled, "device": m.device}
            for m in ms]


def fmt_speedup(m: Measurement) -> str:
    """Never claim a speed-up that was not measured with a compiled kernel."""
    if not m.compiled:
        return "not compiled here: flex ran eagerly (full matrix), so no speed-up is claimed"
    return f"{m.speedup:.2f}× measured (ideal {m.ideal_speedup:.1f}×)"
