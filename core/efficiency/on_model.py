"""Sparse attention inside real models.

``apply_to_model``: a pattern from ``core.efficiency.patterns`` applied to one head of a real
causal model, through its adapter: the layer is recomputed functionally from the stored hidden
state with that head's mask replaced, then the later layers run unchanged, so the next-token
distribution can be compared with the dense one. No hooks; the shared model is never modified.

``model_pattern``: the sparsity a real model ships. Gemma 3 (Gemma Team 2025) alternates 5
sliding-window layers (in the 270M, each query sees its last 512 keys, itself included: the
config's ``sliding_window``) with 1 global layer;
the density of each layer's real mask, per layer type and averaged over all layers, against dense
causal attention.

``band_heads``: one local and one global head of a real run side by side, with what each puts
beyond the local window (keys ``window`` or more positions back): exactly 0 in the local layer.

Shape names: layer, head, q_pos, k_pos, vocab.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from core.attention import heads as attention
from core.runtime import models
from core.runtime.adapters import GLOBAL, LOCAL
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
        """Per layer type: how many layers, their mean density and share of the causal pairs."""
        return (self.table.groupby("layer_type", sort=False)
                .agg(layers=("layer", "count"), density=("density", "mean"),
                     **{"share of causal pairs": ("share of causal pairs", "mean")}).reset_index())

    def summary(self) -> pd.DataFrame:
        """``by_type`` plus the model (mean over every layer) and dense causal attention."""
        n_layers = len(self.table)
        extra = pd.DataFrame([
            {"layer_type": f"model (mean of {n_layers} layers)", "layers": n_layers,
             "density": self.average, "share of causal pairs": self.saving},
            {"layer_type": "dense causal", "layers": n_layers, "density": self.dense_causal,
             "share of causal pairs": 1.0}])
        return pd.concat([self.by_type(), extra], ignore_index=True)


def kept_pairs(n_tokens: int, window: int | None) -> int:
    """Pairs a causal mask of ``n_tokens`` keeps, sliding-window or not: sum over queries q of
    min(q + 1, window), in closed form (a ramp of ``min(n, window)`` rows, then full-width rows)."""
    w = n_tokens if window is None else min(window, n_tokens)
    return w * (w + 1) // 2 + (n_tokens - w) * w


def model_pattern(name: str, n_tokens: int) -> ModelPattern:
    """Each layer's own mask density for a ``n_tokens``-token input (the adapter's window and
    layer type, the definition of the tensor the layer uses; tests compare with the tensor),
    without running the model."""
    lm = models.load(name)
    ad = lm.adapter
    if not ad.causal:
        raise InputError(f"{name} is bidirectional: every layer sees every key (density 1).")
    if n_tokens < 1:
        raise InputError("The length must be at least 1 token.")
    cap = getattr(lm.config, "max_position_embeddings", None)
    if cap and n_tokens > cap:
        raise InputError(f"{name} reads at most {cap:,} positions; {n_tokens:,} is over it.")
    layers = range(ad.n_layers)
    windows = [ad.window(layer) for layer in layers]
    kept = pd.Series([kept_pairs(n_tokens, w) for w in windows], dtype="float64")
    table = pd.DataFrame({"layer": list(layers), "layer_type": [ad.layer_type(layer) for layer in layers],
                          "window": pd.array(windows, dtype="Int64"), "density": kept / n_tokens ** 2,
                          "keys per query (mean)": kept / n_tokens})
    dense = kept_pairs(n_tokens, None) / n_tokens ** 2                   # (n + 1) / 2n
    table["share of causal pairs"] = table["density"] / dense
    return ModelPattern(name, n_tokens, table, dense, float(table["density"].mean()))


@dataclass(frozen=True)
class BandHeads:
    """One head in a local (sliding-window) layer and one in a global layer, same text and head
    index, and the attention each puts beyond the window: keys ``window`` or more positions back,
    the pairs the global layer's mask keeps and the local one's does not."""
    tokens: list[str]
    head: int
    local_layer: int
    global_layer: int
    window: int
    local: torch.Tensor              # (q_pos, k_pos) real weights, exact 0 outside the band
    global_: torch.Tensor            # (q_pos, k_pos) real weights, causal
    beyond_pairs: int                # (query, key) pairs beyond the window
    local_max_beyond: float          # largest local weight on any of those pairs
    local_beyond: torch.Tensor       # (q_pos,) local mass beyond the window per query
    global_beyond: torch.Tensor      # (q_pos,) global mass beyond the window per query

    @property
    def global_last_beyond(self) -> float:
        """Mass the global layer's last query puts on keys beyond the window."""
        return float(self.global_beyond[-1])

    @property
    def global_mean_beyond(self) -> float:
        """Mean over the queries that have keys beyond the window (q_pos >= window) of the global
        layer's mass on them."""
        return float(self.global_beyond[self.window:].mean()) if len(self.tokens) > self.window else 0.0

    @property
    def global_last_on_first(self) -> float:
        """Of that, the weight on the first key alone (often an attention sink)."""
        return float(self.global_[-1, 0])

    def rows(self) -> pd.DataFrame:
        """Per query: the mass each head puts beyond the window."""
        return pd.DataFrame({"q_pos": range(len(self.tokens)), "token": self.tokens,
                             f"layer {self.local_layer} mass beyond window": self.local_beyond.tolist(),
                             f"layer {self.global_layer} mass beyond window": self.global_beyond.tolist()})


@torch.inference_mode()
def band_heads(result: models.RunResult, local_layer: int, global_layer: int, head: int) -> BandHeads:
    """Real weights of ``head`` in a local and a global layer, from ``attention.head_weights``."""
    ad = result.adapter
    if ad.layer_type(local_layer) != LOCAL:
        raise InputError(f"Layer {local_layer} of {result.model_name} is {ad.layer_label(local_layer)}, "
                         "not a sliding-window layer.")
    if ad.layer_type(global_layer) != GLOBAL:
        raise InputError(f"Layer {global_layer} of {result.model_name} is {ad.layer_label(global_layer)}, "
                         "not a global layer.")
    # (q_pos, k_pos): pairs the global layer's own mask keeps and the local layer's does not
    beyond = attention.mask_for(result, global_layer) & ~attention.mask_for(result, local_layer)
    local = attention.head_weights(result, local_layer, head)
    global_ = attention.head_weights(result, global_layer, head)
    far_local = local * beyond                                                # (q_pos, k_pos)
    return BandHeads(tokens=result.tokens, head=head, local_layer=local_layer, global_layer=global_layer,
                     window=ad.window(local_layer), local=local.cpu(), global_=global_.cpu(),
                     beyond_pairs=int(beyond.sum()),
                     local_max_beyond=float(local[beyond].max()) if beyond.any() else 0.0,
                     local_beyond=far_local.sum(-1).cpu(), global_beyond=(global_ * beyond).sum(-1).cpu())
