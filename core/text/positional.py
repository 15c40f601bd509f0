"""Positional encodings: the sinusoidal table (Vaswani et al. 2017) and RoPE (Su et al. 2021)."""
from __future__ import annotations

import torch


def sinusoidal(n_pos: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """PE[p, 2i] = sin(p / base^(2i/d)), PE[p, 2i+1] = cos(p / base^(2i/d)). Shape (n_pos, d_model)."""
    if n_pos < 1 or d_model < 2 or d_model % 2:
        raise ValueError("need n_pos >= 1 and an even d_model >= 2")
    pos = torch.arange(n_pos, dtype=torch.float64)[:, None]                 # (pos, 1)
    inv = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d_model/2,)
    pe = torch.zeros(n_pos, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * inv)
    pe[:, 1::2] = torch.cos(pos * inv)
    return pe.float()


def rope_frequencies(d_head: int, base: float = 10000.0) -> torch.Tensor:
    """theta_i = base^(-2i/d_head) for each rotated pair i: (d_head/2,)."""
    return base ** (-torch.arange(0, d_head, 2, dtype=torch.float64) / d_head)


def rope_angles(n_pos: int, d_head: int, base: float = 10000.0) -> torch.Tensor:
    """Rotation angle p * theta_i of pair i at position p: (pos, d_head/2), in radians."""
    return torch.arange(n_pos, dtype=torch.float64)[:, None] * rope_frequencies(d_head, base)


def rope_settings(config) -> dict:
    """RoPE base and scaling read from a transformers config (v5 keeps them in rope_parameters)."""
    params = dict(getattr(config, "rope_parameters", None) or {})
    per_type = {k: v for k, v in params.items() if isinstance(v, dict)}   # Gemma 3: per layer type
    if per_type:
        params = per_type.get("full_attention") or next(iter(per_type.values()))
    base = params.get("rope_theta", getattr(config, "rope_theta", None))
    n_heads = config.num_attention_heads
    d_head = getattr(config, "head_dim", None) or config.hidden_size // n_heads
    return {"rope_theta": base, "rope_type": params.get("rope_type", "default"), "d_head": d_head,
            "max_position_embeddings": getattr(config, "max_position_embeddings", None),
            "rope_theta_by_layer_type": {k: v.get("rope_theta") for k, v in per_type.items()}}


# --------------------------------------------------------------------------- relative position

def pe_dot_offsets(d_model: int, max_offset: int, positions=(0, 10, 50), base: float = 10000.0) -> torch.Tensor:
    """PE(p) · PE(p + k) for k = 0..max_offset at each start p: (len(positions), max_offset + 1).

    sum_i sin(pw_i)sin((p+k)w_i) + cos(pw_i)cos((p+k)w_i) = sum_i cos(k w_i): the rows coincide,
    the dot product depends on the offset k only, and it is symmetric in k.
    """
    if max_offset < 0:
        raise ValueError("max_offset must be >= 0")
    pe = sinusoidal(max(positions) + max_offset + 1, d_model, base).double()   # (pos, d_model)
    ks = torch.arange(max_offset + 1)
    return torch.stack([pe[p] @ pe[p + ks].T for p in positions]).float()


def rotate_pairs(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """RoPE: rotate each pair (x[2i], x[2i+1]) of x at position p by angle p * theta_i.

    x: (pos, d_head), positions: (pos,). The paper pairs neighbouring dims; Hugging Face Llama
    pairs dim i with i + d_head/2 ("rotate_half"), the same rotation on permuted dims.
    """
    d_head = x.shape[-1]
    if d_head % 2:
        raise ValueError("RoPE needs an even d_head")
    ang = positions.double()[:, None] * rope_frequencies(d_head, base)[None, :]  # (pos, d_head/2)
    cos, sin = ang.cos(), ang.sin()
    x = x.double()
    even, odd = x[:, 0::2], x[:, 1::2]                                            # (pos, d_head/2)
    out = torch.empty_like(x)
    out[:, 0::2] = even * cos - odd * sin
    out[:, 1::2] = even * sin + odd * cos
    return out


def rope_scores(q: torch.Tensor, k: torch.Tensor, n_pos: int, base: float = 10000.0) -> torch.Tensor:
    """The same query q and key k (each (d_head,)) placed at every position: score[m, n] =
    R(m)q · R(n)k, shape (q_pos, k_pos). Every diagonal (fixed n - m) is constant."""
    pos = torch.arange(n_pos)
    rq = rotate_pairs(q.expand(n_pos, -1), pos, base)                            # (q_pos, d_head)
    rk = rotate_pairs(k.expand(n_pos, -1), pos, base)                            # (k_pos, d_head)
    return rq @ rk.T


def rope_offset_curve(q: torch.Tensor, k: torch.Tensor, max_offset: int, base: float = 10000.0,
                      starts=(0, 100, 1000)) -> torch.Tensor:
    """R(m)q · R(m+j)k against offset j = 0..max_offset for several starts m: (len(starts), j).

    Rows coincide (q·k depends only on j); how fast the curve decays and wiggles depends on base.
    """
    js = torch.arange(max_offset + 1)
    rows = []
    for m in starts:
        rq = rotate_pairs(q[None], torch.tensor([m]), base)                       # (1, d_head)
        rk = rotate_pairs(k.expand(len(js), -1), m + js, base)                     # (offset, d_head)
        rows.append((rq @ rk.T)[0])
    return torch.stack(rows)
