"""The attention sink and the massive activation behind it, measured on one forward pass.

Many heads park most of their weight on the first token whatever it says: an "attention sink"
(Xiao et al. 2023, "Efficient Streaming Language Models with Attention Sinks", arXiv:2309.17453).
Softmax rows must sum to 1, so a head with nothing to look for needs somewhere harmless to put its
weight; the first token, visible to every query, becomes that place during training. Sun et al.
2024 ("Massive Activations in Large Language Models", arXiv:2402.17762) found the mechanism: a
few residual-stream coordinates of that token grow thousands of times larger than usual after
the first layers, which makes its key attract every query while its value carries little.

Shapes: hidden states are (pos, d_model) per layer; norms are (layer, pos).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.runtime import models


@dataclass(frozen=True)
class SinkProfile:
    norms: np.ndarray          # (layer, pos) L2 norm of the residual stream entering each layer
    peak_layer: int            # layer where token 0's norm is largest
    peak_norm: float           # that norm
    others_median: float       # median norm of the other tokens at that layer

    @property
    def ratio(self) -> float:
        return self.peak_norm / max(self.others_median, 1e-12)


@torch.inference_mode()
def profile(result: models.RunResult) -> SinkProfile:
    """Residual-stream norms of every token entering every layer (the final-norm output excluded)."""
    norms = torch.stack([h.float().norm(dim=-1) for h in result.hidden_states[:-1]]).cpu().numpy()
    peak = int(norms[:, 0].argmax())
    others = float(np.median(norms[peak, 1:])) if norms.shape[1] > 1 else float("nan")
    return SinkProfile(norms, peak, float(norms[peak, 0]), others)


def discount_first(weights: np.ndarray) -> np.ndarray:
    """Rows renormalised over keys 1.. (token 0 dropped): where the rest of the weight goes.
    Row 0 (which can only see token 0) becomes all zeros."""
    rest = np.asarray(weights, dtype=np.float64)[:, 1:]
    total = rest.sum(-1, keepdims=True)
    out = np.zeros_like(np.asarray(weights, dtype=np.float64))
    out[:, 1:] = np.divide(rest, total, out=np.zeros_like(rest), where=total > 0)
    return out
