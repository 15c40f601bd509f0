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
    base = params.get("rope_theta", getattr(config, "rope_theta", None))
    n_heads = config.num_attention_heads
    d_head = getattr(config, "head_dim", None) or config.hidden_size // n_heads
    return {"rope_theta": base, "rope_type": params.get("rope_type", "default"), "d_head": d_head,
            "max_position_embeddings": getattr(config, "max_position_embeddings", None)}
