"""Attention rollout (Abnar & Zuidema 2020, "Quantifying attention flow in transformers"), one
implementation for text and ViT.

Each layer's heads are fused (mean, or max as in vit-explain), the residual path is added as
``residual * I + (1 - residual) * A``, rows are renormalised, and layers are multiplied:
R_l = A'_l ... A'_1. Row q of R_L says how much of the last layer's output at q traces back to each
input token. It needs every layer's full map, so callers cap the length.

Shapes: each layer's map is (head, q_pos, k_pos); the result is (q_pos, k_pos), or
(layer, q_pos, k_pos) with ``cumulative=True``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from core.runtime.errors import InputError

FUSIONS = ("mean", "max")


@torch.inference_mode()
def rollout(layer_maps: Iterable, *, head_fusion: str = "mean", residual: float = 0.5,
            cumulative: bool = False, n_layers: int | None = None,
            progress: Callable[[float, str], None] | None = None) -> np.ndarray:
    """Roll attention out through ``layer_maps`` (an iterable of (head, q_pos, k_pos) tensors or
    arrays, first layer first). ``n_layers`` only labels the progress callback."""
    if head_fusion not in FUSIONS:
        raise InputError(f"head_fusion must be one of {', '.join(FUSIONS)}; got {head_fusion!r}")
    roll, out = None, []
    for i, a in enumerate(layer_maps):
        a = torch.as_tensor(a).double()
        fused = a.mean(0) if head_fusion == "mean" else a.amax(0)          # (q_pos, k_pos)
        eye = torch.eye(fused.shape[-1], dtype=fused.dtype, device=fused.device)
        step = residual * eye + (1 - residual) * fused
        step = step / step.sum(-1, keepdim=True)
        roll = step if roll is None else step @ roll
        if cumulative:
            out.append(roll.cpu().numpy())
        if progress:
            progress((i + 1) / (n_layers or i + 1), f"layer {i + 1}" + (f" of {n_layers}" if n_layers else ""))
    if roll is None:
        raise InputError("Rollout needs at least one layer.")
    return np.stack(out) if cumulative else roll.cpu().numpy()
