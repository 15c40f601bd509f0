"""Multi-head latent attention (MLA), DeepSeek-V2 style, beside MHA and GQA, with real caches.

Follows DeepSeek-AI 2024, "DeepSeek-V2" section 2.1 (eqs. 9-19):
  c_KV = RMSNorm(W_DKV h)                 (k_pos, d_c)       cached
  k_R  = RoPE(W_KR h)                     (k_pos, d_rope)    cached, shared by all heads
  k_C  = W_UK c_KV, v = W_UV c_KV         per head           recomputed, never cached
  q_C  = W_UQ h, q_R = RoPE(W_QR h)       per head
Two forward paths that give the same output:
- naive: up-project the cached c_KV into per-head K and V every step, then ordinary attention;
- absorbed: fold W_UK into the query (q_lat = q_C W_UK, scores = q_lat . c_KV + q_R . k_R) and
  W_UV into the output projection (W_OV = W_UV W_O per head), so attention runs on the latent.
The cache is the same for both: (d_c + d_rope) elements per token per layer. It grows with
every token -- linearly, like MHA's, with a much smaller constant.

Weights are random (seeded): this module demonstrates shapes, caches and timing, not a trained
model. Shapes: (batch, head, q_pos | k_pos, d_*); caches (batch, k_pos, d_*).

Which path is faster per decode step (one query per sequence) is a trade that
core.efficiency.mla_tradeoff counts and measures: naive pays per cached token per sequence (it decompresses b x k_pos latents
into h x (d_nope + d_v) numbers each step); absorbed pays per step a fixed cost on the latent width
(q_C W_UK per head, and W_OV, d_c / d_v times the size of W_O) and runs its scores and weighted sum at
width d_c per head instead of d_nope / d_v.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.runtime.device import get_device
from core.efficiency.kv_config import KVConfig

KINDS = ("MHA", "GQA", "MLA naive", "MLA absorbed")


@dataclass(frozen=True)
class MLAConfig:
    d_model: int = 1024
    n_heads: int = 8
    d_nope: int = 64          # qk_nope_head_dim
    d_rope: int = 32          # qk_rope_head_dim, d_h^R
    d_v: int = 64             # v_head_dim (also d_head of the MHA/GQA baselines)
    d_c: int = 256            # kv_lora_rank
    gqa_groups: int = 4       # query heads per KV head in the GQA baseline
    n_layers: int = 2
    rope_theta: float = 10000.0


PRESETS = {
    "small (fast)": MLAConfig(),
    "DeepSeek-V2-Lite shapes": MLAConfig(d_model=2048, n_heads=16, d_nope=128, d_rope=64, d_v=128,
                                         d_c=512, gqa_groups=4, n_layers=2),
}


def rope(x: torch.Tensor, pos: torch.Tensor, theta: float) -> torch.Tensor:
    """Rotate-half RoPE on the last dim of x (..., q_pos, d) at positions pos (q_pos,)."""
    d = x.shape[-1]
    inv = theta ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)   # (d/2,)
    ang = pos.to(torch.float32)[:, None] * inv[None]                                  # (q_pos, d/2)
    cos, sin = torch.cat([ang.cos()] * 2, -1).to(x.dtype), torch.cat([ang.sin()] * 2, -1).to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def _attend(scores: torch.Tensor, q_pos: torch.Tensor, k_len: int) -> torch.Tensor:
    """Causal softmax over k_pos: key j is visible to the query at position p when j <= p."""
    allowed = torch.arange(k_len, device=scores.device)[None] <= q_pos[:, None]          # (q_pos, k_pos)
    return torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)


class MLAttention(nn.Module):
    """One MLA layer. ``forward(x, pos, cache, absorbed)`` appends to ``cache`` (a dict of tensors)."""

    def __init__(self, cfg: MLAConfig):
        super().__init__()
        h = cfg.n_heads
        self.cfg = cfg
        self.w_q = nn.Linear(cfg.d_model, h * (cfg.d_nope + cfg.d_rope), bias=False)   # W_UQ and W_QR
        self.w_dkv = nn.Linear(cfg.d_model, cfg.d_c, bias=False)                      # W_DKV
        self.w_kr = nn.Linear(cfg.d_model, cfg.d_rope, bias=False)                    # W_KR
        self.w_uk = nn.Linear(cfg.d_c, h * cfg.d_nope, bias=False)                    # W_UK
        self.w_uv = nn.Linear(cfg.d_c, h * cfg.d_v, bias=False)                       # W_UV
        self.w_o = nn.Linear(h * cfg.d_v, cfg.d_model, bias=False)                    # W_O
        self.scale = (cfg.d_nope + cfg.d_rope) ** -0.5

    def absorbed_weights(self) -> dict[str, torch.Tensor]:
        """W_UK per head (head, d_nope, d_c) and W_OV = W_UV_h then W_O_h (head, d_c, d_model)."""
        c = self.cfg
        w_uk = self.w_uk.weight.view(c.n_heads, c.d_nope, c.d_c)
        w_uv = self.w_uv.weight.view(c.n_heads, c.d_v, c.d_c)
        w_o = self.w_o.weight.view(c.d_model, c.n_heads, c.d_v).permute(1, 2, 0)      # (head, d_v, d_model)
        return {"w_uk": w_uk, "w_ov": w_uv.transpose(1, 2) @ w_o}

    def forward(self, x: torch.Tensor, pos: torch.Tensor, cache: dict, absorbed: bool = False,
                folded: dict | None = None) -> torch.Tensor:
        c = self.cfg
        b, n = x.shape[:2]                                                             # x: (batch, pos, d_model)
        q = self.w_q(x).view(b, n, c.n_heads, c.d_nope + c.d_rope).transpose(1, 2)    # (batch, head, q_pos, d_q)
        q_c, q_r = q[..., : c.d_nope], rope(q[..., c.d_nope:], pos, c.rope_theta)
        c_kv = F.rms_norm(self.w_dkv(x), (c.d_c,))                                     # (batch, q_pos, d_c)
        k_r = rope(self.w_kr(x), pos, c.rope_theta)                                    # (batch, q_pos, d_rope)
        cache["c_kv"] = torch.cat([cache["c_kv"], c_kv], 1) if "c_kv" in cache else c_kv
        cache["k_rope"] = torch.cat([cache["k_rope"], k_r], 1) if "k_rope" in cache else k_r
        c_all, kr_all = cache["c_kv"], cache["k_rope"]                                 # (batch, k_pos, d_c | d_rope)
        s = c_all.shape[1]

        def per_head(a, keys):          # heads folded into the query axis: one bmm over the shared keys, no copy
            return (a.reshape(b, c.n_heads * n, -1) @ keys.transpose(1, 2)).view(b, c.n_heads, n, s)

        rope_scores = per_head(q_r, kr_all)                                            # (batch, head, q_pos, k_pos)
        if not absorbed:
            k_c = self.w_uk(c_all).view(b, s, c.n_heads, c.d_nope).transpose(1, 2)    # (batch, head, k_pos, d_nope)
            v = self.w_uv(c_all).view(b, s, c.n_heads, c.d_v).transpose(1, 2)        # (batch, head, k_pos, d_v)
            p = _attend((q_c @ k_c.transpose(2, 3) + rope_scores) * self.scale, pos, s)
            o = (p @ v).transpose(1, 2).reshape(b, n, c.n_heads * c.d_v)              # (batch, q_pos, head*d_v)
            return self.w_o(o)
        w = folded or self.absorbed_weights()
        q_lat = torch.einsum("bhqe,hec->bhqc", q_c, w["w_uk"])                          # (batch, head, q_pos, d_c)
        p = _attend((per_head(q_lat, c_all) + rope_scores) * self.scale, pos, s)
        o_lat = (p.reshape(b, c.n_heads * n, s) @ c_all).view(b, c.n_heads, n, c.d_c)  # (batch, head, q_pos, d_c)
        o_lat = o_lat.transpose(1, 2).reshape(b, n, c.n_heads * c.d_c)                 # (batch, q_pos, head*d_c)
        return o_lat @ w["w_ov"].reshape(c.n_heads * c.d_c, c.d_model)                 # (batch, pos, d_model)


class KVAttention(nn.Module):
    """MHA (n_kv_heads = n_heads) or GQA: caches post-RoPE K and V per KV head."""

    def __init__(self, cfg: MLAConfig, n_kv_heads: int):
        super().__init__()
        self.cfg, self.n_kv, d = cfg, n_kv_heads, cfg.d_v
        self.w_q = nn.Linear(cfg.d_model, cfg.n_heads * d, bias=False)
        self.w_k = nn.Linear(cfg.d_model, n_kv_heads * d, bias=False)
        self.w_v = nn.Linear(cfg.d_model, n_kv_heads * d, bias=False)
        self.w_o = nn.Linear(cfg.n_heads * d, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, cache: dict, **_) -> torch.Tensor:
        c, d, (b, n) = self.cfg, self.cfg.d_v, x.shape[:2]                              # x: (batch, pos, d_model)
        q = rope(self.w_q(x).view(b, n, c.n_heads, d).transpose(1, 2), pos, c.rope_theta)  # (batch, head, q_pos, d)
        k = rope(self.w_k(x).view(b, n, self.n_kv, d).transpose(1, 2), pos, c.rope_theta)  # (batch, kv_head, q_pos, d)
        v = self.w_v(x).view(b, n, self.n_kv, d).transpose(1, 2)
        cache["k"] = torch.cat([cache["k"], k], 2) if "k" in cache else k
        cache["v"] = torch.cat([cache["v"], v], 2) if "v" in cache else v
        g = c.n_heads // self.n_kv
        s = cache["k"].shape[2]
        qg = q.reshape(b, self.n_kv, g * n, d)                                         # query heads grouped by KV head
        scores = (qg @ cache["k"].transpose(2, 3)).view(b, c.n_heads, n, s)            # one bmm per KV head, no copy of K
        p = _attend(scores * d ** -0.5, pos, s).view(b, self.n_kv, g * n, s)
        o = (p @ cache["v"]).view(b, c.n_heads, n, d)                                  # (batch, head, q_pos, d)
        return self.w_o(o.transpose(1, 2).reshape(b, n, c.n_heads * d))


def build_stack(kind: str, cfg: MLAConfig, seed: int = 0, device=None, dtype=torch.float32) -> nn.ModuleList:
    """``n_layers`` attention layers of one kind, random weights from ``seed`` (same seed, same
    MLA weights for the naive and absorbed paths)."""
    torch.manual_seed(seed)
    if kind.startswith("MLA"):
        layers = [MLAttention(cfg) for _ in range(cfg.n_layers)]
    else:
        n_kv = cfg.n_heads if kind == "MHA" else max(1, cfg.n_heads // cfg.gqa_groups)
        layers = [KVAttention(cfg, n_kv) for _ in range(cfg.n_layers)]
    return nn.ModuleList(layers).to(device or get_device(), dtype).eval().requires_grad_(False)


def kv_config(kind: str, cfg: MLAConfig) -> KVConfig:
    """The core.efficiency.kv_config config describing this stack's cache (for the formula)."""
    if kind.startswith("MLA"):
        return KVConfig(kind, cfg.n_layers, cfg.n_heads, cfg.n_heads, cfg.d_nope + cfg.d_rope, cfg.d_model,
                        kv_lora_rank=cfg.d_c, qk_rope_head_dim=cfg.d_rope, qk_nope_head_dim=cfg.d_nope,
                        v_head_dim=cfg.d_v, source="core.efficiency.mla random-weight stack")
    n_kv = cfg.n_heads if kind == "MHA" else max(1, cfg.n_heads // cfg.gqa_groups)
    return KVConfig(kind, cfg.n_layers, cfg.n_heads, n_kv, cfg.d_v, cfg.d_model, source="core.efficiency.mla random-weight stack")


def allocated_bytes(caches: list[dict]) -> int:
    """Bytes of the cache tensors actually held: sum of numel x element_size."""
    return sum(t.numel() * t.element_size() for cache in caches for t in cache.values())


@dataclass(frozen=True)
class DecodeRun:
    kind: str
    batch: int
    seq_lens: list[int]          # cache length after the prefill and after each decode step
    cache_bytes: list[int]       # measured at each of those lengths (all sequences of the batch)
    ms_per_token: float          # median decode step (all layers, the whole batch), milliseconds
    outputs: torch.Tensor        # (batch, new_tokens, d_model) last layer's output at each decode step
    bytes_per_element: int


def timed(fn, device) -> tuple[object, float]:
    """(fn(), seconds), synchronising a GPU around it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - t0


def median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2] if xs else float("nan")


def stepper(stack: nn.ModuleList, caches: list[dict], absorbed: bool):
    """One pass through the residual stack (x <- x + attn(x)), appending to ``caches``."""
    folded = [layer.absorbed_weights() for layer in stack] if absorbed else [None] * len(stack)

    def step(x, pos):
        for layer, cache, f in zip(stack, caches, folded):
            x = x + layer(x, pos, cache, absorbed=absorbed, folded=f)
        return x
    return step


@torch.inference_mode()
def decode(kind: str, cfg: MLAConfig, prompt_len: int = 128, new_tokens: int = 32, seed: int = 0,
           dtype=torch.float32, device=None, batch: int = 1) -> DecodeRun:
    """Prefill ``prompt_len`` random hidden states for each of ``batch`` sequences, then decode
    ``new_tokens`` one at a time (one query per sequence per step).

    Inputs come from ``seed``, so every kind sees the same sequences. The layers are stacked
    residually (x <- x + attn(x)); no MLP, norms or vocabulary: the cache is the point. Caches
    grow by ``torch.cat`` each step, as Hugging Face's DynamicCache does, so the step time includes
    that copy (proportional to the cache size).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    device = device or get_device()
    stack = build_stack(kind, cfg, seed, device, dtype)
    gen = torch.Generator().manual_seed(seed + 1)
    xs = torch.randn(batch, prompt_len + new_tokens, cfg.d_model, generator=gen).to(device, dtype)
    caches: list[dict] = [{} for _ in stack]
    step = stepper(stack, caches, kind == "MLA absorbed")
    step(xs[:, :prompt_len], torch.arange(prompt_len, device=device))
    lens, sizes, times, outs = [prompt_len], [allocated_bytes(caches)], [], []
    for t in range(prompt_len, prompt_len + new_tokens):
        out, sec = timed(lambda: step(xs[:, t:t + 1], torch.tensor([t], device=device)), device)
        outs.append(out[:, 0])
        times.append(sec)
        lens.append(t + 1)
        sizes.append(allocated_bytes(caches))
    return DecodeRun(kind, batch, lens, sizes, median(times) * 1e3,
                     torch.stack(outs, 1).float().cpu() if outs else torch.empty(0),
                     torch.empty(0, dtype=dtype).element_size())
