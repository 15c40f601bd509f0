"""Sparse attention inside real models.

``apply_to_model``: a pattern from ``core.efficiency.patterns`` applied to one head of a real
causal model, through its adapter: the layer is recomputed functionally from the stored hidden
state with that head's mask replaced, then the later layers run unchanged, so the next-token
distribution can be compared with the dense one. No hooks; the shared model is never modified.

``model_pattern``: the sparsity a real model ships. Gemma 3 alternates 5 sliding-window layers
(each query sees its last 512 keys, itself included) with 1 global layer; the density of each
layer's real mask, per layer type and averaged over all layers, against dense causal attention.

Shape names: layer, head, q_pos, k_pos, vocab.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from core.attention import heads as attention
from core.runtime import models
from core.runtime.errors import InputError


@dataclass(frozen=True)
class ModelEffect:
    """One head of a real model under a sparse mask (intersected with the layer's own mask)."""
    tokens: list[str]
    layer: int
    head: int
    mass_kept: list[float]           # per query: softmax mass on keys the pattern keeps
    dense_weights: torch.Tensor      # (q_pos, k_pos) the head's real attention
    sparse_weights: torch.Tensor     # (q_pos, k_pos) renormalised over the kept keys
    probs_dense: torch.Tensor        # (vocab,) next-token distribution, recomputed unchanged
    probs_sparse: torch.Tensor       # (vocab,) with this head sparse at this layer
    kl: float                        # KL(dense || sparse) in nats

    @property
    def mean_mass_kept(self) -> float:
        return sum(self.mass_kept) / len(self.mass_kept)


def _layer_then_rest(result: models.RunResult, layer: int, allowed: torch.Tensor) -> torch.Tensor:
    """Layer ``layer`` with per-head masks ``allowed`` (head, q_pos, k_pos), then the later layers
    unchanged; next-token probabilities after the last position (vocab,)."""
    ad = result.adapter
    h = ad.block(result.hidden_states[layer], layer, allowed).out           # (pos, d_model)
    for later in range(layer + 1, ad.n_layers):
        h = ad.block(h, later).out
    return torch.softmax(ad.logits(h[-1:])[0].float(), dim=-1)


@torch.inference_mode()
def apply_to_model(result: models.RunResult, layer: int, head: int, mask: torch.Tensor) -> ModelEffect:
    """Apply ``mask`` (q_pos, k_pos) to one head of a causal model's real attention."""
    if not result.causal:
        raise InputError("Applying a pattern needs a causal model such as smollm2-135m or gemma3-270m.")
    n = result.n_tokens
    if mask.shape != (n, n):
        raise InputError(f"The mask is {tuple(mask.shape)} but the text has {n} tokens.")
    own = attention.mask_for(result, layer)                                 # causal (or windowed)
    keep = mask.to(own.device) & own                                        # (q_pos, k_pos)
    scores = attention.head_scores(result, layer, head)
    dense_w = attention.scores_to_weights(scores, own)
    sparse_w = attention.scores_to_weights(scores, keep)
    n_heads = result.adapter.layout.n_heads
    allowed = own.expand(n_heads, n, n).clone()                             # (head, q_pos, k_pos)
    p_dense = _layer_then_rest(result, layer, allowed)
    allowed[head] = keep
    p_sparse = _layer_then_rest(result, layer, allowed)
    kl = float((p_dense * (p_dense.clamp_min(1e-30).log() - p_sparse.clamp_min(1e-30).log())).sum())
    return ModelEffect(tokens=result.tokens, layer=layer, head=head,
                       mass_kept=(dense_w * keep).sum(-1).tolist(), dense_weights=dense_w.cpu(),
                       sparse_weights=sparse_w.cpu(), probs_dense=p_dense.cpu(),
                       probs_sparse=p_sparse.cpu(), kl=max(kl, 0.0))


def mask_density(allowed: torch.Tensor) -> float:
    """Fraction of the (q_pos, k_pos) pairs a mask keeps."""
    return float(allowed.float().mean())


@dataclass(frozen=True)
class ModelPattern:
    """The masks a real model applies at one length, layer by layer."""
    name: str
    n_tokens: int
    table: pd.DataFrame              # per layer: layer, layer_type, window, density, keys per query
    dense_causal: float              # density of plain causal attention at this length
    average: float                   # mean density over all layers (what the model computes)

    @property
    def saving(self) -> float:
        """Score pairs computed relative to dense causal attention in every layer."""
        return self.average / self.dense_causal

    def by_type(self) -> pd.DataFrame:
        return (self.table.groupby("layer_type", sort=False)
                .agg(layers=("layer", "count"), density=("density", "mean")).reset_index())


def model_pattern(name: str, n_tokens: int) -> ModelPattern:
    """Each layer's own mask density for a ``n_tokens``-token input (read from the adapter, the
    tensor the layer uses), without running the model."""
    lm = models.load(name)
    ad = lm.adapter
    if not ad.causal:
        raise InputError(f"{name} is bidirectional: every layer sees every key (density 1).")
    if n_tokens < 1:
        raise InputError("The length must be at least 1 token.")
    cap = getattr(lm.config, "max_position_embeddings", None)
    if cap and n_tokens > cap:
        raise InputError(f"{name} reads at most {cap:,} positions; {n_tokens:,} is over it.")
    rows = []
    for layer in range(ad.n_layers):
        w = ad.window(layer)
        # density in closed form from the mask's definition, checked against the tensor in tests
        kept = sum(min(q + 1, w) if w else q + 1 for q in range(n_tokens))
        rows.append({"layer": layer, "layer_type": ad.layer_type(layer), "window": w,
                     "density": kept / n_tokens ** 2, "keys per query (mean)": kept / n_tokens})
    table = pd.DataFrame(rows)
    dense = (n_tokens + 1) / (2 * n_tokens)
    return ModelPattern(name, n_tokens, table, dense, float(table["density"].mean()))
